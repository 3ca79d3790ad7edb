"""Validation ready before the first envelope: STIX validation is imported on first use (it
costs seconds of CPU, which the app's start-up should not pay), so each app process imports it
and builds its validators in a background thread once it has started. A submission arriving
before that waits for the import, as it would have without the warm-up."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session, sessionmaker

from fusioncell.clock import Clock

_SAMPLE = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "created": "2026-01-06T08:00:00.000Z",
    "modified": "2026-01-06T08:00:00.000Z",
    "name": "warm-up",
    "pattern": "[ipv4-addr:value = '198.51.100.1']",
    "pattern_type": "stix",
    "valid_from": "2026-01-06T08:00:00.000Z",
}


class ValidationWarmup:
    """A worker (``tracks.Worker``) that validates one object of each STIX version in the
    background, then ends."""

    def __init__(self, _sessions: sessionmaker[Session], _clock: Clock) -> None:
        pass

    def start(self) -> None:
        threading.Thread(target=_warm, name="stix-warmup", daemon=True).start()

    def stop(self) -> None:
        """Nothing to stop: the thread ends by itself (a daemon; the app does not wait)."""


def _warm() -> None:
    try:
        from fusioncell.intel import stix

        for version in ("2.1", "2.0"):
            stix.validation_errors(_SAMPLE, version)
    except Exception:  # noqa: S110 - a warm-up only saves time; the first submission retries
        pass
