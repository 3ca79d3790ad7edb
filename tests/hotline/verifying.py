"""``fusioncell verify`` over a test's database, with the registry's replays (escalation)."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from fusioncell import bootstrap
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.verify import DatabaseSource, VerifyReport, verify_log


def verify(app: FastAPI, engine: Engine, ledger: LedgerContext) -> VerifyReport:
    """Sign a checkpoint over everything committed, then verify the log up to it."""
    app.state.checkpointer.run_once()
    with DatabaseSource(engine) as source:
        return verify_log(
            source, log_key=ledger.keyring.log_signer.verifier(), replays=bootstrap.REPLAYS
        )
