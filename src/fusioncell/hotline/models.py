"""Tables of the hotline: channels and their member organisations, messages, deliveries,
acknowledgements, escalations, and what the supervisor's duty officer did about a deadline."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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


class ChannelKind(StrEnum):
    CELL = "cell"
    BILATERAL = "bilateral"


class Precedence(StrEnum):
    FLASH = "FLASH"
    IMMEDIATE = "IMMEDIATE"
    PRIORITY = "PRIORITY"
    ROUTINE = "ROUTINE"


class EventKind(StrEnum):
    MESSAGE = "message"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    ESCALATION = "escalation"
    DEADLINE_ACTION = "deadline_action"


class Channel(Base):
    __tablename__ = "hotline_channels"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    # The party a bilateral channel joins to the supervisor; None for the cell-wide channel.
    party_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChannelMember(Base):
    __tablename__ = "hotline_channel_members"

    channel_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("hotline_channels.id"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    # Whether this organisation must acknowledge messages (parties), or only receives them.
    acknowledges: Mapped[bool] = mapped_column(Boolean)


class Message(Base):
    __tablename__ = "hotline_messages"
    # A client-chosen id is the sender's own: a retry finds it by (sender, client id), and
    # another member choosing the same id gets another message (see ``claim_id``).
    __table_args__ = (
        UniqueConstraint("sender_id", "client_id", name="uq_hotline_messages_client"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hotline_channels.id"), index=True)
    # None for a link test, which the cell itself sends (signed by the log's key).
    sender_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    sender_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    precedence: Mapped[str] = mapped_column(String(16))
    # "text", or the name of a structured template whose fields are in ``fields``.
    form: Mapped[str] = mapped_column(String(40))
    text: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    relay_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hotline_messages.id"))
    hotline_policy: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    delivered_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    ack_deadline: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """The first time a device of a recipient organisation received the message."""

    __tablename__ = "hotline_deliveries"

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("hotline_messages.id"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)


class Ack(Base):
    """A human acknowledgement. Only a party's first one counts for its deadline."""

    __tablename__ = "hotline_acks"
    __table_args__ = (UniqueConstraint("member_id", "client_id", name="uq_hotline_acks_client"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hotline_messages.id"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    counts: Mapped[bool] = mapped_column(Boolean)
    acked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checkpoint_size: Mapped[int | None] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)


class Escalation(Base):
    __tablename__ = "hotline_escalations"

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("hotline_messages.id"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    # 0: not delivered in time; 1, 2, ...: rungs of the acknowledgement ladder (repeats go on).
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notify: Mapped[list[str]] = mapped_column(JSON)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)


class DeadlineActionKind(StrEnum):
    CALL = "call"  # a call made to the party concerned
    RELAY = "relay"  # the message passed to the party by another means (the note says which)
    FOLLOW_UP = "follow_up"  # a follow-up, due at a time if one is given


class DeadlineAction(Base):
    """What the supervisor's duty officer did about a party's open deadline on a message."""

    __tablename__ = "hotline_deadline_actions"
    # A client-chosen id is its author's own, as a message's is (see ``Message``).
    __table_args__ = (
        UniqueConstraint("member_id", "client_id", name="uq_hotline_deadline_actions_client"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hotline_messages.id"), index=True)
    # The party concerned: a recipient of the message that owes (or owed) it an acknowledgement.
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
