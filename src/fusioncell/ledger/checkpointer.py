"""The server's background integrator: signs a checkpoint at least every second (at once when
woken, e.g. after a FLASH message) and pushes it to the witnesses. Checkpoints are at least
``MIN_SPACING_SECONDS`` apart: under a burst of appends one checkpoint covers them all, instead
of a signature and a round of witness requests per append.

A witness that was down when a checkpoint was signed is asked again for the newest one, even if
the log has not grown since: otherwise a quiet log would never count again after a witness
restarts. The push carries a consistency proof from what that witness last cosigned, so it
catches up in one request. Retries back off (1, 2, 4, then every 5 seconds) so that an
unreachable witness does not hold up the others every second.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from fusioncell.clock import Clock
from fusioncell.ledger import queries
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.append import APPENDED
from fusioncell.ledger.models import LogCheckpoint
from fusioncell.ledger.witnesses import Witness, push

log = logging.getLogger("fusioncell.checkpointer")

ON_APPEND = "fusioncell_on_append"
INTERVAL_SECONDS = 1.0
MIN_SPACING_SECONDS = 0.25
RETRY_MAX_SECONDS = 5


@dataclass(frozen=True)
class _Backoff:
    failures: int
    until: datetime


class Checkpointer:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        witnesses: list[Witness],
        *,
        interval: float = INTERVAL_SECONDS,
        min_spacing: float = MIN_SPACING_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.witnesses = witnesses
        self.interval = interval
        self.min_spacing = min_spacing
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._backoff: dict[str, _Backoff] = {}

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
        """Sign a checkpoint if the log grew; push the newest one to each witness lacking it."""
        with self.sessions() as db:
            checkpoint = do_sign_checkpoint(db, now=self.clock.now())
            newest = (checkpoint or queries.newest_checkpoint(db)) if self.witnesses else None
            if newest is not None:
                cosigned = set(queries.cosigners_of(db, newest.size))
                due = [w for w in self.witnesses if w.name not in cosigned and self._due(w)]
                own = client or httpx.Client(timeout=5)
                try:
                    for witness in due:
                        self._pushed(witness, push(db, own, witness, newest, now=self.clock.now()))
                finally:
                    if client is None:
                        own.close()
            return checkpoint

    def _due(self, witness: Witness) -> bool:
        backoff = self._backoff.get(witness.name)
        return backoff is None or self.clock.now() >= backoff.until

    def _pushed(self, witness: Witness, cosigned: bool) -> None:
        if cosigned:
            self._backoff.pop(witness.name, None)
            return
        earlier = self._backoff.get(witness.name)
        failures = earlier.failures + 1 if earlier is not None else 1
        pause = min(2 ** (failures - 1), RETRY_MAX_SECONDS)
        until = self.clock.now() + timedelta(seconds=pause)
        self._backoff[witness.name] = _Backoff(failures, until)

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            last = 0.0
            while not self._stop.is_set():
                self._wake.wait(self.interval)
                early = self.min_spacing - (time.monotonic() - last)
                if early > 0 and self._stop.wait(early):
                    break
                self._wake.clear()
                if self._stop.is_set():
                    break
                last = time.monotonic()
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
