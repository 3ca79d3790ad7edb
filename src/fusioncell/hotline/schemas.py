from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: str
    # Strict: JSON's true and "7" are not sizes (pydantic would otherwise coerce both).
    size: StrictInt
    name: str


class SendMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    precedence: str = Field(max_length=16)
    text: str | None = None
    template: str | None = Field(default=None, max_length=40)
    fields: dict[str, Any] | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=64)


class RelayMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    channel_id: uuid.UUID


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    checkpoint_size: int | None = Field(default=None, ge=1)


class DeadlineActionIn(BaseModel):
    """What the supervisor's duty officer did about a party's deadline on a message."""

    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    # The party concerned: its slug (as the hotline's responses name organisations) or its id.
    organisation: str = Field(min_length=1, max_length=64)
    kind: Literal["call", "relay", "follow_up"]
    # In characters, as the page counts them; a relay's note says how it was relayed.
    note: str = Field(default="", max_length=500)
    # Only a follow-up's, with its time zone.
    follow_up_at: AwareDatetime | None = None


class DeadlineActionOut(BaseModel):
    id: uuid.UUID
    message_id: uuid.UUID
    organisation: str
    kind: str
    note: str
    follow_up_at: datetime | None
    member: str | None
    at: datetime
    log_index: int


class ChannelOut(BaseModel):
    id: uuid.UUID
    kind: str
    name: str
    members: list[str]


class DeliveryOut(BaseModel):
    organisation: str
    member: str | None
    at: datetime
    log_index: int


class AckOut(BaseModel):
    id: uuid.UUID
    organisation: str
    member: str | None
    at: datetime
    counts: bool
    checkpoint_size: int | None
    log_index: int


class EscalationOut(BaseModel):
    organisation: str
    step: int
    due_at: datetime
    notify: list[str]
    log_index: int


class RecipientOut(BaseModel):
    organisation: str
    delivered_at: datetime | None
    acknowledged_at: datetime | None


class MessageOut(BaseModel):
    id: uuid.UUID
    channel_id: uuid.UUID
    sender: str | None
    sender_organisation: str
    precedence: str
    template: str | None
    text: str | None
    fields: dict[str, Any] | None
    rendered: str
    title: str
    attachments: list[dict[str, Any]]
    relay_of: uuid.UUID | None
    log_index: int
    leaf_hash: str
    hotline_policy: str
    sent_at: datetime
    delivered_deadline: datetime
    ack_deadline: datetime
    recipients: list[RecipientOut] = Field(default_factory=list)
    deliveries: list[DeliveryOut] = Field(default_factory=list)
    acks: list[AckOut] = Field(default_factory=list)
    escalations: list[EscalationOut] = Field(default_factory=list)
