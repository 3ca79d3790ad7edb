"""Triage, tasking and investigation (issue 13, item 2).

- Only the supervisor triages a filed complaint, once: admissible, a duplicate of another
  case, or out of scope, always with reasons. A duplicate or out-of-scope complaint is
  dismissed.
- The supervisor (or the verifier itself) tasks the verifier: it is due on site within the
  rules' hours (R11).
- The verifier records its site visits and asks the party concerned for access; the party
  answers within the rules' hours, and a denial is an incident of its own attributed to the
  party (R12), recorded by the log in the answer's transaction.

Every step is one signed entry released to the case's audience, idempotent by the client's
step id; a step the case's state does not allow is refused (409), nothing written.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import get_member, viewer_of
from fusioncell.db.transaction import atomic
from fusioncell.deescalation.queries import Directory, directory
from fusioncell.errors import Conflict, Forbidden, InvalidInput, NotFound
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.entries import log_time
from fusioncell.text import N_
from fusioncell.verification.actions.common import (
    past_time,
    point,
    record_step,
    require_state,
    retried,
    text,
)
from fusioncell.verification.entries import VerificationEntry as E
from fusioncell.verification.models import (
    AccessRequest,
    Answer,
    Case,
    CaseState,
    Incident,
    Triage,
)
from fusioncell.verification.policy import (
    is_verifier,
    may_answer_access,
    may_investigate,
    may_task,
    may_triage,
    require,
)
from fusioncell.verification.queries.cases import (
    access_request_id_taken,
    find_case,
    for_update,
    get_access_request,
    get_case,
    request_of_step,
    rules_in_force,
)

_NOT_SUPERVISOR = N_("Only the supervisor triages a complaint.")
_NOT_TASKER = N_("The supervisor or the verifier tasks the verifier.")
_NOT_VERIFIER = N_("Only the verifier investigates: site visits and access requests.")
_NOT_ANSWERER = N_("A party's liaison officer answers the access requests made to the party.")
_NOT_ASKED = N_("This access request was made to another party.")
_BAD_TRIAGE = N_("The triage is admissible, duplicate or out_of_scope.")
_NEED_DUPLICATE = N_("A duplicate names the case it duplicates, another case you may read.")
_NOT_DUPLICATE = N_("Only a duplicate names another case.")
_NAME_VERIFIER = N_("Name the verifier tasked: a member of the verifier with its role.")
_BEFORE_TASKING = N_("A site visit cannot be dated before the verifier was tasked.")
_NOT_PARTY = N_("Access is asked of a party of the cell.")
_BAD_ANSWER = N_("The answer is granted or denied.")
_ANSWERED = N_("This access request has been answered already.")


def do_triage_complaint(
    db: Session,
    actor: Viewer,
    case_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    triage: str,
    reasons: str,
    duplicate_of: uuid.UUID | None = None,
    now: datetime,
) -> Case:
    require(actor, may_triage(actor), _NOT_SUPERVISOR)
    case = get_case(db, actor, case_id)
    rules = rules_in_force(db)
    if triage not in tuple(Triage):
        raise InvalidInput(_BAD_TRIAGE, field="triage", triages=[t.value for t in Triage])
    why = text(reasons, field="reasons", limit=rules.max_reason_chars)
    if triage == Triage.DUPLICATE:
        other = find_case(db, actor, duplicate_of) if duplicate_of is not None else None
        if other is None or other.id == case.id:
            raise InvalidInput(_NEED_DUPLICATE, field="duplicate_of")
    elif duplicate_of is not None:
        raise InvalidInput(_NOT_DUPLICATE, field="duplicate_of")
    dir_ = directory(db, actor)
    with atomic(db):
        at = log_clock(db, now=now)
        case = for_update(db, case.id)
        if retried(db, actor, step_id, case, E.COMPLAINT_TRIAGED):
            return case
        require_state(case, E.COMPLAINT_TRIAGED)
        case.state = CaseState.TRIAGED if triage == Triage.ADMISSIBLE else CaseState.DISMISSED
        case.triage, case.triage_reasons, case.duplicate_of = triage, why, duplicate_of
        case.triaged_at = at
        record_step(
            db,
            actor,
            dir_,
            case,
            E.COMPLAINT_TRIAGED,
            {
                "triage": triage,
                "reasons": why,
                "duplicate_of": str(duplicate_of) if duplicate_of else None,
            },
            step_id=step_id,
            at=at,
        )
    return case


def _verifier_tasked(db: Session, actor: Viewer, verifier: uuid.UUID | None) -> uuid.UUID:
    if verifier is None:
        if is_verifier(actor):
            return actor.member_id
        raise InvalidInput(_NAME_VERIFIER, field="verifier")
    try:
        member = get_member(db, actor, verifier)
    except NotFound:
        raise InvalidInput(_NAME_VERIFIER, field="verifier") from None
    if not is_verifier(viewer_of(member)):
        raise InvalidInput(_NAME_VERIFIER, field="verifier")
    return member.id


def do_task_verifier(
    db: Session,
    actor: Viewer,
    case_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    verifier: uuid.UUID | None = None,
    now: datetime,
) -> Case:
    require(actor, may_task(actor), _NOT_TASKER)
    case = get_case(db, actor, case_id)
    tasked = _verifier_tasked(db, actor, verifier)
    rules = rules_in_force(db)
    dir_ = directory(db, actor)
    with atomic(db):
        at = log_clock(db, now=now)
        case = for_update(db, case.id)
        if retried(db, actor, step_id, case, E.VERIFIER_TASKED):
            return case
        require_state(case, E.VERIFIER_TASKED)
        case.state = CaseState.INVESTIGATING
        case.tasked_member_id, case.tasked_at = tasked, at
        case.on_site_due_at = at + rules.on_site
        record_step(
            db,
            actor,
            dir_,
            case,
            E.VERIFIER_TASKED,
            {"verifier": str(tasked), "on_site_due_at": log_time(case.on_site_due_at)},
            step_id=step_id,
            at=at,
        )
    return case


def do_record_site_visit(
    db: Session,
    actor: Viewer,
    case_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    visited_at: datetime,
    note: str,
    location: object = None,
    now: datetime,
) -> Case:
    require(actor, may_investigate(actor), _NOT_VERIFIER)
    case = get_case(db, actor, case_id)
    rules = rules_in_force(db)
    when = past_time(visited_at, field="visited_at", now=now)
    said = text(note, field="note", limit=rules.max_text_chars, required=False)
    place = point(location) if location is not None else None
    dir_ = directory(db, actor)
    with atomic(db):
        at = log_clock(db, now=now)
        case = for_update(db, case.id)
        if retried(db, actor, step_id, case, E.SITE_VISITED):
            return case
        require_state(case, E.SITE_VISITED)
        if case.tasked_at is not None and when < case.tasked_at:
            raise InvalidInput(_BEFORE_TASKING, field="visited_at")
        if case.visited_at is None:
            case.visited_at = at
        record_step(
            db,
            actor,
            dir_,
            case,
            E.SITE_VISITED,
            {
                "visited_at": log_time(when),
                "note": said,
                "location": {"type": "Point", "coordinates": list(place)} if place else None,
            },
            step_id=step_id,
            at=at,
        )
    return case


def do_request_access(
    db: Session,
    actor: Viewer,
    case_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    party: str | None,
    place: str,
    now: datetime,
) -> AccessRequest:
    require(actor, may_investigate(actor), _NOT_VERIFIER)
    case = get_case(db, actor, case_id)
    rules = rules_in_force(db)
    dir_ = directory(db, actor)
    if party is None and case.against_id is not None:
        party = dir_.by_id[case.against_id].slug
    if party not in dir_.parties():
        raise InvalidInput(_NOT_PARTY, field="party", parties=dir_.parties())
    where = text(place, field="place", limit=rules.max_reason_chars)
    with atomic(db):
        at = log_clock(db, now=now)
        case = for_update(db, case.id)
        if retried(db, actor, step_id, case, E.ACCESS_REQUESTED):
            return request_of_step(db, actor, step_id)
        require_state(case, E.ACCESS_REQUESTED)
        request = AccessRequest(
            id=step_id if not access_request_id_taken(db, step_id) else uuid.uuid4(),
            case_id=case.id,
            party_id=dir_.by_slug[party].id,
            place=where,
            requested_by=actor.member_id,
            log_index=-1,
            requested_at=at,
            due_at=at + rules.access_answer,
        )
        appended = record_step(
            db,
            actor,
            dir_,
            case,
            E.ACCESS_REQUESTED,
            {
                "request": str(request.id),
                "party": party,
                "place": where,
                "due_at": log_time(request.due_at),
            },
            step_id=step_id,
            at=at,
        )
        request.log_index = appended.index
        db.add(request)
    return request


def do_answer_access(
    db: Session,
    actor: Viewer,
    case_id: uuid.UUID,
    request_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    answer: str,
    note: str = "",
    now: datetime,
) -> AccessRequest:
    require(actor, may_answer_access(actor), _NOT_ANSWERER)
    case = get_case(db, actor, case_id)
    request = get_access_request(db, actor, case, request_id)
    if request.party_id != actor.organisation_id:
        raise Forbidden(_NOT_ASKED)
    if answer not in tuple(Answer):
        raise InvalidInput(_BAD_ANSWER, field="answer")
    rules = rules_in_force(db)
    said = text(note, field="note", limit=rules.max_reason_chars, required=False)
    dir_ = directory(db, actor)
    with atomic(db):
        at = log_clock(db, now=now)
        case = for_update(db, case.id)
        request = db.get(AccessRequest, request.id, populate_existing=True) or request
        if retried(db, actor, step_id, case, E.ACCESS_ANSWERED):
            return request
        if request.answer is not None:
            raise Conflict(_ANSWERED, field="request")
        require_state(case, E.ACCESS_ANSWERED)
        appended = record_step(
            db,
            actor,
            dir_,
            case,
            E.ACCESS_ANSWERED,
            {
                "request": str(request.id),
                "request_index": request.log_index,
                "answer": answer,
                "note": said,
            },
            step_id=step_id,
            at=at,
        )
        request.answer, request.answer_note = answer, said
        request.answered_by, request.answer_index = actor.member_id, appended.index
        request.answered_at = at
        if answer == Answer.DENIED:
            _record_denial(db, dir_, case, request, at=at)
    return request


def _record_denial(
    db: Session, dir_: Directory, case: Case, request: AccessRequest, *, at: datetime
) -> Incident:
    """R12: the denial as an incident of its own, stated by the log and attributed to the
    party that denied access, in the answer's transaction."""
    incident_id = uuid.uuid4()
    appended = record_step(
        db,
        None,
        dir_,
        case,
        E.INCIDENT_RECORDED,
        {
            "incident": str(incident_id),
            "kind": "access_denied",
            "party": dir_.by_id[request.party_id].slug,
            "request": str(request.id),
            "answer_index": request.answer_index,
            "occurred_at": log_time(at),
        },
        step_id=None,
        at=at,
    )
    incident = Incident(
        id=incident_id,
        case_id=case.id,
        request_id=request.id,
        party_id=request.party_id,
        occurred_at=at,
        log_index=appended.index,
    )
    db.add(incident)
    return incident
