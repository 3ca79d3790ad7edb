"""Tables of incidents and early warning (issue 12, item 5): an incident affecting a protected
site, community or movement, reported by the humanitarian organisation, the verifier or a
party (a denial of access is always attributed to the party that denied it, R12); and the
alerts an incident, an observation of military holdings or a notification raises when it
lies within the policy's distance of a protected community, with each recipient's
acknowledgement. Every row comes from one signed entry."""

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
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from fusioncell.db.base import Base, UTCDateTime


class IncidentKind(StrEnum):
    ACCESS_DENIED = "access_denied"
    ATTACK = "attack"
    THREAT = "threat"
    DAMAGE = "damage"


class Affected(StrEnum):
    """What the incident affected: a protected site (the registry's or the agreed geometry's),
    a protected community, or a notified movement (a convoy)."""

    SITE = "site"
    COMMUNITY = "community"
    MOVEMENT = "movement"


class Denied(StrEnum):
    """Whose access a party denied (R12: either is an incident)."""

    CONVOY = "convoy"
    VERIFIER = "verifier"


class Trigger(StrEnum):
    """What raised an early-warning alert."""

    INCIDENT = "incident"
    OBSERVATION = "observation"
    NOTIFICATION = "notification"


class Incident(Base):
    __tablename__ = "deconfliction_incidents"
    __table_args__ = (
        UniqueConstraint("reported_by", "client_id", name="uq_deconfliction_incidents_client"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    reported_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    affects: Mapped[str] = mapped_column(String(16))
    # The registry place's id, the agreed geometry's site id, or the notification's id.
    target_id: Mapped[str] = mapped_column(String(100))
    target_name: Mapped[str] = mapped_column(String(200))
    # For a denial of access: whose access, and the party that denied it.
    denied: Mapped[str | None] = mapped_column(String(16))
    attributed_to: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    description: Mapped[str] = mapped_column(Text)
    # Evidence by hash: [{"sha256", "name", "size"}]; the files travel outside the cell.
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Alert(Base):
    """An early warning: what raised it, the community it is near and how near, and when it
    is to be acknowledged by. Its id is derived from its source, so one source raises one
    alert per community however often it is looked at."""

    __tablename__ = "deconfliction_alerts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))
    # The incident's, observation batch's or notification's id.
    source_id: Mapped[str] = mapped_column(String(100))
    community_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deconfliction_protected_places.id"), index=True
    )
    distance_m: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The hotline precedence it goes out at, and the acknowledgement deadline that implies.
    precedence: Mapped[str] = mapped_column(String(16))
    ack_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AlertRecipient(Base):
    """An organisation an alert goes to: the supervisor, each humanitarian organisation and
    each party concerned; ``party`` marks a party, which hears it on its hotline channel."""

    __tablename__ = "deconfliction_alert_recipients"

    alert_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deconfliction_alerts.id"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True, index=True
    )
    party: Mapped[bool] = mapped_column(Boolean)


class AlertAck(Base):
    """A recipient organisation's receipt of an alert (receipt, never approval): the first
    member's counts; a retry returns it."""

    __tablename__ = "deconfliction_alert_acks"

    alert_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deconfliction_alerts.id"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    acked_at: Mapped[datetime] = mapped_column(UTCDateTime)
