"""The hotline's entry types. Values are signed: never rename or reuse one."""

from __future__ import annotations

from enum import StrEnum


class HotlineEntry(StrEnum):
    CHANNEL_OPENED = "hotline.channel.opened"
    MESSAGE_SENT = "hotline.message.sent"
    MESSAGE_DELIVERED = "hotline.message.delivered"
    MESSAGE_ACKNOWLEDGED = "hotline.message.acknowledged"
    ESCALATION = "hotline.escalation"
