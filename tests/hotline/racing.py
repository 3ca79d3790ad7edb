"""Helpers for tests that race actions in separate transactions, each in its own thread and
session, released together by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from fusioncell.cell.policy import Viewer

Call = Callable[[Session, Viewer], object]


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
