"""Request and response bodies of ``/api/v1/verification``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SHA256 = r"^[0-9a-f]{64}$"


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # observation, candidate, notification, incident or intel_report
    kind: str = Field(max_length=16)
    # The object's id (a candidate's key: ``<source>/<rule>/<party>/<zone>/<category>/<measure>``).
    id: str = Field(max_length=200)


class FileComplaintIn(BaseModel):
    """A complaint; with ``candidate`` (a de-escalation violation candidate's key), what it
    leaves out is taken from the candidate (rule, party, place, time, allegation)."""

    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    allegation: str | None = Field(default=None, max_length=20000)
    # A party's slug, or null / "unknown".
    against: str | None = Field(default=None, max_length=32)
    rule: str | None = Field(default=None, max_length=200)
    # An RFC 7946 Point.
    location: dict[str, Any] | None = None
    occurred_at: AwareDatetime | None = None
    links: list[LinkIn] = Field(default_factory=list, max_length=1000)
    evidence: list[str] = Field(default_factory=list, max_length=1000)
    candidate: str | None = Field(default=None, max_length=300)


class TriageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    triage: str = Field(max_length=16)
    reasons: str = Field(max_length=20000)
    duplicate_of: uuid.UUID | None = None


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    # The verifier's member id (left out when the verifier tasks itself).
    verifier: uuid.UUID | None = None


class SiteVisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    visited_at: AwareDatetime
    note: str = Field(default="", max_length=20000)
    location: dict[str, Any] | None = None


class AccessRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    # The party asked (default: the party the complaint is against).
    party: str | None = Field(default=None, max_length=32)
    place: str = Field(max_length=20000)


class AccessAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    answer: str = Field(max_length=16)
    note: str = Field(default="", max_length=20000)


class FindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    outcome: str = Field(max_length=32)
    # The party a substantiated_attributed finding attributes.
    party: str | None = Field(default=None, max_length=32)
    summary: str = Field(max_length=20000)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    comment: str = Field(max_length=20000)


class RemedyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    remedy: str = Field(max_length=20000)
    due_at: AwareDatetime
    party: str | None = Field(default=None, max_length=32)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    note: str = Field(default="", max_length=20000)


class ExifOut(BaseModel):
    lat: float | None
    lon: float | None
    taken_at: str | None


class EvidenceOut(BaseModel):
    sha256: str
    size: int
    type: str
    url: str
    # What the file says of itself, read and never trusted (JPEG only).
    exif: ExifOut | None


class CommentOut(BaseModel):
    id: uuid.UUID
    party: str
    commitment: str
    log_index: int
    sealed_at: datetime
    # Sealed: the text is read by its own party only until the window closes.
    sealed: bool
    text: str | None
    revealed_index: int | None


class AccessRequestOut(BaseModel):
    id: uuid.UUID
    party: str
    place: str
    requested_at: datetime
    due_at: datetime
    answer: str | None
    note: str | None
    answered_at: datetime | None
    log_index: int
    incident: uuid.UUID | None


class DeadlineOut(BaseModel):
    duty: str
    owed_by: str
    due_at: datetime
    done_at: datetime | None
    overdue: bool
    escalations: int


class StepOut(BaseModel):
    kind: str
    at: datetime
    log_index: int
    # The signer's organisation, and the member's name where the viewer may see members of
    # that organisation (None for the log's own entries).
    organisation: str | None
    signed_by: str | None


class CaseOut(BaseModel):
    id: uuid.UUID
    number: int
    state: str
    filed_by: str  # the filer's organisation
    against: str | None
    rule: str
    allegation: str
    location: dict[str, Any]
    occurred_at: datetime
    links: list[dict[str, Any]]
    evidence: list[EvidenceOut]
    candidate: dict[str, Any] | None
    log_index: int
    filed_at: datetime
    triage_due_at: datetime
    triage: str | None
    triage_reasons: str | None
    duplicate_of: uuid.UUID | None
    tasked_at: datetime | None
    on_site_due_at: datetime | None
    visited_at: datetime | None
    draft: dict[str, Any] | None
    comments_close_at: datetime | None
    outcome: str | None
    outcome_party: str | None
    finding: str | None
    issued_at: datetime | None
    remedy: dict[str, Any] | None
    closed_at: datetime | None


class CaseDetailOut(CaseOut):
    comments: list[CommentOut]
    access_requests: list[AccessRequestOut]
    deadlines: list[DeadlineOut]
    timeline: list[StepOut]


class TimesOut(BaseModel):
    count: int
    median_hours: float | None
    p90_hours: float | None


class PartyStatisticsOut(BaseModel):
    party: str
    filed: int
    received: int
    open: int
    outcomes: dict[str, int]
    to_triage: TimesOut
    to_site_visit: TimesOut
    to_finding: TimesOut
    access_denials: int
    remedies_requested: int
    remedies_verified: int


class StatisticsOut(BaseModel):
    method: str
    parties: list[PartyStatisticsOut]
