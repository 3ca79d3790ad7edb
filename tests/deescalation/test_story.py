"""The demo's de-escalation story: mirrored candidates for both parties, computed from the
signed record, the log verifies, and loading the story again writes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.helpers.tables import table_counts
from tests.helpers.verifying import verify_database, verify_state

from fusioncell import bootstrap
from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.deescalation import queries
from fusioncell.deescalation.entries import DeescalationEntry
from fusioncell.deescalation.replay import ComplianceReplay
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import EntryBody, LogEntry
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
    # verify recomputes, from the log's bodies, the candidates the cell recorded.
    replayed = verify_database(engine, ledger, replays=bootstrap.REPLAYS)
    assert replayed.ok, replayed.reason
    before = table_counts(db)
    load_deescalation_story(db, start=start)
    assert table_counts(db) == before


def _replayed(entries: list[tuple[int, str, datetime, str | None]]) -> tuple[int, str] | None:
    replay = ComplianceReplay()
    for index, entry_type, logged_at, body in entries:
        replay.observe(index, entry_type, logged_at, body)
    return replay.first_problem()


def test_the_replay_names_recorded_candidates_that_differ_from_the_logs(
    db: Session, clock: ManualClock, demo: None
) -> None:
    load_deescalation_story(db, start=clock.now())
    entries: list[tuple[int, str, datetime, str | None]] = [
        (entry.index, entry.entry_type, entry.logged_at, body.body)
        for entry, body in db.execute(
            select(LogEntry, EntryBody)
            .join(EntryBody, EntryBody.entry_index == LogEntry.index)
            .order_by(LogEntry.index)
        )
    ]
    computed = [e for e in entries if e[1] == DeescalationEntry.COMPLIANCE_COMPUTED]
    # The batches: two scheduled inspections that counted artillery, the two inspections that
    # found holdings above the limits, the two reports and the sensors' reading.
    assert len(computed) == 7 and _replayed(entries) is None
    # The cell's statement after the first inspection over a limit, with one candidate's
    # value changed.
    index, _type, _at, text = next(c for c in computed if c[3] and '"rule"' in c[3])
    assert text is not None
    body = json.loads(text)
    assert body["candidates"], body
    body["candidates"][0]["value"] += 1
    edited = [(i, t, at, json.dumps(body) if i == index else b) for i, t, at, b in entries]
    problem = _replayed(edited)
    assert problem is not None and problem[0] == index
    assert "differ" in problem[1]
    # Without one of the bodies it depends on, no verdict rather than a wrong one.
    withheld = [(i, t, at, None if i == entries[0][0] else b) for i, t, at, b in edited]
    assert _replayed(withheld) is None


def test_the_story_shows_the_schedule_in_red_requests_and_access_denied_by_each_party(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
    member: Callable[[str], Viewer],
) -> None:
    clock.current = datetime(2026, 3, 1, 8, tzinfo=UTC)
    start = clock.now()
    load_deescalation_story(db, start=start)
    now = start + LEAD + timedelta(minutes=1)
    for username in ("alpha.liaison", "bravo.liaison", "supervisor.chair", "verifier.lead"):
        overview = queries.inspection_overview(db, member(username), now=now)
        states = {(d.item.zone, d.item.side): d.state for d in overview.schedule}
        assert states == {
            (zone, side): state
            for side in ("ALPHA", "BRAVO")
            for zone, state in (
                ("area-of-separation", "ok"),
                (f"limitation-{side.lower()}-0-10", "ok"),
                (f"limitation-{side.lower()}-10-20", "due-soon"),
                (f"limitation-{side.lower()}-20-25", "overdue"),
            )
        }
        overdue = [d for d in overview.schedule if d.overdue]
        assert {d.due_by for d in overdue} == {start - timedelta(days=1)}
        requests = [(r.zone, state.status, state.overdue) for r, state, _ in overview.requests]
        assert sorted(requests) == [
            ("limitation-alpha-0-10", "open", False),
            ("limitation-alpha-10-20", "access_denied", False),
            ("limitation-bravo-0-10", "open", False),
            ("limitation-bravo-10-20", "access_denied", False),
        ]
        slugs = {o.id: o.slug for o in overview.directory.by_id.values()}
        denied = sorted((i.zone, slugs[i.party_id]) for i in overview.incidents.values())
        assert denied == [("limitation-alpha-10-20", "ALPHA"), ("limitation-bravo-10-20", "BRAVO")]
        counted = [r for r in overview.reports if r.batch_id is not None]
        assert len(counted) == 4
    # Observers are shown none of it.
    assert queries.inspection_overview(db, member("host.observer"), now=now).schedule == []
    do_sign_checkpoint(db, now=now)
    db.commit()
    assert verify_state(engine, ledger).ok
    before = table_counts(db)
    load_deescalation_story(db, start=start)
    assert table_counts(db) == before
