"""Request and response bodies of the notifications API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field


def _text_only(value: Any) -> Any:
    """An RFC 3339 time is text: a number is not one (pydantic would read it as seconds since
    1970)."""
    if not isinstance(value, str | datetime):
        raise ValueError("an RFC 3339 time with its offset")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_text_only)]


class NotificationContent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    geometry: dict[str, Any] = Field(description="RFC 7946 Point, LineString or Polygon")
    buffer_m: int | None = Field(default=None, description="default from the rules (2 km)")
    starts_at: Instant
    ends_at: Instant
    description: str = Field(max_length=20_000)
    category: str | None = Field(default=None, max_length=40)
    participants: list[str] | None = Field(default=None, max_length=1000)
    details: dict[str, Any] | None = Field(
        default=None, description="a convoy's vehicles, markings, contact and cargo; ..."
    )


class SubmitNotificationIn(NotificationContent):
    id: uuid.UUID | None = None
    kind: str = Field(max_length=16, description="activity, movement, site or emergency")
    flash: bool = Field(default=False, description="an emergency notified at once")
    justification: str | None = Field(default=None, max_length=20_000)


class AmendNotificationIn(NotificationContent):
    version: int | None = Field(default=None, ge=0, description="the version amended")
    reason: str | None = Field(default=None, max_length=20_000)


class WithdrawNotificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=20_000)


class NoteConflictsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(max_length=20_000)


class JustifyNotificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    justification: str = Field(max_length=20_000)


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    version: int | None = Field(default=None, ge=0)


class ConflictOut(BaseModel):
    # site (a protected site or community), notification or zone
    with_: str = Field(alias="with", serialization_alias="with")
    # None when the other notification is not released to the reader.
    id: str | None
    name: str | None
    distance_m: float
    required_m: float
    overlap_from: datetime = Field(serialization_alias="from")
    overlap_until: datetime = Field(serialization_alias="until")
    noted: bool

    model_config = ConfigDict(populate_by_name=True)


class RecipientOut(BaseModel):
    party: str
    acknowledged: bool
    acknowledged_at: datetime | None
    log_index: int | None
    overdue: bool
    escalations: int


class AcknowledgementsOut(BaseModel):
    meaning: str = Field(description="An acknowledgement is receipt, never approval.")
    precedence: str
    version: int
    deadline: datetime
    recipients: list[RecipientOut]


class JustificationOut(BaseModel):
    due: datetime
    given_at: datetime | None
    text: str | None
    overdue: bool


class AmendmentOut(BaseModel):
    version: int
    log_index: int
    amended_at: datetime
    reason: str


class ClosedOut(BaseModel):
    state: str
    at: datetime
    reason: str
    log_index: int


class NotificationOut(BaseModel):
    id: uuid.UUID
    log_index: int
    version: int
    version_log_index: int
    kind: str
    category: str | None
    flash: bool
    sender: str
    geometry: dict[str, Any]
    buffer_m: int
    starts_at: datetime
    ends_at: datetime
    description: str
    participants: list[str]
    details: dict[str, Any]
    # R8: on_time or late, the lead the rules required, and whether it was within reach of
    # a line.
    lead_time: str
    required_lead_hours: float
    near_line: bool
    state: str
    # R10: clear, flagged or noted, and the conflicts of the latest check (empty when clear).
    conflict_status: str
    checked_log_index: int
    conflicts: list[ConflictOut]
    acknowledgements: AcknowledgementsOut
    justification: JustificationOut | None
    amendments: list[AmendmentOut]
    closed: ClosedOut | None


class AcknowledgementOut(BaseModel):
    id: uuid.UUID
    notification: uuid.UUID
    version: int
    organisation: str
    log_index: int
    acknowledged_at: datetime
    meaning: str = Field(description="An acknowledgement is receipt, never approval.")


class KindStatisticsOut(BaseModel):
    on_time: int
    late: int


class PartyStatisticsOut(BaseModel):
    organisation: str
    notifications: int
    on_time: int
    late: int
    flash: int
    justified_in_time: int
    justified_late: int
    justification_owed: int
    acks_owed: int
    acks_in_time: int
    acks_late: int
    acks_missed: int
    by_kind: dict[str, KindStatisticsOut]
