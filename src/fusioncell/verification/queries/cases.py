"""Cases as the viewer may read them. A case is released to both parties, the supervisor,
the verifier and the filer's organisation (a humanitarian filer reads its own cases); the
filter is in the SQL. A comment's text is read by its own organisation until the log has
revealed it, and by everyone who reads the case afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from fusioncell.cell.models import OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import console_of_cell
from fusioncell.deescalation.queries import Directory, directory
from fusioncell.errors import NotFound
from fusioncell.ledger.context import ledger_context
from fusioncell.verification.models import (
    AccessRequest,
    Case,
    CaseState,
    CaseStep,
    Comment,
    Escalation,
    Incident,
)
from fusioncell.verification.policy import may_read
from fusioncell.verification.rules import VERIFICATION_RULES, VerificationRules

# Who reads every case besides the filer's organisation.
SHARED_KINDS = frozenset(
    {OrganisationKind.PARTY, OrganisationKind.SUPERVISOR, OrganisationKind.VERIFIER}
)


def rules_in_force(db: Session) -> VerificationRules:
    return ledger_context(db).rules(VERIFICATION_RULES)


def cell_directory(db: Session) -> Directory:
    """Every organisation, as the cell's own reader (the engine's)."""
    reader = console_of_cell(db)
    if reader is None:
        return Directory({}, {})
    return directory(db, reader)


def case_visible(viewer: Viewer) -> ColumnElement[bool]:
    if not may_read(viewer):
        return false()
    if viewer.organisation_kind in SHARED_KINDS:
        return true()
    return Case.organisation_id == viewer.organisation_id


def get_case(db: Session, viewer: Viewer, case_id: uuid.UUID) -> Case:
    found = db.scalar(select(Case).where(Case.id == case_id, case_visible(viewer)))
    if found is None:
        raise NotFound(f"no case {case_id}")
    return found


def find_case(db: Session, viewer: Viewer, case_id: uuid.UUID) -> Case | None:
    return db.scalar(select(Case).where(Case.id == case_id, case_visible(viewer)))


def list_cases(
    db: Session, viewer: Viewer, *, state: str | None = None, limit: int = 200
) -> Sequence[Case]:
    """The latest filed first."""
    query = select(Case).where(case_visible(viewer))
    if state is not None:
        query = query.where(Case.state == state)
    return db.scalars(query.order_by(Case.log_index.desc()).limit(limit)).all()


def triage_queue(db: Session, viewer: Viewer) -> Sequence[Case]:
    """The supervisor's queue: filed cases, the soonest due first."""
    return db.scalars(
        select(Case)
        .where(case_visible(viewer), Case.state == CaseState.FILED)
        .order_by(Case.triage_due_at, Case.log_index)
    ).all()


def find_own_case(db: Session, member_id: uuid.UUID, client_id: uuid.UUID) -> Case | None:
    return db.scalar(select(Case).where(Case.filed_by == member_id, Case.client_id == client_id))


def case_id_taken(db: Session, case_id: uuid.UUID) -> bool:
    return db.get(Case, case_id) is not None


def next_number(db: Session) -> int:
    return int(db.scalar(select(func.coalesce(func.max(Case.number), 0))) or 0) + 1


def find_own_step(db: Session, member_id: uuid.UUID, client_id: uuid.UUID) -> CaseStep | None:
    return db.scalar(
        select(CaseStep).where(CaseStep.member_id == member_id, CaseStep.client_id == client_id)
    )


def for_update(db: Session, case_id: uuid.UUID) -> Case:
    """The case again inside an action's transaction (it was found through the policy)."""
    found = db.get(Case, case_id, populate_existing=True)
    assert found is not None
    return found


# -- what a case holds -------------------------------------------------------------------


def access_requests_of(db: Session, case_id: uuid.UUID) -> Sequence[AccessRequest]:
    """A case's access requests (the case comes from a read above)."""
    return db.scalars(
        select(AccessRequest)
        .where(AccessRequest.case_id == case_id)
        .order_by(AccessRequest.log_index)
    ).all()


def get_access_request(
    db: Session, viewer: Viewer, case: Case, request_id: uuid.UUID
) -> AccessRequest:
    found = db.get(AccessRequest, request_id)
    if found is None or found.case_id != case.id:
        raise NotFound(f"no access request {request_id}")
    return found


def access_request_id_taken(db: Session, request_id: uuid.UUID) -> bool:
    return db.get(AccessRequest, request_id) is not None


def request_of_step(db: Session, actor: Viewer, step_id: uuid.UUID) -> AccessRequest:
    """The access request the actor's step made (a retry's first result)."""
    found = db.scalar(
        select(AccessRequest)
        .join(CaseStep, CaseStep.log_index == AccessRequest.log_index)
        .where(CaseStep.member_id == actor.member_id, CaseStep.client_id == step_id)
    )
    assert found is not None
    return found


def incidents_of(db: Session, case_id: uuid.UUID) -> Sequence[Incident]:
    return db.scalars(
        select(Incident).where(Incident.case_id == case_id).order_by(Incident.log_index)
    ).all()


def list_incidents(db: Session, viewer: Viewer) -> Sequence[Incident]:
    """Every incident of access denied in a case the viewer reads."""
    return db.scalars(
        select(Incident)
        .join(Case, Case.id == Incident.case_id)
        .where(case_visible(viewer))
        .order_by(Incident.log_index)
    ).all()


def get_incident(db: Session, viewer: Viewer, incident_id: uuid.UUID) -> Incident | None:
    return db.scalar(
        select(Incident)
        .join(Case, Case.id == Incident.case_id)
        .where(Incident.id == incident_id, case_visible(viewer))
    )


@dataclass(frozen=True)
class CommentView:
    """A comment as one viewer may read it: ``text`` is None while sealed to them."""

    comment: Comment
    text: str | None
    sealed: bool


def comments_of(db: Session, viewer: Viewer, case: Case) -> list[CommentView]:
    """A case's comments (the case comes from ``get_case``): the commitment of each, its text
    only for its own organisation until the log has revealed it."""
    rows = db.scalars(
        select(Comment).where(Comment.case_id == case.id).order_by(Comment.log_index)
    ).all()
    return [
        CommentView(
            comment=c,
            text=c.text
            if c.revealed_index is not None or c.organisation_id == viewer.organisation_id
            else None,
            sealed=c.revealed_index is None,
        )
        for c in rows
    ]


def own_comment(db: Session, case_id: uuid.UUID, organisation_id: uuid.UUID) -> Comment | None:
    return db.scalar(
        select(Comment).where(
            Comment.case_id == case_id, Comment.organisation_id == organisation_id
        )
    )


def escalations_of(db: Session, case_id: uuid.UUID) -> Sequence[Escalation]:
    return db.scalars(
        select(Escalation).where(Escalation.case_id == case_id).order_by(Escalation.log_index)
    ).all()


def timeline(db: Session, viewer: Viewer, case: Case) -> Sequence[CaseStep]:
    """Every step of a case in log order, with its signer (the case page's file)."""
    return db.scalars(
        select(CaseStep).where(CaseStep.case_id == case.id).order_by(CaseStep.log_index)
    ).all()


# -- what the engine and the header strip read ----------------------------------------------


def cases_for_engine(db: Session, *, since: datetime) -> Sequence[Case]:
    """Cases with a deadline that may still escalate: filed, or investigating, or with an
    access request unanswered, since ``since``."""
    pending = select(AccessRequest.case_id).where(AccessRequest.answer.is_(None))
    return db.scalars(
        select(Case)
        .where(
            Case.filed_at >= since,
            or_(
                Case.state.in_([CaseState.FILED, CaseState.INVESTIGATING]),
                Case.id.in_(pending),
            ),
        )
        .order_by(Case.log_index)
    ).all()


def escalations_for_engine(
    db: Session, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, set[tuple[str, uuid.UUID, int]]]:
    found: dict[uuid.UUID, set[tuple[str, uuid.UUID, int]]] = {}
    if not case_ids:
        return found
    for e in db.scalars(select(Escalation).where(Escalation.case_id.in_(case_ids))):
        found.setdefault(e.case_id, set()).add((e.duty, e.subject, e.step))
    return found


def requests_for_engine(db: Session, case_ids: Sequence[uuid.UUID]) -> list[AccessRequest]:
    if not case_ids:
        return []
    return list(
        db.scalars(
            select(AccessRequest)
            .where(AccessRequest.case_id.in_(case_ids))
            .order_by(AccessRequest.log_index)
        )
    )


def comments_to_reveal(db: Session, *, now: datetime) -> Sequence[Comment]:
    """Sealed comments whose window has closed by ``now``."""
    return db.scalars(
        select(Comment)
        .join(Case, Case.id == Comment.case_id)
        .where(Comment.revealed_index.is_(None), Case.comments_close_at <= now)
        .order_by(Comment.log_index)
    ).all()


def sealed_comments_of(db: Session, case_id: uuid.UUID) -> Sequence[Comment]:
    return db.scalars(
        select(Comment)
        .where(Comment.case_id == case_id, Comment.revealed_index.is_(None))
        .order_by(Comment.log_index)
    ).all()


@dataclass(frozen=True)
class Owed:
    case: Case
    duty: str  # triage, site_visit, access_answer, comment, remedy
    deadline: datetime
    steps: int
    request: AccessRequest | None = None


def _steps_logged(duty: str, subject: Any) -> Any:
    """How many escalation steps of a duty are logged (a correlated count)."""
    return (
        select(func.count())
        .select_from(Escalation)
        .where(
            Escalation.case_id == Case.id, Escalation.duty == duty, Escalation.subject == subject
        )
        .scalar_subquery()
    )


def list_owed(db: Session, viewer: Viewer, *, now: datetime, limit: int = 50) -> list[Owed]:
    """What the viewer's organisation owes now, soonest due first: one statement."""
    if not may_read(viewer):
        return []
    kind = viewer.organisation_kind
    found: list[Owed] = []
    if kind == OrganisationKind.SUPERVISOR:
        for case, steps in db.execute(
            select(Case, _steps_logged("triage", Case.id))
            .where(Case.state == CaseState.FILED)
            .order_by(Case.triage_due_at)
            .limit(limit)
        ):
            found.append(Owed(case, "triage", case.triage_due_at, steps))
    elif kind == OrganisationKind.VERIFIER:
        for case, steps in db.execute(
            select(Case, _steps_logged("site_visit", Case.id))
            .where(Case.state == CaseState.INVESTIGATING, Case.visited_at.is_(None))
            .order_by(Case.on_site_due_at)
            .limit(limit)
        ):
            assert case.on_site_due_at is not None
            found.append(Owed(case, "site_visit", case.on_site_due_at, steps))
    elif kind == OrganisationKind.PARTY:
        own = viewer.organisation_id
        commented = (
            select(Comment.id)
            .where(Comment.case_id == Case.id, Comment.organisation_id == own)
            .exists()
        )
        asked = and_(
            AccessRequest.case_id == Case.id,
            AccessRequest.party_id == own,
            AccessRequest.answer.is_(None),
        )
        for case, request, steps, has_commented in db.execute(
            select(
                Case,
                AccessRequest,
                _steps_logged("access_answer", AccessRequest.id),
                commented.label("commented"),
            )
            .outerjoin(AccessRequest, asked)
            .where(
                or_(
                    and_(
                        Case.state == CaseState.DRAFTED,
                        Case.comments_close_at > now,
                        ~commented,
                    ),
                    and_(Case.state == CaseState.REMEDY_REQUESTED, Case.remedy_party_id == own),
                    and_(
                        AccessRequest.id.is_not(None),
                        Case.state.in_([CaseState.INVESTIGATING, CaseState.DRAFTED]),
                    ),
                )
            )
            .order_by(Case.log_index)
            .limit(limit)
        ):
            if request is not None:
                found.append(Owed(case, "access_answer", request.due_at, steps, request))
            if case.state == CaseState.REMEDY_REQUESTED and case.remedy_due_at is not None:
                found.append(Owed(case, "remedy", case.remedy_due_at, 0))
            elif (
                case.state == CaseState.DRAFTED
                and case.comments_close_at is not None
                and case.comments_close_at > now
                and not has_commented
                and not any(o.case.id == case.id and o.duty == "comment" for o in found)
            ):
                found.append(Owed(case, "comment", case.comments_close_at, 0))
    return sorted(found, key=lambda o: (o.deadline, o.case.number))[:limit]
