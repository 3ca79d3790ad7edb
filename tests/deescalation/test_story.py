"""The demo's de-escalation story: mirrored candidates for both parties, computed from the
signed record, the log verifies, and loading the story again writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.helpers.tables import table_counts
from tests.helpers.verifying import verify_state

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.deescalation import queries
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext
from fusioncell.scenario.deescalation_story import load_deescalation_story
from fusioncell.scenario.hotline_story import LEAD


def _found(db: Session, viewer: Viewer, at: datetime, source: str) -> set[tuple[object, ...]]:
    result = queries.compliance(db, viewer, at=at, source=source)
    return {(c.rule, c.party, c.zone, c.category, c.value, c.exception) for c in result.candidates}


def test_the_story_gives_each_party_its_candidates_and_loads_once(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
    member: Callable[[str], Viewer],
) -> None:
    start = clock.now()
    load_deescalation_story(db, start=start)
    at = start + LEAD + timedelta(minutes=1)
    verified: set[tuple[object, ...]] = {
        ("R2", "ALPHA", "limitation-alpha-0-10", "tank", 78, None),
        ("R6", "ALPHA", "limitation-alpha-0-10", "tank", 78, None),
        ("R2", "BRAVO", "limitation-bravo-0-10", "personnel", 6200, None),
        ("R6", "BRAVO", "limitation-bravo-0-10", "personnel", 6200, None),
    }
    [agreed] = queries.list_exceptions(db, member("verifier.lead"))
    verified |= {
        ("R2", "BRAVO", "limitation-bravo-0-10", "tank", 78, str(agreed.id)),
        ("R6", "BRAVO", "limitation-bravo-0-10", "tank", 78, str(agreed.id)),
    }
    for username in ("alpha.liaison", "bravo.liaison", "supervisor.chair", "verifier.lead"):
        assert _found(db, member(username), at, "verification") == verified
    # Each report reaches its reporter and the supervisor, not the party it accuses.
    alpha_report = ("R3", "BRAVO", "limitation-bravo-10-20", "artillery", 25, None)
    bravo_report = ("R3", "ALPHA", "limitation-alpha-10-20", "artillery", 25, None)
    assert _found(db, member("alpha.liaison"), at, "report") == {alpha_report}
    assert _found(db, member("bravo.liaison"), at, "report") == {bravo_report}
    assert _found(db, member("supervisor.chair"), at, "report") == {alpha_report, bravo_report}
    # The exception is agreed by all three signatories.
    signed = queries.signatures_of(db, [agreed.id])[agreed.id]
    assert len(signed) == 3 and agreed.max_count == 80

    do_sign_checkpoint(db, now=at)
    db.commit()
    assert verify_state(engine, ledger).ok
    before = table_counts(db)
    load_deescalation_story(db, start=start)
    assert table_counts(db) == before
