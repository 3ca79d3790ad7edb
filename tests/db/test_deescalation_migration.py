"""Migration 0013 adds the de-escalation tables, and a downgrade takes them away again leaving
every earlier row as it was; upgraded again, the tables take new observations."""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import cast

import pytest
from alembic import command
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session
from tests.conftest import DEMO_PASSWORD, _fresh_postgres_database

from fusioncell.cell.models import Member, Organisation
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import viewer_of
from fusioncell.clock import ManualClock
from fusioncell.db import migrate
from fusioncell.db.engine import create_db_engine, make_sessionmaker
from fusioncell.deescalation.actions.observations import do_record_observations
from fusioncell.deescalation.models import ObservationRow
from fusioncell.ledger.context import LedgerContext
from fusioncell.scenario.demo import load_demo, stable_id

TABLES = {
    "deescalation_observation_batches",
    "deescalation_observation_releases",
    "deescalation_observations",
    "deescalation_baselines",
    "deescalation_exceptions",
    "deescalation_exception_signatures",
}


@pytest.fixture
def fresh_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own: this test moves it down and up the migrations."""
    urls: Generator[str, None, None] | None = None
    if backend == "postgresql":
        urls = cast(Generator[str, None, None], _fresh_postgres_database())
        url = next(urls)
    else:
        url = f"sqlite:///{tmp_path / 'migrating.db'}"
    engine = create_db_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        if urls is not None:
            urls.close()


def verifier(db: Session) -> Viewer:
    found = db.get(Member, stable_id("member", "verifier.lead"))
    assert found is not None
    viewer = viewer_of(found)
    db.commit()
    return viewer


def record(db: Session, clock: ManualClock, fid: str) -> None:
    feature = {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [35.75, 33.12]},
        "properties": {
            "unit": fid,
            "party": "ALPHA",
            "category": "tank",
            "count": 3,
            "observed_at": "2026-01-06T07:00:00Z",
            "source": "inspection",
        },
    }
    document = {"type": "FeatureCollection", "features": [feature]}
    do_record_observations(db, verifier(db), document, now=clock.now())


def test_the_deescalation_tables_come_and_go_with_their_migration(
    fresh_engine: Engine, ledger: LedgerContext
) -> None:
    migrate.upgrade(fresh_engine)
    clock = ManualClock()
    sessions = make_sessionmaker(fresh_engine, ledger=ledger)
    with sessions() as db:
        load_demo(db, password=DEMO_PASSWORD, now=clock.now(), hash_profile="fast-insecure")
        db.commit()
        record(db, clock, "first")
        assert db.scalar(select(func.count()).select_from(ObservationRow)) == 1
        organisations = db.scalar(select(func.count()).select_from(Organisation))

    command.downgrade(migrate.alembic_config(fresh_engine), "0012")

    assert not TABLES & set(inspect(fresh_engine).get_table_names())
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(Organisation)) == organisations

    migrate.upgrade(fresh_engine)

    assert migrate.is_current(fresh_engine)
    assert set(inspect(fresh_engine).get_table_names()) >= TABLES
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(ObservationRow)) == 0
        clock.advance(1)
        record(db, clock, str(uuid.uuid4()))
        assert db.scalar(select(func.count()).select_from(ObservationRow)) == 1
