"""The deconfliction track's background duties, in a thread of each app process (like the
hotline's engine): every second, escalate the acknowledgements and FLASH justifications that
fell due; and whenever what every conflict check depends on besides the notifications
changes (the protected places, the zones, the rules in force), check every notification
again. At start-up both run at once, so what fell due or changed while the server was down
is written on restart.

Two processes doing the same take turns at the log's lock; the second finds the steps
already logged and the conflicts already recorded, and writes nothing (a duplicate
escalation fails on its primary key and is retried on the next tick with nothing left).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fusioncell.clock import Clock
from fusioncell.deconfliction.actions.checks import do_recheck_conflicts, inputs_fingerprint
from fusioncell.deconfliction.actions.escalation import do_escalate_due_notifications

log = logging.getLogger("fusioncell.deconfliction")


class NotificationEngine:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, *, interval: float = 1.0
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.interval = interval
        self.fingerprint: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="deconfliction-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run_once(self) -> None:
        with self.sessions() as db:
            fingerprint = inputs_fingerprint(db)
            db.commit()
            if fingerprint != self.fingerprint:
                do_recheck_conflicts(db, now=self.clock.now())
                self.fingerprint = fingerprint
            do_escalate_due_notifications(db, now=self.clock.now())

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except IntegrityError:
                log.info("another process wrote the same escalation first")
            except Exception:  # one failure must not stop the ladder
                log.exception("deconfliction engine tick failed")
            self._stop.wait(self.interval)
