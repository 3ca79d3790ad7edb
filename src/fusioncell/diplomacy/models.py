"""Tables of the diplomatic track: agreements and their versions (the first text and each
amendment), the signatures on a version's content hash, the commitments and milestones of
the version in force, the steps of each milestone's assessment (by their authors' client
ids), the parties' sealed comments, and meetings with their minutes, comments and
signatures. Every row comes from signed ``diplomacy.*`` entries."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from fusioncell.db.base import Base, UTCDateTime


class MilestoneState(StrEnum):
    OPEN = "open"  # before its due date, or due and not yet put to verification
    REQUESTED = "requested"  # verification requested: the comment window runs
    ASSESSED = "assessed"
    WAIVED = "waived"  # by an amendment every signatory signed
    WITHDRAWN = "withdrawn"  # left out of the version now in force


class Outcome(StrEnum):
    MET = "met"
    PARTIALLY_MET = "partially_met"
    BREACHED = "breached"
    NOT_VERIFIABLE = "not_verifiable"


class Agreement(Base):
    """An agreement: its number, and the version in force (None until the first is signed by
    every signatory)."""

    __tablename__ = "diplomacy_agreements"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    proposed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    in_force_number: Mapped[int | None] = mapped_column(Integer)
    in_force_from: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgreementParty(Base):
    """A party to an agreement: it reads the agreement, and its liaison officer signs it."""

    __tablename__ = "diplomacy_agreement_parties"

    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("diplomacy_agreements.id"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True, index=True
    )


class AgreementVersion(Base):
    """The first text (number 1) or an amendment: its content (title, text, parties, date,
    commitments with their milestones) and the SHA-256 of that content's canonical JSON,
    which is what every signatory signs."""

    __tablename__ = "diplomacy_versions"
    __table_args__ = (
        UniqueConstraint("agreement_id", "number", name="uq_diplomacy_versions_number"),
        UniqueConstraint("proposed_by", "client_id", name="uq_diplomacy_versions_client"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("diplomacy_agreements.id"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    proposed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    # Who must sign: the parties' slugs and the supervisor's.
    signatories: Mapped[list[str]] = mapped_column(JSON)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    in_force_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    in_force_from: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Signature(Base):
    """An organisation's signature on a version's content hash (one per organisation)."""

    __tablename__ = "diplomacy_signatures"

    version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("diplomacy_versions.id"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Commitment(Base):
    """A commitment of the version in force: who owes what to whom, by when."""

    __tablename__ = "diplomacy_commitments"
    __table_args__ = (UniqueConstraint("agreement_id", "key", name="uq_diplomacy_commitments"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("diplomacy_agreements.id"), index=True
    )
    key: Mapped[str] = mapped_column(String(32))
    debtor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    beneficiaries: Mapped[list[str]] = mapped_column(JSON)
    obligation: Mapped[str] = mapped_column(Text)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The version whose content defines it now; withdrawn when a later version leaves it out.
    version_number: Mapped[int] = mapped_column(Integer)
    withdrawn: Mapped[bool] = mapped_column(default=False)


class Milestone(Base):
    """A milestone of a commitment and where its assessment stands."""

    __tablename__ = "diplomacy_milestones"
    __table_args__ = (UniqueConstraint("commitment_id", "key", name="uq_diplomacy_milestones"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    commitment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("diplomacy_commitments.id"), index=True
    )
    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("diplomacy_agreements.id"), index=True
    )
    key: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # RFC 7946 geometry (positions to vacate), or None.
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # How it is verified: {"rule", "zone", "inspections", "findings", "evidence"}.
    verification: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), index=True)
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comments_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reasons: Mapped[str | None] = mapped_column(Text)
    # [{"kind", "id"}] as the assessment cites them.
    evidence: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # The de-escalation engine's result at the due date, where a rule or zone is linked.
    engine_result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    assessed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assessed_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)


class Step(Base):
    """One signed step (a verification request, an assessment, a meeting's step), by its
    author's client id: a retry finds its first result."""

    __tablename__ = "diplomacy_steps"
    __table_args__ = (UniqueConstraint("member_id", "client_id", name="uq_diplomacy_steps_client"),)

    log_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    kind: Mapped[str] = mapped_column(String(48))
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Comment(Base):
    """A party's comment on a milestone put to verification: sealed (only SHA-256(nonce ||
    text) is in the log) until the window closes, then revealed by the log."""

    __tablename__ = "diplomacy_comments"
    __table_args__ = (
        UniqueConstraint("milestone_id", "organisation_id", name="uq_diplomacy_comments_party"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    milestone_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("diplomacy_milestones.id"), index=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revealed_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Meeting(Base):
    """A meeting requested through the hotline: agenda, participants, the supervisor's
    draft minutes (text and decisions) and their hash, agreed once every participating
    party has signed the same hash."""

    __tablename__ = "diplomacy_meetings"
    __table_args__ = (
        UniqueConstraint("requested_by", "client_id", name="uq_diplomacy_meetings_client"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    agreement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("diplomacy_agreements.id"))
    title: Mapped[str] = mapped_column(Text)
    agenda: Mapped[list[str]] = mapped_column(JSON)
    participants: Mapped[list[str]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The hotline message that carried the request.
    message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    minutes_number: Mapped[int] = mapped_column(Integer, default=0)
    minutes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    minutes_hash: Mapped[str | None] = mapped_column(String(64))
    drafted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agreed_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)


class MeetingParticipant(Base):
    __tablename__ = "diplomacy_meeting_participants"

    meeting_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("diplomacy_meetings.id"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True, index=True
    )


class MinutesComment(Base):
    """A participant's comment on a draft of the minutes (open, not sealed)."""

    __tablename__ = "diplomacy_minutes_comments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("diplomacy_meetings.id"), index=True)
    minutes_hash: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(Text)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class MinutesSignature(Base):
    """A party's signature on one draft's hash; a new draft needs new signatures."""

    __tablename__ = "diplomacy_minutes_signatures"

    meeting_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("diplomacy_meetings.id"), primary_key=True
    )
    minutes_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
