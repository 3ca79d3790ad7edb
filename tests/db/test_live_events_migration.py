"""Migration 0006 moves the hotline's events onto the one live bus with their ids, each
pointing at the entry it announced, and back again on a downgrade."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from tests.conftest import DEMO_PASSWORD, _fresh_postgres_database

from fusioncell.cell.models import Member
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import viewer_of
from fusioncell.clock import ManualClock
from fusioncell.db import migrate
from fusioncell.db.engine import create_db_engine, make_sessionmaker
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID
from fusioncell.hotline.actions.escalation import do_escalate_due
from fusioncell.hotline.actions.messages import (
    do_acknowledge_message,
    do_mark_delivered,
    do_send_message,
)
from fusioncell.ledger.context import LedgerContext
from fusioncell.live.models import Event
from fusioncell.scenario.demo import load_demo, stable_id


@pytest.fixture
def fresh_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own: this test moves it down and up the migrations."""
    if backend == "postgresql":
        urls = _fresh_postgres_database()
        url = next(urls)
    else:
        urls, url = None, f"sqlite:///{tmp_path / 'migrating.db'}"
    engine = create_db_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        if urls is not None:
            urls.close()


def _rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(
                    Event.id,
                    Event.track,
                    Event.kind,
                    Event.scope,
                    Event.subject,
                    Event.log_index,
                    Event.payload,
                ).order_by(Event.id)
            )
        ]


def test_the_hotline_events_move_to_the_bus_and_back_with_their_ids(
    fresh_engine: Engine, ledger: LedgerContext
) -> None:
    migrate.upgrade(fresh_engine)
    clock = ManualClock()
    sessions = make_sessionmaker(fresh_engine, ledger=ledger)

    def member(db: Session, name: str) -> Viewer:
        found = db.get(Member, stable_id("member", name))
        assert found is not None
        viewer = viewer_of(found)
        db.commit()
        return viewer

    with sessions() as db:
        load_demo(db, password=DEMO_PASSWORD, now=clock.now(), hash_profile="fast-insecure")
        db.commit()
        alpha, bravo = member(db, "alpha.liaison"), member(db, "bravo.duty")
        flash = do_send_message(
            db,
            alpha,
            message_id=uuid.uuid4(),
            channel_id=CELL_CHANNEL_ID,
            precedence="FLASH",
            text="flash",
            now=clock.now(),
        ).id
        do_mark_delivered(db, bravo, message_ids=[flash], now=clock.now())
        clock.advance(timedelta(minutes=3).total_seconds())
        assert do_escalate_due(db, now=clock.now())
        # Two members of BRAVO acknowledge: the second acknowledgement counts no more.
        for who in (bravo, member(db, "bravo.liaison")):
            do_acknowledge_message(
                db,
                who,
                message_id=flash,
                ack_id=uuid.uuid4(),
                checkpoint_size=None,
                now=clock.now(),
            )
    before = _rows(fresh_engine)
    assert {row[2] for row in before} == {"message", "delivered", "escalation", "acknowledged"}

    command.downgrade(migrate.alembic_config(fresh_engine), "0005")
    with fresh_engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM hotline_events")) == len(before)
    migrate.upgrade(fresh_engine)

    assert _rows(fresh_engine) == before
    # New events continue the same sequence: a resuming client's cursor still holds.
    with sessions() as db:
        do_send_message(
            db,
            member(db, "alpha.liaison"),
            message_id=uuid.uuid4(),
            channel_id=CELL_CHANNEL_ID,
            precedence="ROUTINE",
            text="after the upgrade",
            now=clock.now(),
        )
        assert db.scalar(select(func.max(Event.id))) == before[-1][0] + 1
