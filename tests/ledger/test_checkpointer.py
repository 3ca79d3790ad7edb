"""The checkpointer and a witness that goes away and comes back: a real witness app, in process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from fusioncell.app import create_app
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.ledger import queries
from fusioncell.ledger.checkpoint import Cosigner
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.witness import RateLimiter, WitnessState, create_witness_app

WITNESS = Cosigner("witness.bravo", bytes(range(32, 64)))


@pytest.fixture
def witnessed_app(
    engine: object, settings: Settings, clock: ManualClock, demo: None
) -> Iterator[FastAPI]:
    spec = f"{WITNESS.verifier().key_string()} http://witness.test"
    application = create_app(
        replace(settings, witnesses=spec, background_checkpoints=False), clock=clock
    )
    yield application
    application.state.engine.dispose()


@pytest.fixture
def witness(tmp_path: Path, ledger: LedgerContext) -> Iterator[TestClient]:
    """BRAVO's witness, up: its state on disk survives it, as a restarted process's would."""
    app = create_witness_app(
        cosigner=WITNESS,
        log_verifier=ledger.keyring.log_signer.verifier(),
        state=WitnessState.load(tmp_path / "witness.state.json"),
        clock=lambda: 1_767_686_400,
        limiter=RateLimiter(rate=1000, burst=1000),
    )
    with TestClient(app) as client:
        yield client


def unreachable() -> httpx.Client:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    return httpx.Client(transport=httpx.MockTransport(refuse))


def test_a_witness_that_was_down_is_sent_the_newest_checkpoint_once_back_without_new_entries(
    witnessed_app: FastAPI, witness: TestClient, db: Session, clock: ManualClock
) -> None:
    checkpointer = witnessed_app.state.checkpointer
    with unreachable() as down:
        signed = checkpointer.run_once(down)
    assert signed is not None
    assert queries.cosigners_of(db, signed.size) == []

    again = checkpointer.run_once(witness)  # within the pause after a failure: not asked yet
    db.rollback()
    assert queries.cosigners_of(db, signed.size) == []
    clock.advance(1)
    later = checkpointer.run_once(witness)

    assert again is None and later is None  # the log did not grow
    db.rollback()
    assert queries.cosigners_of(db, signed.size) == [WITNESS.name]


def test_an_unreachable_witness_is_asked_again_after_1_2_4_then_every_5_seconds(
    witnessed_app: FastAPI, clock: ManualClock
) -> None:
    checkpointer = witnessed_app.state.checkpointer
    start = clock.now()
    attempts: list[int] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(int((clock.now() - start).total_seconds()))
        raise httpx.ConnectError("connection refused", request=request)

    with httpx.Client(transport=httpx.MockTransport(refuse)) as down:
        for _second in range(23):
            checkpointer.run_once(down)
            clock.advance(1)

    assert attempts == [0, 1, 3, 7, 12, 17, 22]
