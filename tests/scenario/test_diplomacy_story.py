"""The demo's diplomatic track, mirrored: C1-C5 signed by every signatory, the first
milestone of each assessed after both parties' sealed comments (one met and one breached for
each side), a meeting requested by each party with minutes both agree; the log verifies, and
loading again writes nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.helpers.tables import table_counts
from tests.verification.factories import assert_verifies

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.diplomacy.models import Commitment, Meeting, Milestone
from fusioncell.ledger.context import LedgerContext
from fusioncell.scenario.demo import stable_id
from fusioncell.scenario.diplomacy_story import STORY_SPAN, load_diplomacy_story

SLUG = {stable_id("organisation", s): s for s in ("ALPHA", "BRAVO")}


def test_every_commitment_has_an_assessed_milestone_and_each_side_one_met_one_breached(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
    member: Callable[[str], Viewer],
) -> None:
    start = clock.now()
    load_diplomacy_story(db, start=start)
    db.commit()
    debtor = {c.id: SLUG[c.debtor_id] for c in db.scalars(select(Commitment))}
    keys = {c.id: c.key for c in db.scalars(select(Commitment))}
    assessed = [m for m in db.scalars(select(Milestone)) if m.outcome is not None]
    assert {keys[m.commitment_id].split("-")[0] for m in assessed} == {"C1", "C2", "C3", "C4", "C5"}
    outcomes = Counter((debtor[m.commitment_id], m.outcome) for m in assessed)
    for party in ("ALPHA", "BRAVO"):
        assert outcomes[(party, "met")] >= 1 and outcomes[(party, "breached")] == 1
        assert outcomes[(party, "partially_met")] == 1
    meetings = list(db.scalars(select(Meeting)))
    assert len(meetings) == 2 and all(m.agreed_at is not None for m in meetings)

    assert_verifies(db, engine, ledger, start + STORY_SPAN)
    before = table_counts(db)
    load_diplomacy_story(db, start=start)
    assert table_counts(db) == before
