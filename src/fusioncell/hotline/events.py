"""The hotline's live events (``fusioncell.live``): one per message, delivery,
acknowledgement, escalation and deadline action, emitted right after its entry, scoped to the
message's channel and reaching its entry's audience (a deadline action: the party concerned
and the supervisor, whose deadlines page shows it in place)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.hotline.models import EventKind, Message
from fusioncell.live.emit import emit

TRACK = "hotline"


def emit_hotline(
    db: Session,
    message: Message,
    kind: EventKind,
    payload: dict[str, Any],
    *,
    log_index: int,
    now: datetime,
) -> None:
    emit(
        db,
        track=TRACK,
        kind=kind.value,
        scope=str(message.channel_id),
        subject=str(message.id),
        log_index=log_index,
        payload=payload,
        now=now,
    )
