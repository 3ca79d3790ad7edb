"""``fusioncell verify`` over a test's database: in process (a ``VerifyReport``) or as the
command, and the raw SQL a test uses to tamper with the copy it verifies."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, select, text

from fusioncell import bootstrap
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import LogEntry
from fusioncell.ledger.verify import DatabaseSource, StateCheck, VerifyReport, verify_log


def verify_database(engine: Engine, ledger: LedgerContext, **options: Any) -> VerifyReport:
    """The log in the database against the log's key; ``options`` as ``verify_log`` takes them
    (``state_checks``, ``replays``), and ``page_size`` for the source."""
    with DatabaseSource(engine, page_size=options.pop("page_size", 1000)) as source:
        return verify_log(source, log_key=ledger.keyring.log_signer.verifier(), **options)


def verify_state(
    engine: Engine,
    ledger: LedgerContext,
    checks: Sequence[StateCheck] | None = bootstrap.STATE_CHECKS,
) -> VerifyReport:
    """As ``verify --database-url`` does: every body, and the registry's state checks (the
    tracks' rows and audiences)."""
    return verify_database(engine, ledger, state_checks=checks)


def verify_replays(app: FastAPI, engine: Engine, ledger: LedgerContext) -> VerifyReport:
    """Sign a checkpoint over everything committed, then verify the log up to it with the
    registry's replays (escalation)."""
    app.state.checkpointer.run_once()
    return verify_database(engine, ledger, replays=bootstrap.REPLAYS)


def fusioncell_verify(*args: str, key_dir: Path) -> subprocess.CompletedProcess[str]:
    """``fusioncell verify`` as a process of its own, with the test's keys."""
    return subprocess.run(
        [sys.executable, "-m", "fusioncell.cli", "verify", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "FUSIONCELL_KEY_DIR": str(key_dir)},
        timeout=120,
    )


def sql(engine: Engine, statement: str, **params: Any) -> Any:
    with engine.begin() as connection:
        return connection.execute(text(statement), params)


def scalar(engine: Engine, statement: str, **params: Any) -> Any:
    with engine.connect() as connection:
        return connection.scalar(text(statement), params)


def entry_index(engine: Engine, entry_type: StrEnum, *, last: bool = False) -> int:
    """The index of the first (or ``last``) entry of a type."""
    with engine.connect() as connection:
        indexes = connection.scalars(
            select(LogEntry.index)
            .where(LogEntry.entry_type == entry_type.value)
            .order_by(LogEntry.index)
        ).all()
    return int(indexes[-1] if last else indexes[0])


def tamper(engine: Engine, statement: Any) -> None:
    """Change exactly one row behind the actions' back, as an edited copy would."""
    with engine.begin() as connection:
        assert connection.execute(statement).rowcount in (1, -1)  # -1: psycopg on insert
