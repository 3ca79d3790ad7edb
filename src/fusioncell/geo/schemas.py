"""Request and response bodies of the geometry API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

VersionStatus = Literal["awaiting-signatures", "in-force", "superseded"]


class ProposeVersionIn(BaseModel):
    """An RFC 7946 FeatureCollection (the area of separation, each party's line, sectors and
    protected sites; the limitation areas are derived) and its provenance."""

    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    collection: dict[str, Any]
    authoritative: StrictBool = False
    # Where the geometry comes from: an agreement's annex, a map sheet, a survey.
    source: str = Field(max_length=2000)


class SignVersionIn(BaseModel):
    """The content hash the signatory signs: it must be the version's."""

    model_config = ConfigDict(extra="forbid")
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class SignatureOut(BaseModel):
    organisation: str
    member: uuid.UUID
    content_hash: str
    log_index: int
    signed_at: datetime


class VersionOut(BaseModel):
    id: uuid.UUID
    number: int
    content_hash: str
    authoritative: bool
    source: str
    proposed_by: uuid.UUID | None
    proposed_at: datetime
    log_index: int
    # The organisations whose signatures put it in force, those that signed and those awaited.
    signatories: list[str]
    signatures: list[SignatureOut]
    awaiting: list[str]
    in_force_from: datetime | None
    status: VersionStatus


class VersionDetailOut(VersionOut):
    # The whole RFC 7946 FeatureCollection: lines, zones (limitation areas derived) and sites.
    collection: dict[str, Any]
