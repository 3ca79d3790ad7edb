"""The cell's reads: each takes the viewer first, but for those that make the viewer."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fusioncell.cell.models import Role
from fusioncell.cell.queries import console_of_cell, is_empty
from fusioncell.scenario.demo import stable_id


def test_a_database_without_a_cell_has_no_console(db: Session) -> None:
    assert is_empty(db)
    assert console_of_cell(db) is None


def test_the_console_of_a_cell_is_its_supervising_organisations_operator(
    db: Session, demo: None
) -> None:
    console = console_of_cell(db)

    assert not is_empty(db)
    assert console is not None and console.is_console
    assert console.organisation_id == stable_id("organisation", "SUPERVISOR")
    assert console.roles == frozenset({Role.ADMIN})
