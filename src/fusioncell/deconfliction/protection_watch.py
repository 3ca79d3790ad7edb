"""The registry's and early warning's background duties, in a thread of each app process:
send each party its weekly no-strike list when due, look at the observations recorded since
the last look for military holdings near a protected community, and have the hotline carry
every alert of the last day to the parties it concerns (what a restart left uncarried).

Everything it writes is keyed by what it is about (a list by party and week, an alert by its
source and community, a hotline message by its alert and party), so two processes, or one
after a restart, write each thing once: the loser of a race fails on a unique key and finds
the winner's row on its next tick.
"""

from __future__ import annotations

import logging
import threading
import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fusioncell.clock import Clock
from fusioncell.deconfliction.actions.early_warning import (
    CARRY_WITHIN,
    carry_alerts,
    do_scan_early_warning,
    watch_viewer,
)
from fusioncell.deconfliction.actions.registry import do_send_weekly_no_strike_lists
from fusioncell.deconfliction.queries.incidents import alerts_raised_since

log = logging.getLogger("fusioncell.deconfliction")


class ProtectionWatch:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, *, interval: float = 2.0
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.interval = interval
        # The last live event looked at (from the first after a start: raising is keyed).
        self.cursor = 0
        # Alerts whose hotline messages stand (a restart asks the hotline again).
        self.carried: set[uuid.UUID] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="protection-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run_once(self) -> None:
        with self.sessions() as db:
            now = self.clock.now()
            watch = watch_viewer(db)
            if watch is None:
                return
            do_send_weekly_no_strike_lists(db, watch, now=now)
            scan = do_scan_early_warning(db, after=self.cursor, now=now)
            self.cursor = scan.cursor
            recent = [
                alert
                for alert in alerts_raised_since(db, now - CARRY_WITHIN)
                if alert.id not in self.carried
            ]
            carry_alerts(db, recent, now=now)
            self.carried.update(alert.id for alert in recent)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except IntegrityError:
                log.info("another process wrote the same list, alert or message first")
            except Exception:  # one failure must not stop the watch
                log.exception("protection watch tick failed")
            self._stop.wait(self.interval)
