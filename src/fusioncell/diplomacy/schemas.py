"""Request and response bodies of ``/api/v1/agreements`` and ``/api/v1/meetings``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class VerificationLinksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # A de-escalation rule (e.g. "R6") and/or zone whose engine result is shown at the due date.
    rule: str | None = Field(default=None, max_length=64)
    zone: str | None = Field(default=None, max_length=64)
    inspections: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    # Verification cases (findings).
    findings: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    # Documents by SHA-256 (hex).
    evidence: list[str] = Field(default_factory=list, max_length=200)


class MilestoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(max_length=64)
    title: str = Field(max_length=20000)
    due_at: AwareDatetime
    # RFC 7946 geometry, e.g. the positions to vacate.
    geometry: dict[str, Any] | None = None
    verification: VerificationLinksIn | None = None
    # In an amendment: the milestone is waived (every signatory signs the amendment).
    waived: bool = False


class CommitmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(max_length=64)
    debtor: str = Field(max_length=32)
    beneficiaries: list[str] = Field(default_factory=list, max_length=100)
    obligation: str = Field(max_length=100000)
    ends_at: AwareDatetime
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=200)


class AgreementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    title: str = Field(max_length=20000)
    text: str = Field(max_length=100000)
    parties: list[str] = Field(max_length=100)
    date: date
    commitments: list[CommitmentIn] = Field(default_factory=list, max_length=200)


class AmendmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    title: str = Field(max_length=20000)
    text: str = Field(max_length=100000)
    date: date
    commitments: list[CommitmentIn] = Field(default_factory=list, max_length=200)


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content_hash: str = Field(max_length=64)


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    comment: str = Field(max_length=20000)


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # document (id: SHA-256 hex), finding (a verification case's id), inspection.
    kind: str = Field(max_length=16)
    id: str = Field(max_length=200)


class AssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    outcome: str = Field(max_length=32)
    reasons: str = Field(max_length=20000)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=200)


class SignatureOut(BaseModel):
    organisation: str
    content_hash: str
    log_index: int
    signed_at: datetime


class VersionOut(BaseModel):
    id: uuid.UUID
    number: int
    content: dict[str, Any]
    content_hash: str
    signatories: list[str]
    signatures: list[SignatureOut]
    # Signatories yet to sign.
    awaiting: list[str]
    log_index: int
    proposed_at: datetime
    in_force_from: datetime | None


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


class MilestoneOut(BaseModel):
    id: uuid.UUID
    agreement: uuid.UUID
    commitment: str
    key: str
    title: str
    due_at: datetime
    geometry: dict[str, Any] | None
    verification: dict[str, Any]
    # open, due (open and past its due date), requested, assessed, waived, withdrawn.
    status: str
    requested_at: datetime | None
    comments_close_at: datetime | None
    outcome: str | None
    reasons: str | None
    evidence: list[dict[str, Any]] | None
    # The de-escalation engine's result at the due date, beside the decision.
    engine_result: dict[str, Any] | None
    assessed_at: datetime | None
    assessed_index: int | None


class MilestoneDetailOut(MilestoneOut):
    comments: list[CommentOut]


class CommitmentOut(BaseModel):
    id: uuid.UUID
    key: str
    debtor: str
    beneficiaries: list[str]
    obligation: str
    ends_at: datetime
    version: int
    withdrawn: bool
    milestones: list[MilestoneOut]


class AgreementOut(BaseModel):
    id: uuid.UUID
    number: int
    title: str
    parties: list[str]
    date: str
    # Who reads it (the audience of its entries), as a signature's entry states it.
    released_to: list[str]
    log_index: int
    proposed_at: datetime
    in_force_version: int | None
    in_force_from: datetime | None
    versions: list[VersionOut]
    commitments: list[CommitmentOut]


class MeetingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    title: str = Field(max_length=20000)
    agenda: list[str] = Field(max_length=200)
    # The participating parties.
    participants: list[str] = Field(max_length=100)
    starts_at: AwareDatetime
    agreement: uuid.UUID | None = None
    # The hotline channel that carries the request (default: the cell-wide channel).
    channel: uuid.UUID | None = None
    precedence: str = Field(default="ROUTINE", max_length=16)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(max_length=64)
    text: str = Field(max_length=100000)
    # A commitment in an agreement's terms: the decision can become one in one step.
    commitment: CommitmentIn | None = None


class MinutesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    text: str = Field(max_length=100000)
    decisions: list[DecisionIn] = Field(default_factory=list, max_length=200)


class MinutesSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes_hash: str = Field(max_length=64)


class MinutesCommentOut(BaseModel):
    id: uuid.UUID
    party: str
    minutes_hash: str
    text: str
    log_index: int
    at: datetime


class MinutesSignatureOut(BaseModel):
    party: str
    minutes_hash: str
    log_index: int
    signed_at: datetime


class MeetingOut(BaseModel):
    id: uuid.UUID
    number: int
    title: str
    agenda: list[str]
    participants: list[str]
    starts_at: datetime
    agreement: uuid.UUID | None
    requested_by: str
    # The hotline message that carried the request.
    message: uuid.UUID | None
    log_index: int
    requested_at: datetime
    # The current draft ({"meeting", "draft", "text", "decisions"}) and its SHA-256.
    minutes: dict[str, Any] | None
    minutes_hash: str | None
    agreed: bool
    agreed_at: datetime | None
    comments: list[MinutesCommentOut]
    signatures: list[MinutesSignatureOut]
