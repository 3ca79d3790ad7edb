"""Tables of the CoT gateway: the client certificates the cell's CA issued, which party each
CoT ``uid`` belongs to (claimed by the first accepted position), and every event received
with its raw XML. Every row comes from signed ``cot.*`` entries."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fusioncell.db.base import Base, UTCDateTime


class CotCertificate(Base):
    __tablename__ = "cot_certificates"

    # The X.509 serial number, as lowercase hexadecimal.
    serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[datetime] = mapped_column(UTCDateTime)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_log_index: Mapped[int | None] = mapped_column(BigInteger)


class CotUid(Base):
    """A CoT uid is a unit of one party: the party of the first member whose position for it
    was accepted. A position for it from another party is refused."""

    __tablename__ = "cot_uids"

    uid: Mapped[str] = mapped_column(String(200), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger)


class CotEvent(Base):
    __tablename__ = "cot_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    uid: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(100))
    # What it became: "position", "chat" or "kept" (received, not interpreted).
    kind: Mapped[str] = mapped_column(String(16))
    # The entry it became beside this one (an observation batch, a hotline message), if any.
    became: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    raw: Mapped[str] = mapped_column(Text)
    event_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
