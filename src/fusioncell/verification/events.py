"""The verification track's live events (``fusioncell.live``): one per entry, emitted right
after it and reaching its audience (the bus limits each event to the readers of its entry).
Frames carry ids and steps only, never a comment's text: a page that hears one asks for the
case again, through the policy."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.live.emit import emit

TRACK = "verification"


class EventKind(StrEnum):
    CASE = "verification-case"  # filed and every workflow step
    COMMENT = "verification-comment"  # sealed, then revealed
    ESCALATED = "verification-escalated"
    EVIDENCE = "verification-evidence"


def emit_verification(
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
