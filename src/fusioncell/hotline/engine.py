"""The hotline's background duties: escalate what fell due and send the scheduled link tests.

Like the checkpointer, it runs in a thread of each app process. Two processes escalating at
once take turns at the log's lock, and the second finds the steps already logged; two sending
the same link test write the same row, and the loser's transaction fails on the primary key
and is retried on the next tick with nothing left to do.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fusioncell.clock import Clock
from fusioncell.hotline.actions.escalation import do_escalate_due
from fusioncell.hotline.actions.messages import do_send_link_test
from fusioncell.hotline.rules import HOTLINE_RULES
from fusioncell.ledger.context import ledger_context

log = logging.getLogger("fusioncell.hotline")


class HotlineEngine:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, *, interval: float = 1.0
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hotline-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run_once(self) -> None:
        with self.sessions() as db:
            now = self.clock.now()
            policy = ledger_context(db).rules(HOTLINE_RULES)
            every = policy.link_test_every.total_seconds()
            if every > 0:
                do_send_link_test(db, sequence=int(now.timestamp() // every), now=now)
            do_escalate_due(db, now=self.clock.now())

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except IntegrityError:
                log.info("another process wrote the same escalation first")
            except Exception:  # one failure must not stop the ladder
                log.exception("hotline engine tick failed")
            self._stop.wait(self.interval)
