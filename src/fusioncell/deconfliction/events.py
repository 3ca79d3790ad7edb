"""The deconfliction track's live events (``fusioncell.live``): one per entry, emitted right
after it and reaching its audience (the bus limits each event to the readers of its entry),
so that a page shows a notification, an acknowledgement or a conflict as it happens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.live.emit import emit

TRACK = "deconfliction"


class EventKind(StrEnum):
    NOTIFICATION = "deconfliction-notification"  # submitted, amended, withdrawn, noted, justified
    ACKNOWLEDGED = "deconfliction-acknowledged"
    CHECKED = "deconfliction-checked"
    ESCALATED = "deconfliction-escalated"


def emit_deconfliction(
    db: Session,
    kind: EventKind,
    *,
    notification: str,
    log_index: int,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    emit(
        db,
        track=TRACK,
        kind=kind.value,
        scope=notification,
        subject=notification,
        log_index=log_index,
        payload={**payload, "notification": notification, "log_index": log_index},
        now=now,
    )
