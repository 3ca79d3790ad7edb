"""Missed deadlines escalate as the hotline's do: a due milestone not put to verification,
an assessment not made once the comment window closed, each up the rules' ladder, once per
step whoever runs the engine, and replayed by ``fusioncell verify``."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.diplomacy.factories import DAY, DOCUMENT, Member, propose, sign_all

from fusioncell.clock import ManualClock
from fusioncell.diplomacy.actions.assessment import do_assess_milestone, do_request_verification
from fusioncell.diplomacy.actions.escalation import do_escalate_due_deadlines
from fusioncell.diplomacy.content import milestone_id
from fusioncell.diplomacy.replay import DiplomacyReplay
from fusioncell.ledger.models import EntryBody, LogEntry


def _escalations(db: Session) -> list[tuple[str, int, list[str]]]:
    found = [
        (body["duty"], body["step"], body["notify"])
        for body in (
            json.loads(b)
            for b in db.scalars(
                select(EntryBody.body)
                .join(LogEntry, LogEntry.index == EntryBody.entry_index)
                .where(LogEntry.entry_type == "diplomacy.deadline.escalated")
                .order_by(LogEntry.index)
            )
        )
    ]
    db.commit()
    return found


def test_a_due_milestone_and_a_late_assessment_escalate_once_per_step(
    db: Session, member: Member, clock: ManualClock
) -> None:
    version = propose(db, member("supervisor.chair"), now=clock.now())
    sign_all(db, member, version, now=clock.now())
    assert do_escalate_due_deadlines(db, now=clock.now()) == 0
    clock.advance(10 * DAY.total_seconds())
    assert do_escalate_due_deadlines(db, now=clock.now()) == 1
    assert do_escalate_due_deadlines(db, now=clock.now()) == 0  # a second engine writes nothing
    clock.advance(DAY.total_seconds())
    assert do_escalate_due_deadlines(db, now=clock.now()) == 1
    first = milestone_id(version.agreement_id, "C2", "C2.1")
    do_request_verification(
        db, member("alpha.liaison"), first, step_id=uuid.uuid4(), now=clock.now()
    )
    clock.advance(72 * 3600)
    assert do_escalate_due_deadlines(db, now=clock.now()) == 1
    do_assess_milestone(
        db,
        member("supervisor.chair"),
        first,
        step_id=uuid.uuid4(),
        outcome="met",
        reasons="The positions were vacated.",
        evidence=[{"kind": "document", "id": DOCUMENT}],
        now=clock.now(),
    )
    clock.advance(2 * DAY.total_seconds())
    assert do_escalate_due_deadlines(db, now=clock.now()) == 0
    assert _escalations(db) == [
        ("verification_request", 1, ["supervisor_duty_officer"]),
        ("verification_request", 2, ["party_liaison", "supervisor_duty_officer"]),
        ("assessment", 1, ["supervisor_duty_officer"]),
    ]
    rows = db.execute(
        select(LogEntry.index, LogEntry.entry_type, LogEntry.logged_at, EntryBody.body)
        .join(EntryBody, EntryBody.entry_index == LogEntry.index)
        .order_by(LogEntry.index)
    ).all()
    db.commit()
    replay = DiplomacyReplay()
    for index, kind, at, body in rows:
        replay.observe(index, kind, at, body)
    assert replay.first_problem() is None
    forged = DiplomacyReplay()
    for index, kind, at, body in rows:
        if kind == "diplomacy.deadline.escalated":
            body = json.dumps({**json.loads(body), "step": 3})
        forged.observe(index, kind, at, body)
    problem = forged.first_problem()
    assert problem is not None and "the next is 1" in problem[1]
