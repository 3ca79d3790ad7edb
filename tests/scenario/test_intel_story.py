"""The demo's intelligence story: every kind of report happens for both parties (released
directly, relayed and sanitised by the supervisor, disputed with an opinion), each seen by
exactly whom it is released to; the log it writes verifies, and loading it again changes
nothing (each step is an action with a stable id)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.helpers.tables import table_counts
from tests.helpers.verifying import verify_replays, verify_state

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.errors import NotFound
from fusioncell.intel import queries, stix
from fusioncell.intel.models import Report, ReportKind
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext
from fusioncell.scenario.demo import stable_id
from fusioncell.scenario.intel_story import SIDES, load_intel_story, story_id


def _sees(db: Session, viewer: Viewer, report: Report) -> bool:
    try:
        queries.get_report(db, viewer, report.id)
    except NotFound:
        return False
    return True


def test_each_party_lives_the_same_intelligence_story(
    app: FastAPI,
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
    member: Callable[[str], Viewer],
) -> None:
    start = clock.now()
    load_intel_story(db, start=start)
    chair = member("supervisor.chair")

    for side in SIDES:
        party, other = side.party.lower(), side.other.lower()
        own, theirs = member(f"{party}.analyst"), member(f"{other}.analyst")

        def report(name: str, key: str = party) -> Report:
            found = db.get(Report, story_id(f"{key}/{name}"))
            assert found is not None, name
            return found

        # Released to the other party directly.
        direct = report("direct")
        assert direct.author_organisation_id == stable_id("organisation", side.party)
        assert direct.kind == ReportKind.REPORT
        assert queries.grade_of(direct) == "B2"
        assert _sees(db, theirs, direct) and _sees(db, chair, direct)
        assert not _sees(db, member("verifier.lead"), direct)

        # Released to the supervisor only, relayed sanitised as a new report.
        relayed = report("relayed")
        assert not _sees(db, theirs, relayed) and _sees(db, chair, relayed)
        derived = report("relayed/release")
        assert derived.kind == ReportKind.DERIVED and derived.derived_from == relayed.id
        assert _sees(db, theirs, derived) and _sees(db, own, derived)
        location = next(o for o in derived.bundle["objects"] if o["type"] == "location")
        original = next(o for o in relayed.bundle["objects"] if o["type"] == "location")
        assert location["name"] == stix.REDACTED and original["name"] == side.relayed.place
        assert (location["latitude"], location["longitude"]) != (
            original["latitude"],
            original["longitude"],
        )
        # The link to the original only for whoever may see both.
        assert queries.original_of(db, theirs, derived) is None
        assert queries.original_of(db, chair, derived) is not None

        # Disputed by the other party with an opinion, which the author sees.
        disputed = report("disputed")
        opinion = report("disputed/opinion")
        assert opinion.kind == ReportKind.RESPONSE and opinion.responds_to == disputed.id
        assert opinion.opinion == "disagree"
        assert opinion.author_organisation_id == stable_id("organisation", side.other)
        assert [r.id for r in queries.responses_to(db, own, [disputed.id])] == [opinion.id]

    do_sign_checkpoint(db, now=clock.now() + timedelta(minutes=1))  # as the server does
    db.commit()
    assert verify_state(engine, ledger).ok
    verified = verify_replays(app, engine, ledger)
    assert verified.ok, verified.summary()

    before = table_counts(db)
    load_intel_story(db, start=start)
    assert table_counts(db) == before
