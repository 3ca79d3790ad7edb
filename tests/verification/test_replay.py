"""``fusioncell verify`` recomputes every case's state and deadlines from the log's bodies:
fed the log as the cell wrote it, the replay finds nothing; fed a body that states another
state, deadline, actor or escalation, it names that entry."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.verification.factories import HOUR, Member, file, tell_story

from fusioncell.clock import ManualClock
from fusioncell.ledger.models import EntryBody, LogEntry
from fusioncell.verification.actions.escalation import do_escalate_due_deadlines
from fusioncell.verification.replay import CaseReplay

Log = list[tuple[int, str, Any, dict[str, Any]]]


def _log(db: Session) -> Log:
    db.commit()
    rows = db.execute(
        select(LogEntry.index, LogEntry.entry_type, LogEntry.logged_at, EntryBody.body)
        .join(EntryBody, EntryBody.entry_index == LogEntry.index)
        .order_by(LogEntry.index)
    ).all()
    return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]


def _replay(log: Log) -> tuple[int, str] | None:
    replay = CaseReplay()
    for index, kind, at, body in log:
        replay.observe(index, kind, at, json.dumps(body))
    return replay.first_problem()


def test_the_log_as_written_replays_without_a_fault(
    db: Session, member: Member, clock: ManualClock
) -> None:
    tell_story(db, member, clock)
    assert _replay(_log(db)) is None


def test_a_state_deadline_actor_or_escalation_other_than_recomputed_is_named(
    db: Session, member: Member, clock: ManualClock
) -> None:
    tell_story(db, member, clock)
    log = _log(db)

    def tampered(
        kind: str, change: Callable[[dict[str, Any]], None], *, named: str | None = None
    ) -> str:
        """The reason the replay gives, at the tampered entry (or the first ``named`` after
        it, whose step the change makes wrong)."""
        copy = [(i, k, at, json.loads(json.dumps(b))) for i, k, at, b in log]
        position = next(p for p, e in enumerate(copy) if e[1] == kind)
        change(copy[position][3])
        problem = _replay(copy)
        assert problem is not None, kind
        at = copy[position][0]
        if named is not None:
            at = next(e[0] for e in copy[position:] if e[1] == named)
        assert problem[0] == at, (kind, problem)
        return problem[1]

    assert "state" in tampered(
        "verification.complaint.triaged", lambda b: b.update(state="investigating")
    )
    assert "triage deadline" in tampered(
        "verification.complaint.filed", lambda b: b.update(triage_due_at="2026-01-20T00:00:00.000Z")
    )
    assert "site-visit deadline" in tampered(
        "verification.verifier.tasked",
        lambda b: b.update(on_site_due_at="2026-02-01T00:00:00.000Z"),
    )
    assert "window's close" in tampered(
        "verification.finding.drafted",
        lambda b: b.update(comments_close_at="2026-02-01T00:00:00.000Z"),
    )
    assert "may not take" in tampered(
        "verification.finding.issued", lambda b: b.update(organisation="ALPHA")
    )
    assert "may not take" in tampered(
        "verification.complaint.triaged", lambda b: b.update(organisation="VERIFIER")
    )
    assert "escalation" in tampered(
        "verification.deadline.escalated", lambda b: b.update(notify=["party_liaison"])
    )
    assert "not substantiated" in tampered(
        "verification.finding.issued",
        lambda b: b.update(outcome="not_substantiated", party=None),
        named="verification.remedy.requested",
    )


def test_a_step_the_state_does_not_allow_and_a_missing_escalation_are_named(
    db: Session, member: Member, clock: ManualClock
) -> None:
    tell_story(db, member, clock)
    log = _log(db)
    # A second triage, as if written behind the actions' back.
    triage = next(e for e in log if e[1] == "verification.complaint.triaged")
    last = log[-1]
    again = [*log, (last[0] + 1, triage[1], last[2], dict(triage[3]))]
    problem = _replay(again)
    assert problem == (last[0] + 1, problem[1] if problem else "")
    assert problem is not None and "not open" in problem[1]
    # An escalation the engine should have written, missing from the log.
    escalated = next(p for p, e in enumerate(log) if e[1] == "verification.deadline.escalated")
    problem = _replay(log[:escalated] + log[escalated + 1 :])
    assert problem is not None and "never logged" in problem[1]


def test_a_deadline_missed_while_nobody_wrote_is_named_once_the_log_moves_on(
    db: Session, member: Member, clock: ManualClock
) -> None:
    file(db, member("alpha.liaison"), now=clock.now())
    clock.advance(25 * HOUR)
    file(db, member("bravo.liaison"), now=clock.now(), against="ALPHA")
    problem = _replay(_log(db))
    assert problem is not None and "triage deadline" in problem[1] and "never logged" in problem[1]
    do_escalate_due_deadlines(db, now=clock.now())
    assert _replay(_log(db)) is None


def test_a_denial_without_its_incident_and_evidence_never_stored_are_named(
    db: Session, member: Member, clock: ManualClock
) -> None:
    tell_story(db, member, clock)
    log = _log(db)
    incident = next(p for p, e in enumerate(log) if e[1] == "verification.incident.recorded")
    answered = next(e[0] for e in log if e[1] == "verification.access.answered")
    assert _replay(log[:incident] + log[incident + 1 :]) == (
        answered,
        "a denial of access recorded no incident",
    )
    stored = next(p for p, e in enumerate(log) if e[1] == "verification.evidence.stored")
    filed = next(e[0] for e in log if e[1] == "verification.complaint.filed")
    problem = _replay(log[:stored] + log[stored + 1 :])
    assert problem is not None and problem[0] == filed and "was not stored" in problem[1]
