"""The server's background integrator: signs a checkpoint at least every second (at once when
woken, e.g. after a FLASH message) and pushes it to the witnesses."""

from __future__ import annotations

import logging
import threading

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from fusioncell.clock import Clock
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.models import LogCheckpoint
from fusioncell.ledger.record import APPENDED
from fusioncell.ledger.witnesses import Witness, push

log = logging.getLogger("fusioncell.checkpointer")

ON_APPEND = "fusioncell_on_append"
INTERVAL_SECONDS = 1.0


class Checkpointer:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        witnesses: list[Witness],
        *,
        interval: float = INTERVAL_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.witnesses = witnesses
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="checkpointer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run_once(self, client: httpx.Client | None = None) -> LogCheckpoint | None:
        with self.sessions() as db:
            checkpoint = do_sign_checkpoint(db, now=self.clock.now())
            if checkpoint is not None and self.witnesses:
                own = client or httpx.Client(timeout=5)
                try:
                    for witness in self.witnesses:
                        push(db, own, witness, checkpoint, now=self.clock.now())
                finally:
                    if client is None:
                        own.close()
            return checkpoint

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop.is_set():
                self._wake.wait(self.interval)
                self._wake.clear()
                if self._stop.is_set():
                    break
                try:
                    self.run_once(client)
                except Exception:  # keep integrating: one failure must not stop the log
                    log.exception("checkpoint failed")


@event.listens_for(Session, "after_commit")
def _wake_on_append(session: Session) -> None:
    if session.info.pop(APPENDED, None):
        callback = session.info.get(ON_APPEND)
        if callable(callback):
            callback()


@event.listens_for(Session, "after_rollback")
def _forget_appended(session: Session) -> None:
    session.info.pop(APPENDED, None)
