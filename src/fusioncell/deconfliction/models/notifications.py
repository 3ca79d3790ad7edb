"""Tables of the deconfliction track's notifications (DESIGN R8-R10): what a party or the
humanitarian organisation notifies (a planned activity, a movement, a static site, an
emergency), whom it is distributed to, each recipient party's receipt, the conflicts the
check found, amendments, and the escalations of overdue acknowledgements and FLASH
justifications. Every row comes from one signed entry (``state_check`` compares them)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from fusioncell.db.base import Base, UTCDateTime


class NotificationKind(StrEnum):
    ACTIVITY = "activity"  # planned military activity: training, engineering works, movement
    MOVEMENT = "movement"  # humanitarian movement: a convoy on its route
    SITE = "site"  # humanitarian static site
    EMERGENCY = "emergency"  # medical evacuation, search and rescue


class LeadTime(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"


class Closed(StrEnum):
    WITHDRAWN = "withdrawn"  # before its window began
    CANCELLED = "cancelled"  # once its window had begun


class ConflictWith(StrEnum):
    SITE = "site"  # a protected site or community
    NOTIFICATION = "notification"  # another notification overlapping in space and time
    ZONE = "zone"  # a zone where that kind of activity is forbidden


class Duty(StrEnum):
    ACK = "ack"  # a recipient party's acknowledgement of receipt
    JUSTIFICATION = "justification"  # a FLASH emergency's written justification


class Notification(Base):
    """One notification as it stands (its current version): the submission entry, then the
    amendments, the latest conflict check and the closing entry say what each column holds."""

    __tablename__ = "deconfliction_notifications"
    # A client-chosen id is its sender's own: a retry finds it by (sender, client id).
    __table_args__ = (
        UniqueConstraint("sender_id", "client_id", name="uq_deconfliction_notifications_client"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    sender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # What sort within the kind ("training", "engineering", "convoy", "medevac", ...).
    category: Mapped[str | None] = mapped_column(String(40))
    # An emergency notified at once, as FLASH: it owes a written justification.
    flash: Mapped[bool] = mapped_column(Boolean)
    # RFC 7946 geometry (WGS 84 lon/lat), and its buffer in metres.
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    buffer_m: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    description: Mapped[str] = mapped_column(Text)
    participants: Mapped[list[str]] = mapped_column(JSON)
    # Kind-specific fields (a convoy's vehicles, markings, contact, cargo).
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The current version: 0 as submitted, n after the n-th amendment.
    version: Mapped[int] = mapped_column(Integer)
    version_log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    version_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # R8: the lead time the rules required of it, whether it was within reach of a line,
    # and the verdict.
    near_line: Mapped[bool] = mapped_column(Boolean)
    required_lead_s: Mapped[int] = mapped_column(BigInteger)
    lead_time: Mapped[str] = mapped_column(String(8))
    # R9: the current version's acknowledgement deadline and the ladder it escalates by.
    precedence: Mapped[str] = mapped_column(String(16))
    ack_deadline: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ack_ladder: Mapped[dict[str, Any]] = mapped_column(JSON)
    # R8: a FLASH emergency's justification, due within the rules' period.
    justification: Mapped[str | None] = mapped_column(Text)
    justification_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    justified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    justification_log_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # R10: the latest check's verdict ("clear", "flagged" or "noted") and its entry.
    conflict_status: Mapped[str] = mapped_column(String(16))
    checked_log_index: Mapped[int] = mapped_column(BigInteger)
    # Withdrawn or cancelled by its sender (None while it stands).
    closed: Mapped[str | None] = mapped_column(String(16))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_log_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Recipient(Base):
    """A party that owes the notification an acknowledgement of receipt (as submitted)."""

    __tablename__ = "deconfliction_recipients"

    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deconfliction_notifications.id"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True, index=True
    )


class Amendment(Base):
    """One amendment by the sender: the version it made and why (the entry holds the
    notification as amended)."""

    __tablename__ = "deconfliction_amendments"

    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deconfliction_notifications.id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    reason: Mapped[str] = mapped_column(Text)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    amended_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Acknowledgement(Base):
    """A recipient party's receipt of one version: receipt, never approval. Only a party's
    first acknowledgement of a version counts for its deadline."""

    __tablename__ = "deconfliction_acks"
    __table_args__ = (
        UniqueConstraint("member_id", "client_id", name="uq_deconfliction_acks_client"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deconfliction_notifications.id"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    acked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)


class ConflictRow(Base):
    """One conflict the latest check found: with what, how far apart and when."""

    __tablename__ = "deconfliction_conflicts"

    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deconfliction_notifications.id"), primary_key=True
    )
    other_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    other_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    # The distance between the two geometries (0 when they touch), and the clearance the
    # buffers ask for; in metres.
    distance_m: Mapped[float] = mapped_column(Float)
    required_m: Mapped[float] = mapped_column(Float)
    overlap_from: Mapped[datetime] = mapped_column(UTCDateTime)
    overlap_until: Mapped[datetime] = mapped_column(UTCDateTime)
    # The entry by which the sender noted it, if any.
    noted_log_index: Mapped[int | None] = mapped_column(BigInteger)


class NotificationEscalation(Base):
    """A step of an overdue duty's ladder: a recipient's acknowledgement of a version, or
    the sender's FLASH justification (version 0, the sender's organisation)."""

    __tablename__ = "deconfliction_escalations"

    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deconfliction_notifications.id"), primary_key=True
    )
    duty: Mapped[str] = mapped_column(String(16), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notify: Mapped[list[str]] = mapped_column(JSON)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
