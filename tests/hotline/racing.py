"""Helpers for tests that race actions in separate transactions, each in its own thread and
session, released together by a barrier."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID
from fusioncell.hotline.actions.messages import do_send_message

Call = Callable[[Session, Viewer], object]


def flashes(db: Session, sender: Viewer, clock: ManualClock, count: int) -> list[uuid.UUID]:
    """``count`` FLASH messages to the cell channel, one per round of a race."""
    return [
        do_send_message(
            db,
            sender,
            message_id=uuid.uuid4(),
            channel_id=CELL_CHANNEL_ID,
            precedence="FLASH",
            text=f"Round {round_}",
            now=clock.now(),
        ).id
        for round_ in range(count)
    ]


def race(
    sessions: sessionmaker[Session], actors: Sequence[Viewer], call: Call
) -> list[BaseException]:
    """Run ``call`` once per actor, all at the same moment; return what each raised."""
    start = threading.Barrier(len(actors))
    failures: list[BaseException] = []

    def run(actor: Viewer) -> None:
        with sessions() as session:
            start.wait()
            try:
                call(session, actor)
            except BaseException as exc:  # returned to the test, not swallowed
                failures.append(exc)

    threads = [threading.Thread(target=run, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return failures
