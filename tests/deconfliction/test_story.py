"""The demo's notifications: a convoy acknowledged by both parties, ALPHA's works flagged in
conflict and amended clear, BRAVO's training clear, a FLASH medevac by each side acknowledged
by the other; the log verifies, and loading the story again writes nothing."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.deconfliction.factories import assert_verifies
from tests.helpers.tables import table_counts

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.deconfliction.entries import NotificationEntry
from fusioncell.deconfliction.models import Notification
from fusioncell.deconfliction.queries.notifications import around, state_of
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import EntryBody, LogEntry
from fusioncell.scenario.deconfliction_story import load_deconfliction_story
from fusioncell.scenario.demo import stable_id


def test_the_story_notifies_checks_acknowledges_and_loads_once(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
    member: Callable[[str], Viewer],
) -> None:
    load_deconfliction_story(db, start=clock.now())
    db.commit()
    rows = list(db.scalars(select(Notification)))
    known = around(db, rows)
    slug = {stable_id("organisation", s): s for s in ("ALPHA", "BRAVO", "HUM-1")}

    def acked_by(n: Notification) -> set[str]:
        return {slug[a.organisation_id] for a in known.acks[n.id] if a.version == n.version}

    by_kind = {(n.kind, slug[n.organisation_id]): n for n in rows if not n.flash}
    convoy = by_kind[("movement", "HUM-1")]
    assert (convoy.lead_time, convoy.conflict_status) == ("on_time", "clear")
    assert acked_by(convoy) == {"ALPHA", "BRAVO"}
    works = by_kind[("activity", "ALPHA")]
    assert (works.version, works.conflict_status, works.lead_time) == (1, "clear", "on_time")
    assert works.near_line and acked_by(works) == {"BRAVO"}
    # Its first check flagged Majdal Shams.
    first = db.scalar(
        select(EntryBody.body)
        .join(LogEntry, LogEntry.index == EntryBody.entry_index)
        .where(
            LogEntry.entry_type == NotificationEntry.CHECKED,
            EntryBody.body.contains(f'"notification":"{works.id}"'),
        )
        .order_by(LogEntry.index)
        .limit(1)
    )
    assert first is not None and '"majdal-shams"' in first and '"flagged"' in first
    training = by_kind[("activity", "BRAVO")]
    assert (training.conflict_status, training.lead_time, training.near_line) == (
        "clear",
        "on_time",
        False,
    )
    assert acked_by(training) == {"ALPHA"}
    medevacs = {slug[n.organisation_id]: n for n in rows if n.flash}
    assert set(medevacs) == {"ALPHA", "BRAVO"}
    assert acked_by(medevacs["ALPHA"]) == {"BRAVO"} and acked_by(medevacs["BRAVO"]) == {"ALPHA"}
    for n in medevacs.values():
        assert (n.lead_time, n.precedence, n.justified_at) == ("on_time", "FLASH", None)
        assert state_of(n, known.recipients[n.id], known.acks[n.id], now=n.submitted_at) == "clear"
    assert_verifies(db, engine, ledger, clock.now())
    before = table_counts(db)
    load_deconfliction_story(db, start=clock.now())
    assert table_counts(db) == before
