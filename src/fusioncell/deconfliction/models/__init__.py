"""The deconfliction track's tables, one module per part of the track (the migrations'
model registry reads this package)."""

from __future__ import annotations

from fusioncell.deconfliction.models.notifications import (
    Acknowledgement,
    Amendment,
    Closed,
    ConflictRow,
    ConflictWith,
    Duty,
    LeadTime,
    Notification,
    NotificationEscalation,
    NotificationKind,
    Recipient,
)

__all__ = [
    "Acknowledgement",
    "Amendment",
    "Closed",
    "ConflictRow",
    "ConflictWith",
    "Duty",
    "LeadTime",
    "Notification",
    "NotificationEscalation",
    "NotificationKind",
    "Recipient",
]
