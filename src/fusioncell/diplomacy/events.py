"""The diplomatic track's live events (``fusioncell.live``): one per entry, emitted right
after it and reaching its audience. Frames carry ids and steps only, never a sealed
comment's text: a page that hears one asks for the object again, through the policy."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.live.emit import emit

TRACK = "diplomacy"


class EventKind(StrEnum):
    AGREEMENT = "diplomacy-agreement"  # proposed, amended, signed, in force
    MILESTONE = "diplomacy-milestone"  # verification requested, comments, assessed
    MEETING = "diplomacy-meeting"  # requested, minutes drafted, commented, signed


def emit_diplomacy(
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
