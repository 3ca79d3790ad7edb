"""REST routes of the verification track (``/api/v1/verification``). Every read goes through
``verification.queries``; every change is an action, idempotent by the client's ``id`` (or an
``Idempotency-Key``); every refusal is problem+json with nothing written."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response
from starlette.formparsers import MultiPartException

from fusioncell.cell.policy import Viewer
from fusioncell.errors import InvalidInput
from fusioncell.idempotency import resolve_id
from fusioncell.text import N_
from fusioncell.verification import present
from fusioncell.verification.actions import findings, investigation
from fusioncell.verification.actions.complaints import do_file_complaint, do_store_evidence
from fusioncell.verification.policy import may_read, may_store_evidence, require
from fusioncell.verification.queries import cases as queries
from fusioncell.verification.queries.evidence import get_evidence
from fusioncell.verification.queries.stats import statistics
from fusioncell.verification.schemas import (
    SHA256,
    AccessAnswerIn,
    AccessRequestIn,
    CaseDetailOut,
    CaseOut,
    CommentIn,
    EvidenceOut,
    FileComplaintIn,
    FindingIn,
    NoteIn,
    RemedyIn,
    SiteVisitIn,
    StatisticsOut,
    TaskIn,
    TriageIn,
)
from fusioncell.web.deps import AppClock, CurrentViewer, Db

router = APIRouter(prefix="/api/v1/verification", tags=["verification"])
IdempotencyKey = Annotated[str | None, Header(max_length=200)]
_READ = "this needs the permission to read the cell's traffic"
_NOT_STORER = N_("Evidence is stored by those who file complaints or investigate them.")
METHOD = (
    "Per party, over the cases the viewer reads: complaints filed by the party and received "
    "(against it), findings by outcome on those received, hours from filing to triage, to "
    "the first site visit and to the finding (median and 90th percentile, nearest rank) on "
    "those received, denials of access attributed to it, remedies asked of it and verified."
)


def _id(viewer: Viewer, given: uuid.UUID | None, key: str | None, scope: str) -> uuid.UUID:
    return resolve_id(viewer, given, key, scope=f"verification-{scope}")


def _detail(db: Db, viewer: Viewer, case_id: uuid.UUID, clock: AppClock) -> CaseDetailOut:
    return present.case_detail(db, viewer, queries.get_case(db, viewer, case_id), now=clock.now())


@router.post("/complaints", response_model=CaseOut, status_code=201)
def file_complaint(
    body: FileComplaintIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> CaseOut:
    """File a complaint: ``allegation``, ``against`` (a party, or null for unknown), ``rule``,
    ``location`` (RFC 7946 Point), ``occurred_at``, ``links`` and ``evidence`` (SHA-256 of
    files stored first). With ``candidate`` (a de-escalation candidate's key, as
    ``GET /api/v1/deescalation/compliance`` shows it) the rest may be left out."""
    case = do_file_complaint(
        db,
        viewer,
        case_id=_id(viewer, body.id, idempotency_key, "complaint"),
        allegation=body.allegation,
        against=body.against,
        rule=body.rule,
        location=body.location,
        occurred_at=body.occurred_at,
        links=[link.model_dump() for link in body.links],
        evidence=body.evidence,
        candidate=body.candidate,
        now=clock.now(),
    )
    return present.case_out(db, viewer, case)


@router.get("/complaints", response_model=list[CaseOut])
def list_complaints(
    viewer: CurrentViewer,
    db: Db,
    state: Annotated[str | None, Query(max_length=24)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[CaseOut]:
    """The cases the viewer reads, the latest filed first; ``state`` narrows them."""
    require(viewer, may_read(viewer), _READ)
    return present.cases_out(db, viewer, queries.list_cases(db, viewer, state=state, limit=limit))


@router.get("/triage-queue", response_model=list[CaseOut])
def triage_queue(viewer: CurrentViewer, db: Db) -> list[CaseOut]:
    """Filed complaints awaiting triage, the soonest due first."""
    require(viewer, may_read(viewer), _READ)
    return present.cases_out(db, viewer, queries.triage_queue(db, viewer))


@router.get("/complaints/{case_id}", response_model=CaseDetailOut)
def get_complaint(
    case_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> CaseDetailOut:
    """The case as a file: its steps with who signed each, the evidence, the access requests,
    the comments (sealed to the other parties until the window closes), the deadlines."""
    return _detail(db, viewer, case_id, clock)


@router.post("/complaints/{case_id}/triage", response_model=CaseDetailOut)
def triage(
    case_id: uuid.UUID,
    body: TriageIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> CaseDetailOut:
    """The supervisor's triage: ``admissible``, ``duplicate`` (with ``duplicate_of``) or
    ``out_of_scope``, with ``reasons``; once."""
    investigation.do_triage_complaint(
        db,
        viewer,
        case_id,
        step_id=_id(viewer, body.id, idempotency_key, f"triage-{case_id}"),
        triage=body.triage,
        reasons=body.reasons,
        duplicate_of=body.duplicate_of,
        now=clock.now(),
    )
    return _detail(db, viewer, case_id, clock)


@router.post("/complaints/{case_id}/tasking", response_model=CaseDetailOut)
def task(
    case_id: uuid.UUID,
    body: TaskIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> CaseDetailOut:
    """Task the verifier (due on site within the rules' hours)."""
    investigation.do_task_verifier(
        db,
        viewer,
        case_id,
        step_id=_id(viewer, body.id, idempotency_key, f"task-{case_id}"),
        verifier=body.verifier,
        now=clock.now(),
    )
    return _detail(db, viewer, case_id, clock)


@router.post("/complaints/{case_id}/site-visits", response_model=CaseDetailOut)
def site_visit(
    case_id: uuid.UUID,
    body: SiteVisitIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> CaseDetailOut:
    investigation.do_record_site_visit(
        db,
        viewer,
        case_id,
        step_id=_id(viewer, body.id, idempotency_key, f"visit-{case_id}"),
        visited_at=body.visited_at,
        note=body.note,
        location=body.location,
        now=clock.now(),
    )
    return _detail(db, viewer, case_id, clock)


@router.post("/complaints/{case_id}/access-requests", response_model=CaseDetailOut)
def request_access(
    case_id: uuid.UUID,
    body: AccessRequestIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> CaseDetailOut:
    """The verifier asks ``party`` (default: the party the complaint is against) for access."""
    investigation.do_request_access(
        db,
        viewer,
        case_id,
        step_id=_id(viewer, body.id, idempotency_key, f"access-{case_id}"),
        party=body.party,
        place=body.place,
        now=clock.now(),
    )
    return _detail(db, viewer, case_id, clock)


@router.post(
    "/complaints/{case_id}/access-requests/{request_id}/answer", response_model=CaseDetailOut
)
def answer_access(
    case_id: uuid.UUID,
    request_id: uuid.UUID,
    body: AccessAnswerIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> CaseDetailOut:
    """The party asked answers ``granted`` or ``denied``; a denial is an incident (R12)."""
    investigation.do_answer_access(
        db,
        viewer,
        case_id,
        request_id,
        step_id=_id(viewer, body.id, idempotency_key, f"answer-{request_id}"),
        answer=body.answer,
        note=body.note,
        now=clock.now(),
    )
    return _detail(db, viewer, case_id, clock)


@router.post("/complaints/{case_id}/draft-finding", response_model=CaseDetailOut)
def draft_finding(
    case_id: uuid.UUID,
    body: FindingIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> CaseDetailOut:
    """A draft finding; it opens the comment window for every party at once."""
    findings.do_draft_finding(
        db,
        viewer,
        case_id,
        step_id=_id(viewer, body.id, idempotency_key, f"draft-{case_id}"),
        outcome=body.outcome,
        party=body.party,
        summary=body.summary,
        now=clock.now(),
    )
    return _detail(db, viewer, case_id, clock)


@router.post("/complaints/{case_id}/comments", response_model=CaseDetailOut, status_code=201)
def comment(
    case_id: uuid.UUID,
    body: CommentIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> CaseDetailOut:
    """A party's comment, once, while the window is open; sealed until it closes."""
    findings.do_comment_on_finding(
        db,
        viewer,
        case_id,
        comment_id=_id(viewer, body.id, idempotency_key, f"comment-{case_id}"),
        comment=body.comment,
        now=clock.now(),
    )
    return _detail(db, viewer, case_id, clock)


@router.post("/complaints/{case_id}/finding", response_model=CaseDetailOut)
def issue_finding(
    case_id: uuid.UUID,
    body: FindingIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> CaseDetailOut:
    """The finding, once the comment window has closed (the comments are revealed first)."""
    findings.do_issue_finding(
        db,
        viewer,
        case_id,
        step_id=_id(viewer, body.id, idempotency_key, f"finding-{case_id}"),
        outcome=body.outcome,
        party=body.party,
        summary=body.summary,
        now=clock.now(),
    )
    return _detail(db, viewer, case_id, clock)


@router.post("/complaints/{case_id}/remedy", response_model=CaseDetailOut)
def request_remedy(
    case_id: uuid.UUID,
    body: RemedyIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> CaseDetailOut:
    """What the party is to do, by when: after a substantiated finding only."""
    findings.do_request_remedy(
        db,
        viewer,
        case_id,
        step_id=_id(viewer, body.id, idempotency_key, f"remedy-{case_id}"),
        remedy=body.remedy,
        due_at=body.due_at,
        party=body.party,
        now=clock.now(),
    )
    return _detail(db, viewer, case_id, clock)


@router.post("/complaints/{case_id}/remedy/verification", response_model=CaseDetailOut)
def verify_remedy(
    case_id: uuid.UUID,
    body: NoteIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> CaseDetailOut:
    findings.do_verify_remedy(
        db,
        viewer,
        case_id,
        step_id=_id(viewer, body.id, idempotency_key, f"verified-{case_id}"),
        note=body.note,
        now=clock.now(),
    )
    return _detail(db, viewer, case_id, clock)


@router.post("/complaints/{case_id}/close", response_model=CaseDetailOut)
def close(
    case_id: uuid.UUID,
    body: NoteIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> CaseDetailOut:
    findings.do_close_case(
        db,
        viewer,
        case_id,
        step_id=_id(viewer, body.id, idempotency_key, f"close-{case_id}"),
        note=body.note,
        now=clock.now(),
    )
    return _detail(db, viewer, case_id, clock)


# -- evidence -------------------------------------------------------------------------------

# The raw file, with its type. A multipart form's ``file`` is taken too (for a browser's
# form), but not documented: the app's first dependency parses a form to refuse unsafe text
# and leaves the files it spooled open when it refuses one (reported), which a generated
# multipart request would hit.
EVIDENCE_BODY = {
    "required": True,
    "content": {
        media: {"schema": {"type": "string", "format": "binary"}}
        for media in ("image/jpeg", "image/png", "application/pdf", "text/plain")
    },
}


async def _uploaded(request: Request) -> tuple[bytes, str]:
    """A multipart form's ``file``: its bytes and type. Every file the form spooled is
    closed, whatever the form held; a form that cannot be parsed is refused."""
    try:
        form = await request.form()
    except (MultiPartException, ValueError, KeyError):
        raise InvalidInput(N_("The body is not a multipart form."), field="file") from None
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput(N_("The form has no file field."), field="file")
        return await upload.read(), upload.content_type or ""
    finally:
        await form.close()


@router.post(
    "/evidence",
    response_model=EvidenceOut,
    status_code=201,
    openapi_extra={"requestBody": EVIDENCE_BODY},
)
async def store_evidence(request: Request, viewer: CurrentViewer, clock: AppClock) -> EvidenceOut:
    """A file (image/jpeg, image/png, application/pdf, text/plain, within the rules' size):
    the raw body with its ``Content-Type``, or a multipart form's ``file``. Stored by its
    SHA-256; released to your organisation until attached to a complaint."""
    require(viewer, may_store_evidence(viewer), _NOT_STORER)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        content, media_type = await _uploaded(request)
    else:
        content, media_type = await request.body(), content_type
    sessions = request.app.state.sessions
    with sessions() as db:
        stored = do_store_evidence(db, viewer, content, media_type=media_type, now=clock.now())
        return present.evidence_out(stored)


@router.get(
    "/evidence/{sha256}",
    response_class=Response,
    responses={200: {"description": "The file, with its type.", "content": {"*/*": {}}}},
)
def read_evidence(
    sha256: Annotated[str, Path(pattern=SHA256)], viewer: CurrentViewer, db: Db
) -> Response:
    """The file, when it is released to you (404 otherwise)."""
    found = get_evidence(db, viewer, sha256)
    return Response(
        content=found.content,
        media_type=found.media_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.get("/stats", response_model=StatisticsOut)
def stats(viewer: CurrentViewer, db: Db) -> StatisticsOut:
    """R13: the same figures for every party, by one method."""
    require(viewer, may_read(viewer), _READ)
    return StatisticsOut.model_validate(
        {"method": METHOD, "parties": [asdict(s) for s in statistics(db, viewer)]}
    )
