"""Full-text search pages newest first, as the list does, whichever order the database reads
the matches in (SQLite reads them by rowid, which follows the log)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session
from tests.intel.factories import bundle, identity, indicator, submit

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.intel.queries import Filters, list_reports

Member = Callable[[str], Viewer]


def test_search_is_newest_first_and_pages_by_the_log(
    db: Session, member: Member, clock: ManualClock
) -> None:
    analyst = member("alpha.analyst")
    made = [
        submit(db, analyst, clock, bundle(identity(), indicator(f"Convoy {n}"))) for n in range(7)
    ]
    submit(db, analyst, clock, bundle(identity(), indicator("Something else")))
    db.commit()
    found = list_reports(db, analyst, Filters(text="convoy"), limit=4)
    assert [r.id for r in found] == [r.id for r in reversed(made)][:4]
    rest = list_reports(db, analyst, Filters(text="convoy"), before=found[-1].id, limit=50)
    assert [r.id for r in rest] == [r.id for r in reversed(made)][4:]
    indexes = [r.log_index for r in [*found, *rest]]
    assert indexes == sorted(indexes, reverse=True)
