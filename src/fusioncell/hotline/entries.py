"""The hotline's entry types. Values are signed: never rename or reuse one."""

from __future__ import annotations

from enum import StrEnum

from fusioncell.cell.policy import Permission


class HotlineEntry(StrEnum):
    CHANNEL_OPENED = "hotline.channel.opened"
    MESSAGE_SENT = "hotline.message.sent"
    MESSAGE_DELIVERED = "hotline.message.delivered"
    MESSAGE_ACKNOWLEDGED = "hotline.message.acknowledged"
    ESCALATION = "hotline.escalation"
    # What the supervisor's duty officer did about an open deadline (a call, a relay, a
    # follow-up), so that the log shows the deadline was worked, not only missed.
    DEADLINE_ACTION = "hotline.deadline.action"


# Only those allowed to read messages read any hotline body, even where their organisation is
# in the audience (the operator sits in the supervisor's organisation).
HOTLINE_READ_PERMISSIONS: dict[StrEnum, Permission | None] = dict.fromkeys(
    HotlineEntry, Permission.MESSAGE_READ
)
