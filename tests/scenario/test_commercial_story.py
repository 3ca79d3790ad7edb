"""The demo's commercial track, mirrored: a project per party with a milestone met, one
missed and one open, a shipment passed and a late one refused through the Quneitra crossing;
the same figures for both parties, the log verifies, and loading again writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.commercial.factories import assert_verifies
from tests.helpers.tables import table_counts

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.commercial.models import Project, Shipment
from fusioncell.commercial.queries.stats import statistics
from fusioncell.ledger.context import LedgerContext
from fusioncell.scenario.commercial_story import load_commercial_story


def test_each_party_runs_a_project_with_every_step_and_the_same_figures(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
    member: Callable[[str], Viewer],
) -> None:
    set_up = clock.now()
    start = set_up + timedelta(days=6)
    load_commercial_story(db, start=start, set_up=set_up)
    db.commit()

    projects = list(db.scalars(select(Project)))
    assert sorted(p.status for p in projects) == ["active", "active"]
    shipments = list(db.scalars(select(Shipment)))
    assert sorted((s.lead_time, s.state) for s in shipments) == [
        ("late", "refused"),
        ("late", "refused"),
        ("on_time", "passed"),
        ("on_time", "passed"),
    ]
    alpha, bravo = statistics(db, member("supervisor.chair"))
    assert (alpha.party, bravo.party) == ("ALPHA", "BRAVO")
    assert (alpha.shipments_declared, alpha.shipments_refused, alpha.shipments_late) == (2, 1, 1)
    assert (alpha.milestones_met, alpha.milestones_missed, alpha.milestones_open) == (1, 1, 1)
    assert replace(alpha, party="") == replace(bravo, party="")

    assert_verifies(db, engine, ledger, start + timedelta(minutes=5))
    before = table_counts(db)
    load_commercial_story(db, start=start, set_up=set_up)
    assert table_counts(db) == before
