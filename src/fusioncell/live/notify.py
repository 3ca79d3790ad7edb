"""Wake-ups from other app processes: PostgreSQL ``LISTEN`` on the channel ``emit.py``
notifies in every transaction that wrote live events.

PostgreSQL delivers a ``NOTIFY`` only when its transaction commits, so a wake-up never comes
before the rows can be read. One thread per app process holds the listening connection; a
lost connection costs latency (streams still read every second), and the listener reconnects
and wakes every stream once, for whatever it missed meanwhile. SQLite has no such channel:
several processes on one SQLite file rely on that polling alone.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine

from fusioncell.live.emit import NOTIFY_CHANNEL

log = logging.getLogger("fusioncell.live.notify")

RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)


class EventListener:
    def __init__(self, engine: Engine, wake: Callable[[], None], *, timeout: float = 1.0) -> None:
        url = engine.url
        self.conninfo: str | None = None
        if url.get_backend_name() == "postgresql":
            # libpq takes the URL itself once SQLAlchemy's "+driver" is dropped.
            self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.wake = wake
        self.timeout = timeout
        # Set while a connection is listening (tests wait for it).
        self.listening = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Written to by stop(), so that the thread's wait ends at once, not at its timeout.
        self._interrupt: tuple[int, int] | None = None

    def start(self) -> None:
        if self.conninfo is None:
            return
        self._interrupt = os.pipe()
        self._thread = threading.Thread(target=self._run, name="live-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is None or self._interrupt is None:
            return
        os.write(self._interrupt[1], b"x")
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            for descriptor in self._interrupt:
                os.close(descriptor)
            self._interrupt = None

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
                failures = 0
            except psycopg.Error as exc:
                self.listening.clear()
                delay = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)]
                failures += 1
                log.warning("LISTEN %s failed (%s); again in %s s", NOTIFY_CHANNEL, exc, delay)
                self._stop.wait(delay)

    def _listen(self) -> None:
        assert self.conninfo is not None and self._interrupt is not None
        with psycopg.connect(
            self.conninfo,
            autocommit=True,
            connect_timeout=5,
            application_name="fusioncell-listen",
            # Notice a silently dropped connection within about a minute.
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
        ) as connection:
            connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self.listening.set()
            self.wake()  # for whatever was committed while nobody listened
            waiting_on = [connection.fileno(), self._interrupt[0]]
            while not self._stop.is_set():
                readable, _, _ = select.select(waiting_on, [], [], self.timeout)
                # A burst of commits arrives as many notifications: one wake-up is enough.
                if connection.fileno() in readable and list(connection.notifies(timeout=0)):
                    self.wake()
        self.listening.clear()
