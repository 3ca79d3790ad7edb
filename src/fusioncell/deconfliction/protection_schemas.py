"""Request and response bodies of the registry, no-strike list, incident and early-warning
API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

RECEIPT = "An acknowledgement is receipt, never approval."


class ProposePlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    kind: str = Field(max_length=20)
    name: str = Field(max_length=1000)
    # An RFC 7946 Point (a site) or Polygon / MultiPolygon (a community).
    geometry: dict[str, Any]
    population: str | None = Field(default=None, max_length=1000)
    buffer_m: int | None = Field(default=None, ge=0)
    note: str = Field(default="", max_length=10_000)


class SignatureOut(BaseModel):
    organisation: str
    log_index: int
    signed_at: datetime


class PlaceOut(BaseModel):
    id: uuid.UUID
    kind: str
    name: str
    population: str | None
    geometry: dict[str, Any]
    buffer_m: int | None
    note: str
    proposed_by: str
    log_index: int
    proposed_at: datetime
    signatures: list[SignatureOut]
    # Whose signatures are still missing: every party and the supervisor sign.
    awaiting: list[str]
    # In force: both parties and the supervisor have signed.
    agreed: bool
    agreed_log_index: int | None
    agreed_at: datetime | None


class SendListsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The request's own id: a retry with it sends nothing more.
    id: uuid.UUID | None = None


class NoStrikeListOut(BaseModel):
    id: uuid.UUID
    party: str
    period: str
    places: int
    sha256: str
    log_index: int
    sent_at: datetime
    ack_due_at: datetime
    acknowledged: bool
    acknowledged_by: str | None
    ack_log_index: int | None
    acknowledged_at: datetime | None
    meaning: str = RECEIPT
    exports: dict[str, str]


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    size: int | None = Field(default=None, ge=0)


class ReportIncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    kind: str = Field(max_length=16)
    # site, community or movement; ``target`` is the place's id (the registry's, or the agreed
    # geometry's site id) or the movement's notification id.
    affects: str = Field(max_length=16)
    target: str = Field(max_length=100)
    occurred_at: AwareDatetime
    description: str = Field(max_length=20_000)
    # An RFC 7946 Point; the target's own place when not given.
    location: dict[str, Any] | None = None
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=1000)
    # A denial of access: the party that denied it, and whose access (convoy, verifier).
    attributed_to: str | None = Field(default=None, max_length=32)
    denied: str | None = Field(default=None, max_length=16)


class IncidentOut(BaseModel):
    id: uuid.UUID
    kind: str
    affects: str
    target: str
    target_name: str
    denied: str | None
    attributed_to: str | None
    reported_by: str
    location: dict[str, Any]
    occurred_at: datetime
    description: str
    evidence: list[dict[str, Any]]
    log_index: int
    reported_at: datetime
    # The early warnings the report raised (empty on a retry, and when none was near).
    alerts: list[uuid.UUID] = Field(default_factory=list)


class AlertRecipientOut(BaseModel):
    organisation: str
    party: bool
    acknowledged: bool
    acknowledged_at: datetime | None
    ack_log_index: int | None
    # Where the receipt was given: "alert" (acknowledged here) or "hotline" (a party's
    # acknowledgement of the hotline message that carried the alert); null until then.
    acknowledged_through: Literal["alert", "hotline"] | None = None


class AlertOut(BaseModel):
    id: uuid.UUID
    trigger: str
    source: str
    community: uuid.UUID
    community_name: str
    distance_m: float
    location: dict[str, Any]
    occurred_at: datetime
    precedence: str
    ack_deadline: datetime
    log_index: int
    raised_at: datetime
    recipients: list[AlertRecipientOut]
    meaning: str = RECEIPT
