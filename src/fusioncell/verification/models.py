"""Tables of the verification track: cases (a complaint and where its workflow stands), the
steps of each (by their authors' client ids, so a retry finds its first result), the access
requests and the incidents of access denied (R12), the parties' sealed comments, the
deadlines' escalations and the evidence files. Every row comes from signed entries
(``state_check`` compares them); an evidence file's bytes are what its entry's hash names."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from fusioncell.db.base import Base, UTCDateTime


class CaseState(StrEnum):
    FILED = "filed"
    TRIAGED = "triaged"
    INVESTIGATING = "investigating"
    # The draft finding stands and the comment window is open (or closed, awaiting the
    # finding).
    DRAFTED = "drafted"
    ISSUED = "issued"
    REMEDY_REQUESTED = "remedy_requested"
    REMEDY_VERIFIED = "remedy_verified"
    # Triaged as a duplicate or out of scope.
    DISMISSED = "dismissed"
    CLOSED = "closed"


class Triage(StrEnum):
    ADMISSIBLE = "admissible"
    DUPLICATE = "duplicate"
    OUT_OF_SCOPE = "out_of_scope"


class Outcome(StrEnum):
    SUBSTANTIATED_ATTRIBUTED = "substantiated_attributed"
    SUBSTANTIATED_UNATTRIBUTED = "substantiated_unattributed"
    NOT_SUBSTANTIATED = "not_substantiated"
    INCONCLUSIVE_ACCESS_DENIED = "inconclusive_access_denied"
    INCONCLUSIVE_EVIDENCE = "inconclusive_evidence"


SUBSTANTIATED = frozenset({Outcome.SUBSTANTIATED_ATTRIBUTED, Outcome.SUBSTANTIATED_UNATTRIBUTED})


class Answer(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"


class Duty(StrEnum):
    """A deadline that escalates when missed."""

    TRIAGE = "triage"  # the supervisor's
    SITE_VISIT = "site_visit"  # the verifier's
    ACCESS_ANSWER = "access_answer"  # the party asked for access


class Case(Base):
    """A complaint and where its workflow stands (each column follows from its entries)."""

    __tablename__ = "verification_cases"
    __table_args__ = (
        UniqueConstraint("filed_by", "client_id", name="uq_verification_cases_client"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    filed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    # None: against an unknown party.
    against_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    rule: Mapped[str] = mapped_column(String(32))
    allegation: Mapped[str] = mapped_column(Text)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # [{"kind", "id"}] and [{"sha256", "size", "type"}], as the entry records them.
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The de-escalation candidate it was made from, as the filer saw it.
    candidate: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    released_to: Mapped[list[str]] = mapped_column(JSON)
    # The escalation ladder bound at filing ([{"after_seconds", "notify"}] after a deadline).
    ladder: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(24), index=True)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    triage_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    triage: Mapped[str | None] = mapped_column(String(16))
    triage_reasons: Mapped[str | None] = mapped_column(Text)
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tasked_member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    tasked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_site_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the first visit's entry
    drafted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    draft_outcome: Mapped[str | None] = mapped_column(String(32))
    draft_party_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    draft_text: Mapped[str | None] = mapped_column(Text)
    comments_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_party_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    finding_text: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remedy: Mapped[str | None] = mapped_column(Text)
    remedy_party_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    remedy_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remedy_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remedy_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseStep(Base):
    """One signed step of a case, by its author's client id (a retry's first result)."""

    __tablename__ = "verification_steps"
    __table_args__ = (
        UniqueConstraint("member_id", "client_id", name="uq_verification_steps_client"),
    )

    log_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("verification_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    # The signer's organisation (None for the log's own entries).
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AccessRequest(Base):
    """The verifier asks a party for access; the party answers granted or denied."""

    __tablename__ = "verification_access_requests"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("verification_cases.id"), index=True)
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    place: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(String(8))
    answer_note: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    answer_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Incident(Base):
    """R12: the verifier denied access, an incident of its own attributed to the party that
    denied it (recorded with the party's answer, in its transaction)."""

    __tablename__ = "verification_incidents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("verification_cases.id"), index=True)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("verification_access_requests.id"), unique=True
    )
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)


class Comment(Base):
    """A party's comment on a draft finding: sealed (only its commitment is in the log) until
    the window closes, then revealed by the log. The text and nonce are read by the
    commenter's organisation only until then (``queries``)."""

    __tablename__ = "verification_comments"
    __table_args__ = (
        UniqueConstraint("case_id", "organisation_id", name="uq_verification_comments_party"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("verification_cases.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revealed_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Escalation(Base):
    """A step of an overdue deadline's ladder, written by the log."""

    __tablename__ = "verification_escalations"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("verification_cases.id"), primary_key=True
    )
    duty: Mapped[str] = mapped_column(String(16), primary_key=True)
    # The access request for an access answer; the case's id otherwise.
    subject: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notify: Mapped[list[str]] = mapped_column(JSON)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EvidenceFile(Base):
    """A file's bytes, stored once by its SHA-256."""

    __tablename__ = "verification_evidence"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # What the file says of itself (EXIF GPS and time of a JPEG): read, never trusted.
    exif: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class EvidenceHolder(Base):
    """An organisation that uploaded a file (its entry): it may read it, and attach it."""

    __tablename__ = "verification_evidence_holders"

    sha256: Mapped[str] = mapped_column(
        ForeignKey("verification_evidence.sha256"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseEvidence(Base):
    """A file attached to a case: released to the case's audience."""

    __tablename__ = "verification_case_evidence"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("verification_cases.id"), primary_key=True
    )
    sha256: Mapped[str] = mapped_column(
        ForeignKey("verification_evidence.sha256"), primary_key=True, index=True
    )
