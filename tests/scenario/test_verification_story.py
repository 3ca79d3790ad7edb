"""The demo's disputes, mirrored: every finding and every open step happens for both parties,
the statistics are the same for each, the sealed comments stay sealed, the log verifies, and
loading the story again writes nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.helpers.tables import table_counts
from tests.verification.factories import assert_verifies

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.ledger.context import LedgerContext
from fusioncell.scenario.demo import stable_id
from fusioncell.scenario.verification_story import STORY_LEAD, load_verification_story
from fusioncell.verification.models import Case, CaseState
from fusioncell.verification.queries.cases import comments_of, incidents_of, triage_queue
from fusioncell.verification.queries.stats import statistics

SLUG = {stable_id("organisation", s): s for s in ("ALPHA", "BRAVO")}


def test_the_story_shows_every_outcome_for_both_parties_and_loads_once(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
    member: Callable[[str], Viewer],
) -> None:
    end = clock.now() + STORY_LEAD + timedelta(minutes=5)
    load_verification_story(db, start=clock.now(), end=end)
    db.commit()
    cases = list(db.scalars(select(Case)))

    def against(case: Case) -> str | None:
        return SLUG.get(case.against_id) if case.against_id else None

    decided = Counter(
        (c.outcome, SLUG.get(c.outcome_party_id) if c.outcome_party_id else None, against(c))
        for c in cases
        if c.outcome is not None
    )
    assert decided == {
        ("substantiated_unattributed", None, None): 2,
        ("substantiated_attributed", "BRAVO", "BRAVO"): 1,
        ("substantiated_attributed", "ALPHA", "ALPHA"): 1,
        ("not_substantiated", None, "ALPHA"): 2,
        ("not_substantiated", None, "BRAVO"): 2,
        ("inconclusive_access_denied", None, "ALPHA"): 1,
        ("inconclusive_access_denied", None, "BRAVO"): 1,
    }
    states = Counter((c.state, against(c)) for c in cases)
    for party in ("ALPHA", "BRAVO"):
        assert states[(CaseState.REMEDY_VERIFIED, party)] == 1
        assert states[(CaseState.DRAFTED, party)] == 1
        assert states[(CaseState.INVESTIGATING, party)] == 1
        assert states[(CaseState.FILED, party)] == 1
    assert states[(CaseState.FILED, None)] == 1  # HUM-1's
    assert len(triage_queue(db, member("supervisor.chair"))) == 3

    # A denial by each side, each attributed to the party that denied.
    denied = [c for c in cases if c.outcome == "inconclusive_access_denied"]
    assert sorted(SLUG[i.party_id] for c in denied for i in incidents_of(db, c.id)) == [
        "ALPHA",
        "BRAVO",
    ]

    # The open windows: each party reads its own comment, the other's only sealed.
    alpha, bravo = member("alpha.liaison"), member("bravo.liaison")
    for case in (c for c in cases if c.state == CaseState.DRAFTED):
        for reader, own in ((alpha, "ALPHA"), (bravo, "BRAVO")):
            seen = {SLUG[v.comment.organisation_id]: v for v in comments_of(db, reader, case)}
            assert set(seen) == {"ALPHA", "BRAVO"}
            own_text = seen[own].text
            assert own_text is not None and own_text.startswith(own)
            assert seen[SLUG_OTHER[own]].text is None and seen[SLUG_OTHER[own]].sealed

    # R13: one method for both parties gives the same figures to the mirrored story (the
    # findings were issued one after another, so only their times differ, by minutes).
    alpha_figures, bravo_figures = statistics(db, member("supervisor.chair"))
    assert (alpha_figures.party, bravo_figures.party) == ("ALPHA", "BRAVO")
    assert alpha_figures.received == 7 and alpha_figures.access_denials == 1
    assert replace(alpha_figures, party="", to_finding=bravo_figures.to_finding) == replace(
        bravo_figures, party=""
    )

    assert_verifies(db, engine, ledger, end)
    before = table_counts(db)
    load_verification_story(db, start=clock.now(), end=end)
    assert table_counts(db) == before


SLUG_OTHER = {"ALPHA": "BRAVO", "BRAVO": "ALPHA"}


def test_the_story_needs_its_six_days(db: Session, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="six days"):
        load_verification_story(db, start=clock.now(), end=clock.now() + timedelta(days=1))
