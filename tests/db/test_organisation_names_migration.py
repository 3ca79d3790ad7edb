"""Migration 0009 gives organisations their names per language: rows from before keep their one
name (and an empty ``names``), and a downgrade takes the column away again, rows intact."""

from __future__ import annotations

import json
import uuid
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from tests.conftest import _fresh_postgres_database

from fusioncell.db import migrate
from fusioncell.db.engine import create_db_engine


@pytest.fixture
def fresh_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
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


def _columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("organisations")}


def test_organisations_gain_names_per_language_and_lose_them_on_downgrade(
    fresh_engine: Engine,
) -> None:
    command.upgrade(migrate.alembic_config(fresh_engine), "0008")
    organisation = uuid.uuid4()
    with fresh_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organisations (id, slug, name, kind, created_at) "
                "VALUES (:id, 'ALPHA', 'Party ALPHA', 'party', :at)"
            ),
            {
                "id": organisation.hex if fresh_engine.dialect.name == "sqlite" else organisation,
                "at": datetime(2026, 1, 1, tzinfo=UTC),
            },
        )
    assert "names" not in _columns(fresh_engine)

    migrate.upgrade(fresh_engine)
    assert "names" in _columns(fresh_engine)
    with fresh_engine.connect() as connection:
        row = connection.execute(text("SELECT slug, name, names FROM organisations")).one()
    names = row.names if isinstance(row.names, dict) else json.loads(row.names)
    assert (row.slug, row.name, names) == ("ALPHA", "Party ALPHA", {})

    command.downgrade(migrate.alembic_config(fresh_engine), "0008")
    assert "names" not in _columns(fresh_engine)
    with fresh_engine.connect() as connection:
        assert connection.execute(text("SELECT slug, name FROM organisations")).all() == [
            ("ALPHA", "Party ALPHA")
        ]
    migrate.upgrade(fresh_engine)
    assert migrate.is_current(fresh_engine)
