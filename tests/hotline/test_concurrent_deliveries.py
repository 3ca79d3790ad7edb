"""A stream, a page and an API read recording the same delivery at the same moment, in
separate transactions: exactly one delivery and one log entry, and no error, on both
databases."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.hotline.factories import flashes
from tests.hotline.racing import race

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.db.engine import make_sessionmaker
from fusioncell.hotline.actions.messages import do_mark_delivered
from fusioncell.hotline.models import Delivery
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import LogEntry

ROUNDS = 8
WRITERS = 3


def test_simultaneous_deliveries_to_one_party_are_recorded_once_without_an_error(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
    member: Callable[[str], Viewer],
) -> None:
    readers = [member("bravo.duty"), member("bravo.liaison"), member("bravo.duty")]
    messages = flashes(db, member("alpha.liaison"), clock, ROUNDS)
    db.rollback()
    entries_before = db.scalar(select(func.count()).select_from(LogEntry))
    sessions = make_sessionmaker(engine, ledger=ledger)
    failures: list[BaseException] = []

    for message_id in messages:

        def deliver(session: Session, actor: Viewer, message_id: uuid.UUID = message_id) -> None:
            do_mark_delivered(session, actor, message_ids=[message_id], now=clock.now())

        failures += race(sessions, readers[:WRITERS], deliver)

    assert failures == []
    db.rollback()
    for message_id in messages:
        delivered = db.scalars(select(Delivery).where(Delivery.message_id == message_id)).all()
        assert len(delivered) == 1, f"message {message_id}: {delivered}"
    entries_after = db.scalar(select(func.count()).select_from(LogEntry))
    assert entries_after == entries_before + ROUNDS
