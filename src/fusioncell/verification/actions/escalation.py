"""Overdue deadlines escalate as the hotline's do (``verification.workflow.steps_due``), up
the ladder bound at the case's filing:

- the supervisor's triage, due the rules' hours after filing, done when triaged;
- the verifier's first site visit, due the rules' hours after tasking, done at the first
  visit, lapsed once a finding is drafted;
- a party's answer to an access request, due the rules' hours after the request, done when
  answered, lapsed once the finding is issued.

Run every second by the engine (``verification.engine``) and at start-up, so steps that fell
due while the server was down are written on restart. Each step is an entry by the log and a
row; ``fusioncell verify`` recomputes them (``verification.replay``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fusioncell.cell.models import OrganisationKind
from fusioncell.db.transaction import atomic
from fusioncell.deescalation.queries import Directory
from fusioncell.hotline.escalation import Step
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.entries import log_time
from fusioncell.verification import workflow
from fusioncell.verification.actions.common import record_step
from fusioncell.verification.entries import VerificationEntry
from fusioncell.verification.models import AccessRequest, Case, Duty, Escalation
from fusioncell.verification.queries.cases import (
    cases_for_engine,
    cell_directory,
    escalations_for_engine,
    requests_for_engine,
)

# Cases filed longer ago than this no longer escalate (ladders are bounded anyway).
HORIZON = timedelta(days=30)


def owner_of(dir_: Directory, kind: OrganisationKind) -> str | None:
    """Who owes the supervisor's or the verifier's duties: the first organisation of the
    kind by slug (``fusioncell verify`` names it the same way)."""
    found = sorted(o.slug for o in dir_.by_slug.values() if o.kind == kind)
    return found[0] if found else None


def deadlines_of(
    dir_: Directory, case: Case, requests: Sequence[AccessRequest]
) -> list[workflow.Deadline]:
    found = []
    supervisor = owner_of(dir_, OrganisationKind.SUPERVISOR)
    verifier = owner_of(dir_, OrganisationKind.VERIFIER)
    if supervisor is not None:
        found.append(
            workflow.Deadline(
                Duty.TRIAGE,
                str(case.id),
                supervisor,
                case.filed_at,
                case.triage_due_at,
                case.triaged_at,
                None,
            )
        )
    if verifier is not None and case.tasked_at is not None and case.on_site_due_at is not None:
        found.append(
            workflow.Deadline(
                Duty.SITE_VISIT,
                str(case.id),
                verifier,
                case.tasked_at,
                case.on_site_due_at,
                case.visited_at,
                case.drafted_at,
            )
        )
    for r in requests:
        found.append(
            workflow.Deadline(
                Duty.ACCESS_ANSWER,
                str(r.id),
                dir_.by_id[r.party_id].slug,
                r.requested_at,
                r.due_at,
                r.answered_at,
                case.issued_at,
            )
        )
    return found


@dataclass(frozen=True)
class _Due:
    case: Case
    deadline: workflow.Deadline
    steps: list[Step]


def _due(db: Session, dir_: Directory, cases: Sequence[Case], *, now: datetime) -> list[_Due]:
    ids = [c.id for c in cases]
    logged = escalations_for_engine(db, ids)
    requests: dict[object, list[AccessRequest]] = {}
    for r in requests_for_engine(db, ids):
        requests.setdefault(r.case_id, []).append(r)
    found = []
    for case in cases:
        ladder = workflow.ladder_of(case.ladder)
        done = {(d, str(s), n) for d, s, n in logged.get(case.id, set())}
        for deadline in deadlines_of(dir_, case, requests.get(case.id, [])):
            steps = [
                s
                for s in workflow.steps_due(deadline, ladder, now=now)
                if (deadline.duty, deadline.subject, s.step) not in done
            ]
            if steps:
                found.append(_Due(case, deadline, steps))
    return found


def do_escalate_due_deadlines(db: Session, *, now: datetime) -> list[Escalation]:
    """Write the escalations due by ``now``: a first pass finds what may be due; then, under
    the log's lock, decide again at the log time the entries will bear."""
    written: list[Escalation] = []
    with atomic(db):
        dir_ = cell_directory(db)
        if not _due(db, dir_, cases_for_engine(db, since=now - HORIZON), now=now):
            return written
        at = log_clock(db, now=now)
        db.expire_all()
        for due in _due(db, dir_, cases_for_engine(db, since=at - HORIZON), now=at):
            for step in due.steps:
                written.append(_escalate(db, dir_, due, step, at=at))
    return written


def _escalate(db: Session, dir_: Directory, due: _Due, step: Step, *, at: datetime) -> Escalation:
    d = due.deadline
    appended = record_step(
        db,
        None,
        dir_,
        due.case,
        VerificationEntry.DEADLINE_ESCALATED,
        {
            "duty": d.duty,
            "subject": d.subject,
            "owed_by": d.organisation,
            "step": step.step,
            "due_at": log_time(step.due_at),
            "notify": list(step.notify),
        },
        step_id=None,
        at=at,
    )
    row = Escalation(
        case_id=due.case.id,
        duty=d.duty,
        subject=uuid.UUID(d.subject),
        step=step.step,
        organisation_id=dir_.by_slug[d.organisation].id,
        due_at=step.due_at,
        notify=list(step.notify),
        log_index=appended.index,
        written_at=at,
    )
    db.add(row)
    return row
