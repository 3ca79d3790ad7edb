"""The de-escalation track's live events (``fusioncell.live``): one per entry, emitted right
after it and reaching its audience (the bus limits each event to the readers of its entry),
so that a page recomputes compliance when observations, baselines or exceptions change."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.live.emit import emit

TRACK = "deescalation"


class EventKind(StrEnum):
    OBSERVATIONS = "deescalation-observations"
    BASELINE = "deescalation-baseline"
    EXCEPTION = "deescalation-exception"
    INSPECTION = "deescalation-inspection"
    INCIDENT = "deescalation-incident"


def emit_deescalation(
    db: Session,
    kind: EventKind,
    *,
    subject: str,
    log_index: int,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    emit(
        db,
        track=TRACK,
        kind=kind.value,
        scope=subject,
        subject=subject,
        log_index=log_index,
        payload={**payload, "log_index": log_index},
        now=now,
    )
