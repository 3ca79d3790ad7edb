"""Cases as the API shows them (and the pages will): every read through ``queries``, so a
sealed comment's text reaches its own party only, and the deadlines are counted down from
the viewer's clock."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import list_members
from fusioncell.deescalation.queries import Directory, directory
from fusioncell.verification.actions.escalation import deadlines_of
from fusioncell.verification.models import Case, EvidenceFile
from fusioncell.verification.queries import cases as queries
from fusioncell.verification.queries.evidence import evidence_of
from fusioncell.verification.schemas import (
    AccessRequestOut,
    CaseDetailOut,
    CaseOut,
    CommentOut,
    DeadlineOut,
    EvidenceOut,
    ExifOut,
    StepOut,
)


def evidence_out(f: EvidenceFile) -> EvidenceOut:
    return EvidenceOut(
        sha256=f.sha256,
        size=f.size,
        type=f.media_type,
        url=f"/api/v1/verification/evidence/{f.sha256}",
        exif=ExifOut.model_validate(f.exif) if f.exif else None,
    )


def _slug(dir_: Directory, organisation_id: uuid.UUID | None) -> str | None:
    found = dir_.by_id.get(organisation_id) if organisation_id is not None else None
    return found.slug if found is not None else None


def cases_out(db: Session, viewer: Viewer, cases: Sequence[Case]) -> list[CaseOut]:
    """A list of cases in a constant number of statements."""
    dir_ = directory(db, viewer)
    files = evidence_of(db, viewer, cases)
    return [_case_out(dir_, case, files[case.id]) for case in cases]


def case_out(db: Session, viewer: Viewer, case: Case) -> CaseOut:
    return cases_out(db, viewer, [case])[0]


def _case_out(dir_: Directory, case: Case, files: dict[str, EvidenceFile]) -> CaseOut:
    return CaseOut(
        id=case.id,
        number=case.number,
        state=case.state,
        filed_by=_slug(dir_, case.organisation_id) or "",
        against=_slug(dir_, case.against_id),
        rule=case.rule,
        allegation=case.allegation,
        location={"type": "Point", "coordinates": [case.lon, case.lat]},
        occurred_at=case.occurred_at,
        links=case.links,
        evidence=[evidence_out(files[e["sha256"]]) for e in case.evidence if e["sha256"] in files],
        candidate=case.candidate,
        log_index=case.log_index,
        filed_at=case.filed_at,
        triage_due_at=case.triage_due_at,
        triage=case.triage,
        triage_reasons=case.triage_reasons,
        duplicate_of=case.duplicate_of,
        tasked_at=case.tasked_at,
        on_site_due_at=case.on_site_due_at,
        visited_at=case.visited_at,
        draft=(
            {
                "outcome": case.draft_outcome,
                "party": _slug(dir_, case.draft_party_id),
                "summary": case.draft_text,
                "drafted_at": case.drafted_at,
            }
            if case.drafted_at is not None
            else None
        ),
        comments_close_at=case.comments_close_at,
        outcome=case.outcome,
        outcome_party=_slug(dir_, case.outcome_party_id),
        finding=case.finding_text,
        issued_at=case.issued_at,
        remedy=(
            {
                "remedy": case.remedy,
                "party": _slug(dir_, case.remedy_party_id),
                "due_at": case.remedy_due_at,
                "requested_at": case.remedy_requested_at,
                "verified_at": case.remedy_verified_at,
            }
            if case.remedy_requested_at is not None
            else None
        ),
        closed_at=case.closed_at,
    )


def case_detail(db: Session, viewer: Viewer, case: Case, *, now: datetime) -> CaseDetailOut:
    dir_ = directory(db, viewer)
    base = _case_out(dir_, case, evidence_of(db, viewer, [case])[case.id])
    # Members' names as the viewer may see them (the chair sees all; others their own).
    names = {m.id: m.username for m in list_members(db, viewer)}
    requests = queries.access_requests_of(db, case.id)
    incidents = {i.request_id: i.id for i in queries.incidents_of(db, case.id)}
    escalations = queries.escalations_of(db, case.id)
    deadlines = [
        DeadlineOut(
            duty=d.duty,
            owed_by=d.organisation,
            due_at=d.due_at,
            done_at=d.done_at,
            overdue=d.done_at is None and d.lapses_at is None and d.due_at <= now,
            escalations=sum(
                1 for e in escalations if e.duty == d.duty and str(e.subject) == d.subject
            ),
        )
        for d in deadlines_of(dir_, case, requests)
    ]
    return CaseDetailOut(
        **base.model_dump(),
        comments=[
            CommentOut(
                id=v.comment.id,
                party=_slug(dir_, v.comment.organisation_id) or "",
                commitment=v.comment.commitment,
                log_index=v.comment.log_index,
                sealed_at=v.comment.sealed_at,
                sealed=v.sealed,
                text=v.text,
                revealed_index=v.comment.revealed_index,
            )
            for v in queries.comments_of(db, viewer, case)
        ],
        access_requests=[
            AccessRequestOut(
                id=r.id,
                party=_slug(dir_, r.party_id) or "",
                place=r.place,
                requested_at=r.requested_at,
                due_at=r.due_at,
                answer=r.answer,
                note=r.answer_note,
                answered_at=r.answered_at,
                log_index=r.log_index,
                incident=incidents.get(r.id),
            )
            for r in requests
        ],
        deadlines=deadlines,
        timeline=[
            StepOut(
                kind=t.kind,
                at=t.at,
                log_index=t.log_index,
                organisation=_slug(dir_, t.organisation_id),
                signed_by=names.get(t.member_id) if t.member_id else None,
            )
            for t in queries.timeline(db, viewer, case)
        ],
    )
