"""Live events: a row in the action's transaction, a wake-up for streams after commit.

Server-Sent Events replay from ``hotline_events`` by id, so a lost wake-up costs latency,
never data. Listeners register a callback in the session's ``info`` (see ``app.py``); on
PostgreSQL a ``NOTIFY`` fans the wake-up out to every app process (delivered only on commit).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from fusioncell.hotline.models import EventKind, HotlineEvent

ON_EVENT = "fusioncell_on_event"
_EMITTED = "fusioncell_events_emitted"
NOTIFY_CHANNEL = "fusioncell_events"


def emit(
    db: Session,
    *,
    channel_id: uuid.UUID,
    kind: EventKind,
    message_id: uuid.UUID,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    db.add(
        HotlineEvent(
            channel_id=channel_id,
            kind=kind.value,
            message_id=message_id,
            payload=payload,
            created_at=now,
        )
    )
    if not db.info.get(_EMITTED):
        db.info[_EMITTED] = True
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


@event.listens_for(Session, "after_commit")
def _wake_streams(session: Session) -> None:
    if session.info.pop(_EMITTED, None):
        callback = session.info.get(ON_EVENT)
        if callable(callback):
            callback()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_EMITTED, None)
