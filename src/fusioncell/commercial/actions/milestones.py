"""Milestones of a project (issue 14, item 4): due within the project's dates; files put
before one by those who store evidence; decided once by the supervisor or the verifier, met
(on or before its due date: met; after: late) on at least one file, or missed once its due
date has passed.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.commercial.actions.common import (
    TOO_MANY,
    add_step,
    record_entry,
    require_runs,
    retried,
)
from fusioncell.commercial.entries import CommercialEntry
from fusioncell.commercial.events import EventKind
from fusioncell.commercial.models import (
    Decision,
    Milestone,
    MilestoneEvidence,
    MilestoneStatus,
    Project,
    ProjectStatus,
)
from fusioncell.commercial.policy import may_decide, may_store_evidence, require
from fusioncell.commercial.queries import evidence as evidence_queries
from fusioncell.commercial.queries import projects as queries
from fusioncell.db.transaction import atomic
from fusioncell.deescalation.queries import directory
from fusioncell.errors import Conflict, IdempotencyConflict, InvalidInput
from fusioncell.ledger.append import log_clock
from fusioncell.text import N_
from fusioncell.verification.actions.common import text

_CLOSED = N_("The project is %(status)s: nothing more is added to it.")
_AFTER_END = N_("A milestone is due within the project's dates (%(starts_on)s to %(ends_on)s).")
_NOT_DECIDER = N_("Only the supervisor or the verifier decides a milestone.")
_NOT_STORER = N_(
    "Evidence is put before a milestone by a party's liaison officer, the supervisor or the "
    "verifier."
)
_DECIDED = N_("The milestone was decided already: it is %(status)s.")
_BAD_DECISION = N_("A decision is met or missed.")
_NEED_EVIDENCE = N_("A milestone is decided met on at least one file of evidence.")
_TOO_EARLY = N_("A milestone is decided missed only after its due date (%(due_on)s).")
_FUTURE = N_("A milestone cannot be achieved on a day still to come.")
_NO_SUCH_EVIDENCE = N_("Evidence %(sha256)s is not a file your organisation stored.")


def _require_open(project: Project) -> None:
    if project.status in (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED):
        raise Conflict(N_(_CLOSED, status=project.status), field="status")


def do_add_milestone(
    db: Session,
    actor: Viewer,
    project_id: uuid.UUID,
    *,
    milestone_id: uuid.UUID,
    title: str,
    due_on: date,
    now: datetime,
) -> Milestone:
    project = queries.get_project(db, actor, project_id)
    require_runs(actor, project)
    rules = queries.rules_in_force(db)
    said = text(title, field="title", limit=rules.max_name_chars)
    if not project.starts_on <= due_on <= project.ends_on:
        raise InvalidInput(
            N_(
                _AFTER_END,
                starts_on=project.starts_on.isoformat(),
                ends_on=project.ends_on.isoformat(),
            ),
            field="due_on",
            ends_on=project.ends_on.isoformat(),
        )
    dir_ = directory(db, actor)
    with atomic(db):
        earlier = queries.find_own_milestone(db, actor.member_id, milestone_id)
        if earlier is not None:
            if (earlier.project_id, earlier.title, earlier.due_on) != (project.id, said, due_on):
                raise IdempotencyConflict(milestone_id=str(milestone_id))
            return earlier
        project = queries.for_update(db, project_id)
        _require_open(project)
        at = log_clock(db, now=now)
        milestone = Milestone(
            id=milestone_id if not queries.id_taken(db, Milestone, milestone_id) else uuid.uuid4(),
            client_id=milestone_id,
            project_id=project.id,
            added_by=actor.member_id,
            title=said,
            due_on=due_on,
            status=MilestoneStatus.OPEN,
            log_index=-1,
            added_at=at,
        )
        appended = record_entry(
            db,
            actor,
            dir_,
            project,
            CommercialEntry.MILESTONE_ADDED,
            {
                "milestone": str(milestone.id),
                "title": said,
                "due_on": due_on.isoformat(),
                "status": milestone.status,
            },
            event=EventKind.PROJECT,
            subject=milestone.id,
            at=at,
        )
        milestone.log_index = appended.index
        milestone.added_at = appended.logged_at
        db.add(milestone)
    return milestone


def _cited(
    db: Session, actor: Viewer, hashes: list[str], *, already: list[str], limit: int
) -> list[dict[str, Any]]:
    """The files cited: each already before the milestone, or stored by the actor's
    organisation; as the entry records them."""
    wanted = list(dict.fromkeys(hashes))
    if len(wanted) > limit:
        raise InvalidInput(N_(TOO_MANY, limit=limit, field="evidence"), field="evidence")
    held = evidence_queries.held_by(db, actor, [h for h in wanted if h not in already])
    known = evidence_queries.files(db, [h for h in wanted if h in already])
    found = []
    for sha256 in wanted:
        file = held.get(sha256) or known.get(sha256)
        if file is None:
            raise InvalidInput(
                N_(_NO_SUCH_EVIDENCE, sha256=sha256[:64]), field="evidence", sha256=sha256[:64]
            )
        found.append({"sha256": sha256, "size": file.size, "type": file.media_type})
    return found


def do_attach_milestone_evidence(
    db: Session,
    actor: Viewer,
    project_id: uuid.UUID,
    milestone_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    evidence: list[str],
    note: str = "",
    now: datetime,
) -> Milestone:
    require(actor, may_store_evidence(actor), _NOT_STORER)
    milestone = queries.get_milestone(db, actor, project_id, milestone_id)
    rules = queries.rules_in_force(db)
    said = text(note, field="note", limit=rules.max_text_chars, required=False)
    already = queries.attached_hashes(db, [milestone.id])[milestone.id]
    files = _cited(db, actor, evidence, already=already, limit=rules.max_evidence)
    if not files:
        raise InvalidInput(N_("Name at least one file."), field="evidence")
    dir_ = directory(db, actor)
    kind = CommercialEntry.MILESTONE_EVIDENCE_ATTACHED
    with atomic(db):
        # The log's lock first: two steps on one milestone are decided one after the other.
        at = log_clock(db, now=now)
        project = queries.for_update(db, project_id)
        milestone = queries.milestone_for_update(db, milestone.id)
        if retried(db, actor, step_id, milestone.id, kind.value):
            return milestone
        if milestone.status != MilestoneStatus.OPEN:
            raise Conflict(N_(_DECIDED, status=milestone.status), field="status")
        appended = record_entry(
            db,
            actor,
            dir_,
            project,
            kind,
            {"milestone": str(milestone.id), "evidence": files, "note": said},
            event=EventKind.PROJECT,
            subject=milestone.id,
            at=at,
        )
        _attach(db, milestone, files, already=already, index=appended.index)
        add_step(
            db, actor, appended, project=project, subject=milestone.id, kind=kind, step_id=step_id
        )
    return milestone


def _attach(
    db: Session,
    milestone: Milestone,
    files: list[dict[str, Any]],
    *,
    already: list[str],
    index: int,
) -> None:
    db.add_all(
        [
            MilestoneEvidence(milestone_id=milestone.id, sha256=f["sha256"], log_index=index)
            for f in files
            if f["sha256"] not in already
        ]
    )


def do_decide_milestone(
    db: Session,
    actor: Viewer,
    project_id: uuid.UUID,
    milestone_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    decision: str,
    reason: str,
    evidence: list[str] | None = None,
    achieved_on: date | None = None,
    now: datetime,
) -> Milestone:
    require(actor, may_decide(actor), _NOT_DECIDER)
    milestone = queries.get_milestone(db, actor, project_id, milestone_id)
    rules = queries.rules_in_force(db)
    if decision not in set(Decision):
        raise InvalidInput(_BAD_DECISION, field="decision")
    why = text(reason, field="reason", limit=rules.max_text_chars)
    already = queries.attached_hashes(db, [milestone.id])[milestone.id]
    files = _cited(db, actor, list(evidence or []), already=already, limit=rules.max_evidence)
    dir_ = directory(db, actor)
    kind = CommercialEntry.MILESTONE_DECIDED
    with atomic(db):
        # The log's lock first: two steps on one milestone are decided one after the other.
        at = log_clock(db, now=now)
        project = queries.for_update(db, project_id)
        milestone = queries.milestone_for_update(db, milestone.id)
        if retried(db, actor, step_id, milestone.id, kind.value):
            return milestone
        if milestone.status != MilestoneStatus.OPEN:
            raise Conflict(N_(_DECIDED, status=milestone.status), field="status")
        today = at.date()
        if decision == Decision.MET:
            achieved = achieved_on or today
            if achieved > today:
                raise InvalidInput(_FUTURE, field="achieved_on")
            if not files and not already:
                raise InvalidInput(_NEED_EVIDENCE, field="evidence")
            status = MilestoneStatus.MET if achieved <= milestone.due_on else MilestoneStatus.LATE
        else:
            achieved = None
            if today <= milestone.due_on:
                raise InvalidInput(
                    N_(_TOO_EARLY, due_on=milestone.due_on.isoformat()), field="decision"
                )
            status = MilestoneStatus.MISSED
        milestone.status = status
        appended = record_entry(
            db,
            actor,
            dir_,
            project,
            kind,
            {
                "milestone": str(milestone.id),
                "decision": decision,
                "due_on": milestone.due_on.isoformat(),
                "achieved_on": achieved.isoformat() if achieved is not None else None,
                "status": status,
                "reason": why,
                # Every file before the milestone once decided: those put before it, and
                # those this decision cites.
                "evidence": sorted(set(already) | {f["sha256"] for f in files}),
                "cited": files,
            },
            event=EventKind.PROJECT,
            subject=milestone.id,
            at=at,
        )
        _attach(db, milestone, files, already=already, index=appended.index)
        milestone.achieved_on = achieved
        milestone.reason = why
        milestone.decided_by = actor.member_id
        milestone.decision_index = appended.index
        milestone.decided_at = appended.logged_at
        add_step(
            db, actor, appended, project=project, subject=milestone.id, kind=kind, step_id=step_id
        )
    return milestone
