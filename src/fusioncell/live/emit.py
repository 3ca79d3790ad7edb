"""Emitting an event: a row in the action's transaction, a wake-up for streams after commit.

Streams replay from ``events`` by id, so a lost wake-up costs latency, never data. The app
registers a callback in the session's ``info`` (``ON_EVENT``, see ``app.py``); on PostgreSQL
a ``NOTIFY`` fans the wake-up out to every app process (delivered only on commit).

An event is emitted right after the log entry it announces, in the same transaction: the
log's sequence lock is then held until commit, so event ids are handed out in the log's
order. ``emit`` refuses anything else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from fusioncell.ledger.append import APPENDED
from fusioncell.live.models import Event

ON_EVENT = "fusioncell_on_event"
NOTIFY_CHANNEL = "fusioncell_events"
_EMITTED = "fusioncell_events_emitted"
_LAST_EMITTED_INDEX = "fusioncell_events_last_index"


class OutOfLogOrder(RuntimeError):
    """An event emitted outside its entry's transaction, or before an earlier entry's."""


def emit(
    db: Session,
    *,
    track: str,
    kind: str,
    scope: str,
    subject: str | None,
    log_index: int,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    appended: list[int] = db.info.get(APPENDED, [])
    if log_index not in appended:
        raise OutOfLogOrder(f"entry {log_index} was not appended in this transaction")
    if log_index < db.info.get(_LAST_EMITTED_INDEX, -1):
        raise OutOfLogOrder(f"entry {log_index}'s event comes after a later entry's")
    db.info[_LAST_EMITTED_INDEX] = log_index
    db.add(
        Event(
            track=track,
            kind=kind,
            scope=scope,
            subject=subject,
            log_index=log_index,
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
    session.info.pop(_LAST_EMITTED_INDEX, None)
    if session.info.pop(_EMITTED, None):
        callback = session.info.get(ON_EVENT)
        if callable(callback):
            callback()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_EMITTED, None)
    session.info.pop(_LAST_EMITTED_INDEX, None)
