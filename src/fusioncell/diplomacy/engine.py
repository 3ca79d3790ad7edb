"""The diplomatic track's background duty, in a thread of each app process (like the
verification track's engine): every second, reveal the sealed comments whose window has
closed and escalate the deadlines missed. At start-up it runs at once, so what fell due while
the server was down is written on restart. Two processes take turns at the log's lock; the second finds nothing left."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fusioncell.clock import Clock
from fusioncell.diplomacy.actions.assessment import do_reveal_due_comments
from fusioncell.diplomacy.actions.escalation import do_escalate_due_deadlines

log = logging.getLogger("fusioncell.diplomacy")


class DiplomacyEngine:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, *, interval: float = 1.0
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="diplomacy-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run_once(self) -> None:
        with self.sessions() as db:
            do_reveal_due_comments(db, now=self.clock.now())
            do_escalate_due_deadlines(db, now=self.clock.now())

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except IntegrityError:
                log.info("another process wrote the same step first")
            except Exception:  # one failure must not stop the deadlines
                log.exception("diplomacy engine tick failed")
            self._stop.wait(self.interval)
