"""R11's deadlines escalate as the hotline's do, up the ladder bound at filing; what fell due
while the server was down is written when it starts again; the header strip shows what each
organisation owes."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.verification.factories import HOUR, Member, assert_verifies, file, to_investigation

from fusioncell.clock import ManualClock
from fusioncell.db.engine import make_sessionmaker
from fusioncell.ledger.context import LedgerContext
from fusioncell.scenario.demo import stable_id
from fusioncell.verification.actions.escalation import do_escalate_due_deadlines
from fusioncell.verification.actions.investigation import (
    do_answer_access,
    do_record_site_visit,
    do_request_access,
)
from fusioncell.verification.engine import VerificationEngine
from fusioncell.verification.models import Escalation
from fusioncell.verification.obligations import open_obligations

SUPERVISOR = stable_id("organisation", "SUPERVISOR")
VERIFIER = stable_id("organisation", "VERIFIER")
BRAVO = stable_id("organisation", "BRAVO")


def _steps(db: Session) -> list[tuple[str, uuid.UUID, int, list[str]]]:
    db.commit()  # a fresh snapshot: the engine wrote in its own session
    return [
        (e.duty, e.organisation_id, e.step, e.notify)
        for e in db.scalars(select(Escalation).order_by(Escalation.log_index))
    ]


def test_deadlines_escalate_after_a_restart_and_nothing_twice(
    app: FastAPI,
    db: Session,
    member: Member,
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    file(db, member("alpha.liaison"), now=clock.now())
    db.commit()
    # The server is down for thirty hours: nothing escalates meanwhile.
    clock.advance(30 * HOUR)
    assert _steps(db) == []
    # A new process over the same database starts: its first tick writes what fell due.
    restarted = VerificationEngine(make_sessionmaker(engine, ledger=ledger), clock)
    restarted.run_once()
    assert _steps(db) == [("triage", SUPERVISOR, 1, ["supervisor_duty_officer"])]
    restarted.run_once()
    assert len(_steps(db)) == 1
    [owed] = open_obligations(db, member("supervisor.chair"), clock.now())
    assert (owed.kind, owed.steps, owed.group) == ("triage", 1, "verification")
    assert open_obligations(db, member("alpha.liaison"), clock.now()) == []
    # Down again past the second rung (12 h after the deadline): written on the next start.
    clock.advance(7 * HOUR)
    VerificationEngine(make_sessionmaker(engine, ledger=ledger), clock).run_once()
    assert [s[2] for s in _steps(db)] == [1, 2]
    assert _steps(db)[1][3] == ["party_liaison", "supervisor_duty_officer"]
    assert isinstance(app.state.verification_engine, VerificationEngine)
    assert_verifies(db, engine, ledger, clock.now())


def test_the_site_visit_and_an_unanswered_access_request_escalate_until_done(
    db: Session, member: Member, clock: ManualClock, engine: Engine, ledger: LedgerContext
) -> None:
    case = file(db, member("alpha.liaison"), now=clock.now())
    to_investigation(db, member, case, now=clock.now())
    verifier = member("verifier.lead")
    request = do_request_access(
        db,
        verifier,
        case.id,
        step_id=uuid.uuid4(),
        party=None,
        place="A hill.",
        now=clock.now(),
    )
    [owed] = open_obligations(db, member("bravo.liaison"), clock.now())
    assert owed.kind == "access_answer"
    clock.advance(24 * HOUR)
    do_escalate_due_deadlines(db, now=clock.now())
    assert {(s[0], s[1]) for s in _steps(db)} == {("access_answer", BRAVO)}
    do_answer_access(
        db,
        member("bravo.liaison"),
        case.id,
        request.id,
        step_id=uuid.uuid4(),
        answer="granted",
        now=clock.now(),
    )
    clock.advance(24 * HOUR)
    do_escalate_due_deadlines(db, now=clock.now())
    assert {(s[0], s[1], s[2]) for s in _steps(db)} == {
        ("access_answer", BRAVO, 1),
        ("site_visit", VERIFIER, 1),
    }
    do_record_site_visit(
        db,
        verifier,
        case.id,
        step_id=uuid.uuid4(),
        visited_at=clock.now(),
        note="",
        now=clock.now(),
    )
    clock.advance(24 * HOUR)
    assert do_escalate_due_deadlines(db, now=clock.now()) == []
    assert open_obligations(db, member("verifier.lead"), clock.now()) == []
    assert_verifies(db, engine, ledger, clock.now())


def test_each_party_owes_its_comment_while_the_window_is_open_and_the_attributed_party_its_remedy(
    db: Session, member: Member, clock: ManualClock
) -> None:
    from datetime import timedelta

    from tests.verification.factories import to_draft

    from fusioncell.verification.actions.findings import (
        do_comment_on_finding,
        do_issue_finding,
        do_request_remedy,
    )

    case = to_draft(db, member, file(db, member("alpha.liaison"), now=clock.now()), now=clock.now())
    for who in ("alpha.liaison", "bravo.liaison"):
        [owed] = open_obligations(db, member(who), clock.now())
        assert (owed.kind, owed.deadline) == ("comment", case.comments_close_at)
    do_comment_on_finding(
        db,
        member("alpha.liaison"),
        case.id,
        comment_id=uuid.uuid4(),
        comment="Yes.",
        now=clock.now(),
    )
    assert open_obligations(db, member("alpha.liaison"), clock.now()) == []
    assert len(open_obligations(db, member("bravo.liaison"), clock.now())) == 1
    clock.advance(72 * HOUR)
    assert open_obligations(db, member("bravo.liaison"), clock.now()) == []
    chair = member("supervisor.chair")
    do_issue_finding(
        db,
        chair,
        case.id,
        step_id=uuid.uuid4(),
        outcome="substantiated_attributed",
        party="BRAVO",
        summary="Seen.",
        now=clock.now(),
    )
    do_request_remedy(
        db,
        chair,
        case.id,
        step_id=uuid.uuid4(),
        remedy="Withdraw.",
        due_at=clock.now() + timedelta(days=2),
        now=clock.now(),
    )
    [owed] = open_obligations(db, member("bravo.liaison"), clock.now())
    assert owed.kind == "remedy"
    assert open_obligations(db, member("alpha.liaison"), clock.now()) == []
