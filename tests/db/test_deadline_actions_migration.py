"""Migration 0011 adds the deadline actions' table, and a downgrade takes it away again leaving
every other hotline row as it was; upgraded again, the table takes new actions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session
from tests.conftest import DEMO_PASSWORD, _fresh_postgres_database

from fusioncell.cell.models import Member
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import viewer_of
from fusioncell.clock import ManualClock
from fusioncell.db import migrate
from fusioncell.db.engine import create_db_engine, make_sessionmaker
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID
from fusioncell.hotline.actions.deadline_actions import do_note_deadline_action
from fusioncell.hotline.actions.messages import do_send_message
from fusioncell.hotline.models import DeadlineAction, Message
from fusioncell.ledger.context import LedgerContext
from fusioncell.scenario.demo import load_demo, stable_id

BRAVO = stable_id("organisation", "BRAVO")


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


def member(db: Session, name: str) -> Viewer:
    found = db.get(Member, stable_id("member", name))
    assert found is not None
    viewer = viewer_of(found)
    db.commit()
    return viewer


def note_call(db: Session, message_id: uuid.UUID, clock: ManualClock) -> DeadlineAction:
    return do_note_deadline_action(
        db,
        member(db, "supervisor.duty"),
        action_id=uuid.uuid4(),
        message_id=message_id,
        organisation_id=BRAVO,
        kind="call",
        note="Rang BRAVO",
        now=clock.now(),
    )


def test_the_deadline_actions_table_comes_and_goes_with_its_migration(
    fresh_engine: Engine, ledger: LedgerContext
) -> None:
    migrate.upgrade(fresh_engine)
    clock = ManualClock()
    sessions = make_sessionmaker(fresh_engine, ledger=ledger)
    with sessions() as db:
        load_demo(db, password=DEMO_PASSWORD, now=clock.now(), hash_profile="fast-insecure")
        db.commit()
        message = do_send_message(
            db,
            member(db, "alpha.liaison"),
            message_id=uuid.uuid4(),
            channel_id=CELL_CHANNEL_ID,
            precedence="FLASH",
            text="flash",
            now=clock.now(),
        ).id
        note_call(db, message, clock)
        assert db.scalar(select(func.count()).select_from(DeadlineAction)) == 1

    command.downgrade(migrate.alembic_config(fresh_engine), "0009")

    assert "hotline_deadline_actions" not in inspect(fresh_engine).get_table_names()
    with sessions() as db:
        assert db.scalar(select(Message.id)) == message

    migrate.upgrade(fresh_engine)

    assert migrate.is_current(fresh_engine)
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(DeadlineAction)) == 0
        clock.advance(1)
        again = note_call(db, message, clock)
        db.rollback()
        assert db.get(DeadlineAction, again.id) is not None
