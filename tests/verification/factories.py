"""Cases made through the real actions, a whole workflow told once, and ``fusioncell
verify`` over the result."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.helpers.verifying import verify_database, verify_state

from fusioncell import bootstrap
from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext
from fusioncell.verification.actions.complaints import do_file_complaint, do_store_evidence
from fusioncell.verification.actions.escalation import do_escalate_due_deadlines
from fusioncell.verification.actions.findings import (
    do_close_case,
    do_comment_on_finding,
    do_draft_finding,
    do_issue_finding,
    do_request_remedy,
    do_reveal_due_comments,
    do_verify_remedy,
)
from fusioncell.verification.actions.investigation import (
    do_answer_access,
    do_record_site_visit,
    do_request_access,
    do_task_verifier,
    do_triage_complaint,
)
from fusioncell.verification.models import Case

Member = Callable[[str], Viewer]
IN_SEPARATION = (35.84, 33.15)
HOUR = 3600


def point(lon_lat: tuple[float, float] = IN_SEPARATION) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(lon_lat)}


def file(
    db: Session,
    actor: Viewer,
    *,
    now: datetime,
    against: str | None = "BRAVO",
    case_id: uuid.UUID | None = None,
    **more: Any,
) -> Case:
    fields: dict[str, Any] = {
        "allegation": "Armed personnel seen in the area of separation.",
        "against": against,
        "rule": "R1",
        "location": point(),
        "occurred_at": now - timedelta(hours=2),
    }
    return do_file_complaint(
        db, actor, case_id=case_id or uuid.uuid4(), now=now, **{**fields, **more}
    )


def to_investigation(db: Session, member: Member, case: Case, *, now: datetime) -> Case:
    chair = member("supervisor.chair")
    do_triage_complaint(
        db,
        chair,
        case.id,
        step_id=uuid.uuid4(),
        triage="admissible",
        reasons="Within R1, with a place and a time.",
        now=now,
    )
    verifier = member("verifier.lead")
    return do_task_verifier(
        db, chair, case.id, step_id=uuid.uuid4(), verifier=verifier.member_id, now=now
    )


def to_draft(
    db: Session,
    member: Member,
    case: Case,
    *,
    now: datetime,
    outcome: str = "substantiated_attributed",
    party: str | None = "BRAVO",
) -> Case:
    to_investigation(db, member, case, now=now)
    verifier = member("verifier.lead")
    do_record_site_visit(
        db,
        verifier,
        case.id,
        step_id=uuid.uuid4(),
        visited_at=now,
        note="Two sections seen at the grid given.",
        now=now,
    )
    return do_draft_finding(
        db,
        verifier,
        case.id,
        step_id=uuid.uuid4(),
        outcome=outcome,
        party=party,
        summary="Personnel of BRAVO were in the area of separation.",
        now=now,
    )


def tell_story(db: Session, member: Member, clock: ManualClock) -> Case:
    """Every verification entry type once: evidence, a complaint, a missed triage deadline
    escalated, triage, tasking, a visit, an access request denied (an incident), a draft,
    both parties' sealed comments revealed when the window closes, the finding, a remedy
    asked, verified, and the case closed."""
    alpha, bravo = member("alpha.liaison"), member("bravo.liaison")
    chair, verifier = member("supervisor.chair"), member("verifier.lead")
    stored = do_store_evidence(
        db,
        alpha,
        b"Photographs taken at 06:10 from post 12.",
        media_type="text/plain",
        now=clock.now(),
    )
    case = file(db, alpha, now=clock.now(), evidence=[stored.sha256])
    clock.advance(25 * HOUR)
    do_escalate_due_deadlines(db, now=clock.now())
    to_investigation(db, member, case, now=clock.now())
    clock.advance(HOUR)
    do_record_site_visit(
        db,
        verifier,
        case.id,
        step_id=uuid.uuid4(),
        visited_at=clock.now(),
        note="At the grid given.",
        now=clock.now(),
    )
    request = do_request_access(
        db,
        verifier,
        case.id,
        step_id=uuid.uuid4(),
        party="BRAVO",
        place="The position north of the track.",
        now=clock.now(),
    )
    do_answer_access(
        db,
        bravo,
        case.id,
        request.id,
        step_id=uuid.uuid4(),
        answer="denied",
        note="A closed military area.",
        now=clock.now(),
    )
    do_draft_finding(
        db,
        verifier,
        case.id,
        step_id=uuid.uuid4(),
        outcome="substantiated_attributed",
        party="BRAVO",
        summary="BRAVO's personnel were in the area of separation.",
        now=clock.now(),
    )
    do_comment_on_finding(
        db, alpha, case.id, comment_id=uuid.uuid4(), comment="ALPHA agrees.", now=clock.now()
    )
    do_comment_on_finding(
        db,
        bravo,
        case.id,
        comment_id=uuid.uuid4(),
        comment="BRAVO disputes the count.",
        now=clock.now(),
    )
    clock.advance(72 * HOUR)
    do_reveal_due_comments(db, now=clock.now())
    do_issue_finding(
        db,
        chair,
        case.id,
        step_id=uuid.uuid4(),
        outcome="substantiated_attributed",
        party="BRAVO",
        summary="BRAVO's personnel were in the area of separation.",
        now=clock.now(),
    )
    do_request_remedy(
        db,
        chair,
        case.id,
        step_id=uuid.uuid4(),
        remedy="Withdraw the two sections.",
        due_at=clock.now() + timedelta(days=7),
        now=clock.now(),
    )
    clock.advance(24 * HOUR)
    do_verify_remedy(
        db,
        verifier,
        case.id,
        step_id=uuid.uuid4(),
        note="The position is empty.",
        now=clock.now(),
    )
    closed = do_close_case(db, chair, case.id, step_id=uuid.uuid4(), now=clock.now())
    db.commit()
    return closed


def assert_verifies(db: Session, engine: Engine, ledger: LedgerContext, now: datetime) -> None:
    """The engine's tick, a checkpoint over everything committed, then ``fusioncell verify``
    on the database: the rows against the log, and every track's replay."""
    db.commit()
    do_reveal_due_comments(db, now=now)
    do_escalate_due_deadlines(db, now=now)
    do_sign_checkpoint(db, now=now)
    db.commit()
    state = verify_state(engine, ledger)
    assert state.ok, (state.failed_index, state.reason)
    replayed = verify_database(engine, ledger, replays=bootstrap.REPLAYS)
    assert replayed.ok, (replayed.failed_index, replayed.reason)
