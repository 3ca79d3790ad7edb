"""Pages of the disputes track: the cases per state with the supervisor's triage queue and the
complaint form (``/verification``), a case as a file with the forms its viewer may use now
(``/verification/cases/{id}``) and the statistics on one scale for every party
(``/verification/stats``).

Every read goes through the track's queries (``page_data``), every change is the action the
API calls; the forms work without script (a plain POST, then a redirect; a refusal of the
input is shown on the form, translated, with nothing written). The pages are live through
the page's one stream: ``verification.js`` fetches the sections again on the track's frames.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException

from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import list_members, viewer_of
from fusioncell.errors import FusioncellError, InvalidInput
from fusioncell.text import N_
from fusioncell.verification import page_data
from fusioncell.verification.actions import findings, investigation
from fusioncell.verification.actions.complaints import do_file_complaint, do_store_evidence
from fusioncell.verification.policy import (
    is_verifier,
    may_answer_access,
    may_close,
    may_comment,
    may_file,
    may_find,
    may_investigate,
    may_read,
    may_task,
    may_triage,
    require,
)
from fusioncell.verification.queries import cases as queries
from fusioncell.web.deps import AppClock, CurrentViewer, Db
from fusioncell.web.pages import page

router = APIRouter(include_in_schema=False)
LIST_SECTIONS = "verification-sections"
CASE_SECTIONS = "verification-case-sections"
STATS_SECTIONS = "verification-stats-sections"
_READ = N_("You do not read the cell's traffic.")
_BAD_TIME = N_("Give a date and a time (UTC).")
_BAD_PLACE = N_("Give the place as longitude and latitude in decimal degrees.")
_BAD_LINK = N_("Give each link on its own line: its kind, then its id.")
_BAD_FORM = N_("The form could not be read; send it again.")
_NOT_YOURS = N_("Your role may not take this step.")
_NOT_FILER = N_(
    "A complaint is filed by a party's liaison officer, the verifier or the humanitarian "
    "organisation."
)


# -- form fields -----------------------------------------------------------------------------


def _text(data: FormData, name: str) -> str:
    value = data.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def moment(value: str, field: str) -> datetime:
    """A form's time: a datetime-local value is UTC; an RFC 3339 time keeps its offset."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(_BAD_TIME, field=field) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _place(data: FormData) -> Any:
    """The place: the map picker's GeoJSON when given, else longitude and latitude."""
    geojson = _text(data, "location")
    if geojson:
        try:
            parsed = json.loads(geojson)
        except ValueError:
            raise InvalidInput(_BAD_PLACE, field="location") from None
        if isinstance(parsed, dict) and parsed.get("type") == "Feature":
            return parsed.get("geometry")
        return parsed
    lon, lat = _text(data, "lon"), _text(data, "lat")
    if not lon and not lat:
        return None
    try:
        return {"type": "Point", "coordinates": [float(lon), float(lat)]}
    except ValueError:
        raise InvalidInput(_BAD_PLACE, field="location") from None


def _links(value: str) -> list[dict[str, str]]:
    found = []
    for line in value.splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2:
            raise InvalidInput(_BAD_LINK, field="links")
        found.append({"kind": parts[0], "id": parts[1]})
    return found


def form_id(data: FormData) -> uuid.UUID:
    try:
        return uuid.UUID(_text(data, "id"))
    except ValueError:
        return uuid.uuid4()


def _refused(problem: FusioncellError) -> bool:
    """Refusals of the member and faults go to the error page; bad input is shown on the
    form, with what was typed."""
    return problem.status >= 500 or problem.status in (401, 403, 404)


def _sectioned(
    request: Request, viewer: Viewer, sections_id: str, full: str, part: str, **context: Any
) -> Response:
    headers = {"Vary": "HX-Target"}
    if request.headers.get("hx-target") == sections_id and context.get("error") is None:
        return page(request, viewer, part, headers=headers, sections_id=sections_id, **context)
    status = context.pop("status_code", 200)
    return page(
        request,
        viewer,
        full,
        status_code=status,
        headers=headers,
        sections_id=sections_id,
        script_labels=page_data.labels_json(viewer.language, *page_data.SCRIPT_LABELS),
        **context,
    )


# -- the list ------------------------------------------------------------------------------


def list_page(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    *,
    data: FormData | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    require(viewer, may_read(viewer), _READ)
    candidate = request.query_params.get("candidate", "")[:300]
    context = page_data.list_context(db, viewer, now=now, data=data, candidate=candidate)
    return _sectioned(
        request,
        viewer,
        LIST_SECTIONS,
        "verification/list.html",
        "verification/list_sections.html",
        error=error,
        status_code=status_code,
        **context,
    )


@router.get("/verification")
def cases(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    return list_page(request, viewer, db, clock.now())


async def _form(request: Request) -> FormData:
    try:
        return await request.form()
    except (MultiPartException, ValueError, KeyError):
        raise InvalidInput(_BAD_FORM, field="file") from None


async def _files(data: FormData) -> list[tuple[bytes, str]]:
    found = []
    for value in data.getlist("file"):
        if isinstance(value, UploadFile) and value.filename:
            found.append((await value.read(), value.content_type or ""))
    return found


@router.post("/verification/complaints")
async def file_complaint(
    request: Request, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    """The complaint form: the files chosen are stored first (each its own signed entry, so a
    complaint refused afterwards leaves them offered on the form, checked), then the
    complaint is filed with them and the stored files ticked."""
    require(viewer, may_file(viewer), _NOT_FILER)
    data = await _form(request)
    try:
        uploads = await _files(data)
    finally:
        await data.close()
    now = clock.now()
    return await run_in_threadpool(_file, request, viewer, db, now, data, uploads)


def _file(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    data: FormData,
    uploads: list[tuple[bytes, str]],
) -> Response:
    filed: list[uuid.UUID] = []
    attach = [str(v) for v in data.getlist("attach") if isinstance(v, str)]
    stored: list[str] = []

    def act() -> None:
        candidate = _text(data, "candidate") or None
        location = _place(data)
        when = _text(data, "occurred_at")
        occurred_at = moment(when, "occurred_at") if when else None
        links = _links(_text(data, "links"))
        for content, media_type in uploads:
            stored.append(
                do_store_evidence(db, viewer, content, media_type=media_type, now=now).sha256
            )
        case = do_file_complaint(
            db,
            viewer,
            case_id=form_id(data),
            allegation=_text(data, "allegation") or None,
            against=_text(data, "against") or None,
            rule=_text(data, "rule") or None,
            location=location,
            occurred_at=occurred_at,
            links=links,
            evidence=list(dict.fromkeys(attach + stored)),
            candidate=candidate,
            now=now,
        )
        filed.append(case.id)

    try:
        act()
    except FusioncellError as problem:
        if _refused(problem):
            raise
        shown = _Refilled(data, attach + stored)
        return list_page(
            request,
            viewer,
            db,
            now,
            data=shown,  # type: ignore[arg-type]
            error=problem.detail,
            status_code=problem.status,
        )
    return RedirectResponse(f"/verification/cases/{filed[0]}", status_code=303)


class _Refilled:
    """The form as sent, with the files stored meanwhile ticked (shown again on a refusal)."""

    def __init__(self, data: FormData, attach: list[str]) -> None:
        self._data, self._attach = data, attach

    def get(self, name: str, default: Any = None) -> Any:
        return self._data.get(name, default)

    def getlist(self, name: str) -> list[Any]:
        return list(self._attach) if name == "attach" else self._data.getlist(name)

    def __iter__(self) -> Any:
        return iter(self._data)


# -- a case ----------------------------------------------------------------------------------


def case_page(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    case_id: uuid.UUID,
    *,
    data: FormData | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    require(viewer, may_read(viewer), _READ)
    db.rollback()  # a fresh read, past a refused action's transaction
    case = queries.get_case(db, viewer, case_id)
    context = page_data.case_context(db, viewer, case, now=now, data=data)
    context["verifiers"] = _verifiers(db, viewer) if context["forms"].task else []
    return _sectioned(
        request,
        viewer,
        CASE_SECTIONS,
        "verification/case.html",
        "verification/case_sections.html",
        error=error,
        status_code=status_code,
        **context,
    )


def _verifiers(db: Session, viewer: Viewer) -> list[tuple[str, str]]:
    """The verifiers a supervisor may task (a verifier tasks itself)."""
    if not may_task(viewer) or is_verifier(viewer):
        return []
    return [(str(m.id), m.username) for m in list_members(db, viewer) if is_verifier(viewer_of(m))]


@router.get("/verification/cases/{case_id}")
def case(
    request: Request, case_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    return case_page(request, viewer, db, clock.now(), case_id)


def _step(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    case_id: uuid.UUID,
    data: FormData,
    action: Callable[[], Any],
    anchor: str,
) -> Response:
    try:
        action()
    except FusioncellError as problem:
        if _refused(problem):
            raise
        return case_page(
            request,
            viewer,
            db,
            now,
            case_id,
            data=data,
            error=problem.detail,
            status_code=problem.status,
        )
    return RedirectResponse(f"/verification/cases/{case_id}#{anchor}", status_code=303)


def _optional_uuid(value: str, field: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput(N_("Choose one from the list."), field=field) from None


# Each step's form: what it calls with the form's fields, and the part of the page to show.
Step = Callable[[Session, Viewer, uuid.UUID, FormData, datetime], Any]


def _triage(db: Session, viewer: Viewer, case_id: uuid.UUID, d: FormData, now: datetime) -> Any:
    return investigation.do_triage_complaint(
        db,
        viewer,
        case_id,
        step_id=form_id(d),
        triage=_text(d, "triage"),
        reasons=_text(d, "reasons"),
        duplicate_of=_optional_uuid(_text(d, "duplicate_of"), "duplicate_of"),
        now=now,
    )


def _task(db: Session, viewer: Viewer, case_id: uuid.UUID, d: FormData, now: datetime) -> Any:
    return investigation.do_task_verifier(
        db,
        viewer,
        case_id,
        step_id=form_id(d),
        verifier=_optional_uuid(_text(d, "verifier"), "verifier"),
        now=now,
    )


def _visit(db: Session, viewer: Viewer, case_id: uuid.UUID, d: FormData, now: datetime) -> Any:
    when = _text(d, "visited_at")
    return investigation.do_record_site_visit(
        db,
        viewer,
        case_id,
        step_id=form_id(d),
        visited_at=moment(when, "visited_at") if when else now,
        note=_text(d, "note"),
        location=_place(d),
        now=now,
    )


def _access(db: Session, viewer: Viewer, case_id: uuid.UUID, d: FormData, now: datetime) -> Any:
    return investigation.do_request_access(
        db,
        viewer,
        case_id,
        step_id=form_id(d),
        party=_text(d, "party") or None,
        place=_text(d, "place"),
        now=now,
    )


def _decided(action: Callable[..., Any]) -> Callable[..., Any]:
    """A draft finding's form and a finding's: the same fields, each its own action."""

    def take(db: Session, viewer: Viewer, case_id: uuid.UUID, d: FormData, now: datetime) -> Any:
        return action(
            db,
            viewer,
            case_id,
            step_id=form_id(d),
            outcome=_text(d, "outcome"),
            party=_text(d, "party") or None,
            summary=_text(d, "summary"),
            now=now,
        )

    return take


_draft = _decided(findings.do_draft_finding)


def _comment(db: Session, viewer: Viewer, case_id: uuid.UUID, d: FormData, now: datetime) -> Any:
    return findings.do_comment_on_finding(
        db, viewer, case_id, comment_id=form_id(d), comment=_text(d, "comment"), now=now
    )


_finding = _decided(findings.do_issue_finding)


def _remedy(db: Session, viewer: Viewer, case_id: uuid.UUID, d: FormData, now: datetime) -> Any:
    return findings.do_request_remedy(
        db,
        viewer,
        case_id,
        step_id=form_id(d),
        remedy=_text(d, "remedy"),
        due_at=moment(_text(d, "due_at"), "due_at"),
        party=_text(d, "party") or None,
        now=now,
    )


def _verify(db: Session, viewer: Viewer, case_id: uuid.UUID, d: FormData, now: datetime) -> Any:
    return findings.do_verify_remedy(
        db, viewer, case_id, step_id=form_id(d), note=_text(d, "note"), now=now
    )


def _close(db: Session, viewer: Viewer, case_id: uuid.UUID, d: FormData, now: datetime) -> Any:
    return findings.do_close_case(
        db, viewer, case_id, step_id=form_id(d), note=_text(d, "note"), now=now
    )


# Each step: the action's policy (asked before the form is read, as the API's actions ask it
# before the body), what it calls, and the part of the page to return to.
STEPS: dict[str, tuple[Callable[[Viewer], bool], Step, str]] = {
    "triage": (may_triage, _triage, "timeline"),
    "tasking": (may_task, _task, "timeline"),
    "site-visits": (may_investigate, _visit, "timeline"),
    "access-requests": (may_investigate, _access, "access"),
    "draft-finding": (may_find, _draft, "finding"),
    "comments": (may_comment, _comment, "comments"),
    "finding": (may_find, _finding, "finding"),
    "remedy": (may_find, _remedy, "finding"),
    "remedy-verification": (may_find, _verify, "finding"),
    "close": (may_close, _close, "timeline"),
}


def _step_route(name: str) -> None:
    allowed, act, anchor = STEPS[name]

    async def post(
        request: Request, case_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
    ) -> Response:
        require(viewer, allowed(viewer), _NOT_YOURS)
        data = await request.form()
        now = clock.now()
        return await run_in_threadpool(
            _step,
            request,
            viewer,
            db,
            now,
            case_id,
            data,
            lambda: act(db, viewer, case_id, data, now),
            anchor,
        )

    post.__name__ = f"post_{name.replace('-', '_')}"
    router.add_api_route(f"/verification/cases/{{case_id}}/{name}", post, methods=["POST"])


for _name in STEPS:
    _step_route(_name)


@router.post("/verification/cases/{case_id}/access-requests/{request_id}/answer")
async def answer_access(
    request: Request,
    case_id: uuid.UUID,
    request_id: uuid.UUID,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
) -> Response:
    require(viewer, may_answer_access(viewer), _NOT_YOURS)
    data = await request.form()
    now = clock.now()
    return await run_in_threadpool(
        _step,
        request,
        viewer,
        db,
        now,
        case_id,
        data,
        lambda: investigation.do_answer_access(
            db,
            viewer,
            case_id,
            request_id,
            step_id=form_id(data),
            answer=_text(data, "answer"),
            note=_text(data, "note"),
            now=now,
        ),
        f"request-{request_id}",
    )


# -- the statistics ----------------------------------------------------------------------------


@router.get("/verification/stats")
def stats(request: Request, viewer: CurrentViewer, db: Db) -> Response:
    require(viewer, may_read(viewer), _READ)
    return _sectioned(
        request,
        viewer,
        STATS_SECTIONS,
        "verification/stats.html",
        "verification/stats_sections.html",
        **page_data.stats_context(db, viewer),
    )
