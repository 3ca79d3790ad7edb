"""Row counts read fresh from the database, and the proof that a refused action wrote nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fusioncell.db.registry import metadata

E = TypeVar("E", bound=BaseException)


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
