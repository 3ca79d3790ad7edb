"""The deconfliction track's tables, one module per part of the track (the migrations'
model registry reads this package)."""

from __future__ import annotations

from fusioncell.deconfliction.models.incidents import (
    Affected,
    Alert,
    AlertAck,
    AlertRecipient,
    Denied,
    Incident,
    IncidentKind,
    Trigger,
)
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
from fusioncell.deconfliction.models.registry import (
    NoStrikeList,
    PlaceKind,
    PlaceSignature,
    ProtectedPlace,
)

__all__ = [
    "Acknowledgement",
    "Affected",
    "Alert",
    "AlertAck",
    "AlertRecipient",
    "Amendment",
    "Closed",
    "ConflictRow",
    "ConflictWith",
    "Denied",
    "Duty",
    "Incident",
    "IncidentKind",
    "LeadTime",
    "NoStrikeList",
    "Notification",
    "NotificationEscalation",
    "NotificationKind",
    "PlaceKind",
    "PlaceSignature",
    "ProtectedPlace",
    "Recipient",
    "Trigger",
]
