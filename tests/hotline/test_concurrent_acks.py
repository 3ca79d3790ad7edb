"""Two members of one party acknowledging the same message at the same moment: exactly one
acknowledgement is the party's first, on both databases."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.db.engine import make_sessionmaker
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID
from fusioncell.hotline.actions.messages import do_acknowledge_message, do_send_message
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
    alpha, duty, liaison = member("alpha.liaison"), member("bravo.duty"), member("bravo.liaison")
    messages = [
        do_send_message(
            db,
            alpha,
            message_id=uuid.uuid4(),
            channel_id=CELL_CHANNEL_ID,
            precedence="FLASH",
            text=f"Round {round_}",
            now=clock.now(),
        ).id
        for round_ in range(ROUNDS)
    ]
    sessions = make_sessionmaker(engine, ledger=ledger)
    failures: list[BaseException] = []

    def acknowledge(actor: Viewer, message_id: uuid.UUID, start: threading.Barrier) -> None:
        with sessions() as session:
            start.wait()
            try:
                do_acknowledge_message(
                    session,
                    actor,
                    message_id=message_id,
                    ack_id=uuid.uuid4(),
                    checkpoint_size=None,
                    now=clock.now(),
                )
            except BaseException as exc:  # reported below, not swallowed
                failures.append(exc)

    for message_id in messages:
        start = threading.Barrier(2)
        threads = [
            threading.Thread(target=acknowledge, args=(actor, message_id, start))
            for actor in (duty, liaison)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert failures == []
    db.rollback()
    for message_id in messages:
        counted = db.scalars(select(Ack.counts).where(Ack.message_id == message_id)).all()
        assert sorted(counted) == [False, True], f"message {message_id}: {counted}"
