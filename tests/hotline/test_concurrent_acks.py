"""Two members of one party acknowledging the same message at the same moment: exactly one
acknowledgement is the party's first, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.hotline.factories import acknowledge, flashes
from tests.hotline.racing import race

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.db.engine import make_sessionmaker
from fusioncell.hotline.models import Ack
from fusioncell.ledger.context import LedgerContext

ROUNDS = 8


def test_simultaneous_acknowledgements_by_one_party_count_once(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
    member: Callable[[str], Viewer],
) -> None:
    messages = flashes(db, member("alpha.liaison"), clock, ROUNDS)
    sessions = make_sessionmaker(engine, ledger=ledger)
    failures: list[BaseException] = []

    for message_id in messages:

        def acknowledge_it(
            session: Session, actor: Viewer, message_id: uuid.UUID = message_id
        ) -> None:
            acknowledge(session, actor, message_id, now=clock.now())

        failures += race(sessions, [member("bravo.duty"), member("bravo.liaison")], acknowledge_it)

    assert failures == []
    db.rollback()
    for message_id in messages:
        counted = db.scalars(select(Ack.counts).where(Ack.message_id == message_id)).all()
        assert sorted(counted) == [False, True], f"message {message_id}: {counted}"
