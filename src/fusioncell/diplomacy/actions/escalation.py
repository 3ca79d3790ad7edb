"""Missed deadlines escalate as the hotline's do (``diplomacy.deadlines``): a due milestone
not yet put to verification, an assessment not made once the comment window has closed,
both the supervisor's, up the ladder of the rules in force.

Run every second by the engine (``diplomacy.engine``) and at start-up, so steps that fell
due while the server was down are written on restart. Each step is an entry by the log and a
step row named by (milestone, duty, step); ``fusioncell verify`` recomputes them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fusioncell.cell.models import OrganisationKind
from fusioncell.db.transaction import atomic
from fusioncell.diplomacy import deadlines
from fusioncell.diplomacy.actions.assessment import readers_of
from fusioncell.diplomacy.actions.common import record_step
from fusioncell.diplomacy.entries import DiplomacyEntry as E
from fusioncell.diplomacy.events import EventKind
from fusioncell.diplomacy.models import Milestone, MilestoneState
from fusioncell.diplomacy.queries import agreements as q
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.entries import log_time
from fusioncell.verification.actions.escalation import owner_of
from fusioncell.verification.workflow import Deadline

# Milestones due longer ago than this no longer escalate (ladders are bounded anyway).
HORIZON = timedelta(days=30)


def _deadlines(milestone: Milestone, supervisor: str) -> list[Deadline]:
    return deadlines.deadlines(
        str(milestone.id),
        supervisor,
        due_at=milestone.due_at,
        requested_at=milestone.requested_at,
        closes_at=milestone.comments_close_at,
        assessed_at=milestone.assessed_at,
        lapsed_at=None,
    )


def do_escalate_due_deadlines(db: Session, *, now: datetime) -> int:
    """Write every escalation step due by ``now`` and not yet logged; returns how many."""
    with atomic(db):
        if not q.milestones_for_engine(db, now=now, since=now - HORIZON):
            return 0
        at = log_clock(db, now=now)
        db.expire_all()
        found = list(q.milestones_for_engine(db, now=at, since=at - HORIZON))
        logged = q.escalations_logged(db, [m.id for m in found])
        dir_ = q.cell_directory(db)
        supervisor = owner_of(dir_, OrganisationKind.SUPERVISOR)
        if supervisor is None:
            return 0
        rules = q.rules_in_force(db)
        written = 0
        for milestone in found:
            pending = (
                deadlines.VERIFICATION_REQUEST
                if milestone.state == MilestoneState.OPEN
                else deadlines.ASSESSMENT
            )
            for deadline in _deadlines(milestone, supervisor):
                if deadline.duty != pending:
                    continue
                for step in deadlines.due(deadline, rules.ladder, now=at):
                    step_id = deadlines.escalation_id(milestone.id, deadline.duty, step.step)
                    if step_id in logged:
                        continue
                    record_step(
                        db,
                        None,
                        dir_,
                        E.DEADLINE_ESCALATED,
                        EventKind.MILESTONE,
                        {
                            "milestone": str(milestone.id),
                            "agreement": str(milestone.agreement_id),
                            "duty": deadline.duty,
                            "step": step.step,
                            "due_at": log_time(step.due_at),
                            "owed_by": supervisor,
                            "notify": list(step.notify),
                        },
                        subject=milestone.id,
                        readers=readers_of(db, dir_, milestone),
                        step_id=step_id,
                        at=at,
                    )
                    logged.add(step_id)
                    written += 1
    return written
