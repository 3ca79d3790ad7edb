"""Row counts read fresh from the database, and the proof that a refused action wrote nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, Engine, Table, func, select, text
from sqlalchemy.orm import Session

from fusioncell.db.registry import metadata

E = TypeVar("E", bound=BaseException)

# Every table's rows, by table name, in the order the tables are created.
Rows = dict[str, list[dict[str, Any]]]


def snapshot(engine: Engine) -> Rows:
    """Every row of every table, to ``restore`` into emptied tables later."""
    with engine.connect() as connection:
        return {
            table.name: [dict(row) for row in connection.execute(table.select()).mappings()]
            for table in metadata.sorted_tables
        }


def restore(engine: Engine, rows: Rows) -> None:
    """Put back what ``snapshot`` read, into empty tables, in one transaction (parents first)."""
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if found := rows.get(table.name):
                connection.execute(table.delete())
                connection.execute(table.insert(), found)
                _continue_ids_after(connection, table, found)


def _continue_ids_after(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """A table whose ids the database draws (an identity; SQLite's AUTOINCREMENT) draws the
    next after the restored rows, as after a first load; ids already drawn by earlier tests
    would otherwise leave a gap the credential epoch's tests see."""
    for column in table.primary_key.columns:
        if column.identity is None:
            continue
        highest = max(row[column.name] for row in rows)
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence(:table, :column), :highest)"),
                {"table": table.name, "column": column.name, "highest": highest},
            )
        else:
            connection.execute(
                text("UPDATE sqlite_sequence SET seq = :highest WHERE name = :table"),
                {"table": table.name, "highest": highest},
            )


def count_rows(db: Session, model: type) -> int:
    """How many rows a table holds, read outside any transaction the test left open."""
    db.rollback()
    total = db.scalar(select(func.count()).select_from(model))
    db.rollback()
    return int(total or 0)


def table_counts(db: Session) -> dict[str, int]:
    """Rows per table, every table."""
    db.rollback()
    counts = {
        table.name: int(db.scalar(select(func.count()).select_from(table)) or 0)
        for table in metadata.sorted_tables
    }
    db.rollback()
    return counts


@contextmanager
def refused(db: Session, error: type[E]) -> Iterator[pytest.ExceptionInfo[E]]:
    """The block raises ``error`` and leaves every table as it was."""
    before = table_counts(db)
    with pytest.raises(error) as raised:
        yield raised
    assert table_counts(db) == before
