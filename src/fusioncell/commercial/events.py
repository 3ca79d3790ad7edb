"""The commercial track's live events (``fusioncell.live``): one per entry, emitted right
after it and reaching its audience (the bus limits each event to the readers of its entry).
Frames carry ids and steps only: a page that hears one asks again, through the policy."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.live.emit import emit

TRACK = "commercial"


class EventKind(StrEnum):
    PROJECT = "commercial-project"  # proposed, status, milestones
    SHIPMENT = "commercial-shipment"  # declared and every step
    EVIDENCE = "commercial-evidence"


def emit_commercial(
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
