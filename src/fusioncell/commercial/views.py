"""Pages of the commercial track: the projects with the proposal form (``/projects``), a
project as a file with the forms its viewer may use now (``/projects/{id}``) and the
statistics on one scale for every party (``/projects/stats``).

Every read goes through the track's queries (``page_data``), every change is the action the
API calls; the forms work without script (a plain POST, then a redirect; a refusal of the
input is shown on the form, translated, with nothing written). The pages are live through
the page's one stream: ``commercial.js`` fetches the sections again on the track's frames.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException

from fusioncell.cell.policy import Viewer
from fusioncell.commercial import page_data
from fusioncell.commercial.actions import milestones as milestone_actions
from fusioncell.commercial.actions import projects as project_actions
from fusioncell.commercial.actions import shipments as shipment_actions
from fusioncell.commercial.actions.common import NOT_MANAGER
from fusioncell.commercial.actions.evidence import do_store_evidence
from fusioncell.commercial.policy import (
    may_decide,
    may_declare,
    may_inspect,
    may_manage,
    may_read,
    may_store_evidence,
    require,
)
from fusioncell.commercial.queries import projects as queries
from fusioncell.errors import FusioncellError, InvalidInput
from fusioncell.text import N_
from fusioncell.verification.views import form_id, moment
from fusioncell.web.deps import AppClock, CurrentViewer, Db
from fusioncell.web.pages import page

router = APIRouter(include_in_schema=False)
LIST_SECTIONS = "commercial-sections"
PROJECT_SECTIONS = "commercial-project-sections"
STATS_SECTIONS = "commercial-stats-sections"
_READ = N_("You do not read the cell's projects.")
_BAD_DATE = N_("Give a date (year, month, day).")
_BAD_PLACE = N_("Give the place as longitude and latitude in decimal degrees.")
_BAD_FORM = N_("The form could not be read; send it again.")
_NOT_YOURS = N_("Your role may not take this step.")
_NOT_DECIDER = N_("Only the supervisor or the verifier decides a milestone.")
_NOT_STORER = N_(
    "Evidence is put before a milestone by a party's liaison officer, the supervisor or the "
    "verifier."
)


def _text(data: FormData, name: str) -> str:
    value = data.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(_BAD_DATE, field=field) from None


def _locations(data: FormData) -> list[dict[str, Any]]:
    """The project's place: the GeoJSON given, else longitude and latitude; none if empty."""
    name = _text(data, "location_name")
    geojson = _text(data, "location")
    if geojson:
        try:
            geometry = json.loads(geojson)
        except ValueError:
            raise InvalidInput(_BAD_PLACE, field="location") from None
        if isinstance(geometry, dict) and geometry.get("type") == "Feature":
            geometry = geometry.get("geometry")
        return [{"name": name, "geometry": geometry}]
    lon, lat = _text(data, "lon"), _text(data, "lat")
    if not lon and not lat:
        return []
    try:
        point = {"type": "Point", "coordinates": [float(lon), float(lat)]}
    except ValueError:
        raise InvalidInput(_BAD_PLACE, field="location") from None
    return [{"name": name, "geometry": point}]


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


async def _form(request: Request) -> FormData:
    try:
        return await request.form()
    except (MultiPartException, ValueError, KeyError):
        raise InvalidInput(_BAD_FORM, field="file") from None


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
    db.rollback()  # a fresh read, past a refused action's transaction
    return _sectioned(
        request,
        viewer,
        LIST_SECTIONS,
        "commercial/list.html",
        "commercial/list_sections.html",
        error=error,
        status_code=status_code,
        **page_data.list_context(db, viewer, now=now, data=data),
    )


@router.get("/projects")
def projects(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    return list_page(request, viewer, db, clock.now())


@router.post("/projects")
async def propose(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    require(viewer, may_manage(viewer), NOT_MANAGER)
    data = await _form(request)
    now = clock.now()
    return await run_in_threadpool(_propose, request, viewer, db, now, data)


def _propose(
    request: Request, viewer: Viewer, db: Session, now: datetime, data: FormData
) -> Response:
    try:
        project = project_actions.do_propose_project(
            db,
            viewer,
            project_id=form_id(data),
            name=_text(data, "name"),
            description=_text(data, "description"),
            party=_text(data, "party") or None,
            sponsors=[s.strip() for s in _text(data, "sponsors").splitlines() if s.strip()],
            financing=[str(v) for v in data.getlist("financing") if isinstance(v, str)],
            locations=_locations(data),
            starts_on=_date(_text(data, "starts_on"), "starts_on"),
            ends_on=_date(_text(data, "ends_on"), "ends_on"),
            now=now,
        )
    except FusioncellError as problem:
        if _refused(problem):
            raise
        return list_page(
            request,
            viewer,
            db,
            now,
            data=data,
            error=problem.detail,
            status_code=problem.status,
        )
    return RedirectResponse(f"/projects/{project.id}", status_code=303)


# -- the statistics ----------------------------------------------------------------------------


@router.get("/projects/stats")
def stats(request: Request, viewer: CurrentViewer, db: Db) -> Response:
    require(viewer, may_read(viewer), _READ)
    return _sectioned(
        request,
        viewer,
        STATS_SECTIONS,
        "commercial/stats.html",
        "commercial/stats_sections.html",
        **page_data.stats_context(db, viewer),
    )


# -- a project ---------------------------------------------------------------------------------


def project_page(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    project_id: uuid.UUID,
    *,
    data: FormData | None = None,
    sent: str | None = None,
    attach: list[str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The project's page; after a refusal, ``sent`` names the form sent (its anchor), shown
    again with what was typed."""
    require(viewer, may_read(viewer), _READ)
    db.rollback()  # a fresh read, past a refused action's transaction
    project = queries.get_project(db, viewer, project_id)
    context = page_data.project_context(
        db, viewer, project, now=now, data=data, sent=sent, attach=attach
    )
    return _sectioned(
        request,
        viewer,
        PROJECT_SECTIONS,
        "commercial/project.html",
        "commercial/project_sections.html",
        error=error,
        status_code=status_code,
        **context,
    )


@router.get("/projects/{project_id}")
def project(
    request: Request, project_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    return project_page(request, viewer, db, clock.now(), project_id)


def _step(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    project_id: uuid.UUID,
    data: FormData,
    action: Callable[[], Any],
    anchor: str,
    attach: Callable[[], list[str]] | None = None,
) -> Response:
    try:
        action()
    except FusioncellError as problem:
        if _refused(problem):
            raise
        return project_page(
            request,
            viewer,
            db,
            now,
            project_id,
            data=data,
            sent=anchor,
            attach=attach() if attach is not None else None,
            error=problem.detail,
            status_code=problem.status,
        )
    return RedirectResponse(f"/projects/{project_id}#{anchor}", status_code=303)


# Each step's form: what it calls with the form's fields.
Act = Callable[[Session, Viewer, uuid.UUID, uuid.UUID | None, FormData, datetime], Any]


def _status(db: Session, v: Viewer, p: uuid.UUID, _: Any, d: FormData, now: datetime) -> Any:
    return project_actions.do_change_project_status(
        db, v, p, step_id=form_id(d), status=_text(d, "status"), reason=_text(d, "reason"), now=now
    )


def _milestone(db: Session, v: Viewer, p: uuid.UUID, _: Any, d: FormData, now: datetime) -> Any:
    return milestone_actions.do_add_milestone(
        db,
        v,
        p,
        milestone_id=form_id(d),
        title=_text(d, "title"),
        due_on=_date(_text(d, "due_on"), "due_on"),
        now=now,
    )


def _declare(db: Session, v: Viewer, p: uuid.UUID, _: Any, d: FormData, now: datetime) -> Any:
    return shipment_actions.do_declare_shipment(
        db,
        v,
        p,
        shipment_id=form_id(d),
        cargo=_text(d, "cargo"),
        crossing=_text(d, "crossing"),
        planned_at=moment(_text(d, "planned_at"), "planned_at"),
        now=now,
    )


def _inspect(db: Session, v: Viewer, p: uuid.UUID, s: Any, d: FormData, now: datetime) -> Any:
    return shipment_actions.do_inspect_shipment(
        db, v, p, s, step_id=form_id(d), note=_text(d, "note"), now=now
    )


def _pass(db: Session, v: Viewer, p: uuid.UUID, s: Any, d: FormData, now: datetime) -> Any:
    return shipment_actions.do_pass_shipment(
        db, v, p, s, step_id=form_id(d), note=_text(d, "note"), now=now
    )


def _refuse(db: Session, v: Viewer, p: uuid.UUID, s: Any, d: FormData, now: datetime) -> Any:
    return shipment_actions.do_refuse_shipment(
        db, v, p, s, step_id=form_id(d), reason=_text(d, "reason"), now=now
    )


def _add_route(path: str, allowed: Callable[[Viewer], bool], act: Act, anchor: str) -> None:
    """A step's form route: the action's policy asked before the form is read (as the API's
    actions ask it before the body), then the action."""
    with_subject = "{shipment_id}" in path

    async def post(
        request: Request, project_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
    ) -> Response:
        require(viewer, allowed(viewer), _NOT_YOURS)
        subject = request.path_params.get("shipment_id") if with_subject else None
        try:
            subject_id = uuid.UUID(subject) if subject is not None else None
        except ValueError:
            raise InvalidInput(_BAD_FORM, field="subject") from None
        data = await _form(request)
        now = clock.now()
        return await run_in_threadpool(
            _step,
            request,
            viewer,
            db,
            now,
            project_id,
            data,
            lambda: act(db, viewer, project_id, subject_id, data, now),
            anchor if subject_id is None else f"{anchor}-{subject_id}",
        )

    post.__name__ = "post_" + path.strip("/").replace("/", "_").replace("{", "").replace("}", "")
    router.add_api_route(f"/projects/{{project_id}}/{path}", post, methods=["POST"])


_add_route("status", may_manage, _status, "status")
_add_route("milestones", may_manage, _milestone, "milestones")
_add_route("shipments", may_declare, _declare, "shipments")
_add_route("shipments/{shipment_id}/inspection", may_inspect, _inspect, "shipment")
_add_route("shipments/{shipment_id}/passage", may_inspect, _pass, "shipment")
_add_route("shipments/{shipment_id}/refusal", may_inspect, _refuse, "shipment")


async def _uploads(data: FormData) -> list[tuple[bytes, str]]:
    try:
        return [
            (await value.read(), value.content_type or "")
            for value in data.getlist("file")
            if isinstance(value, UploadFile) and value.filename
        ]
    finally:
        await data.close()


# A milestone's step that carries files: the files stored, every file cited, the form.
WithFiles = Callable[[Session, Viewer, uuid.UUID, uuid.UUID, list[str], FormData, datetime], Any]


def _with_files(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    ids: tuple[uuid.UUID, uuid.UUID],
    data: FormData,
    uploads: list[tuple[bytes, str]],
    act: WithFiles,
) -> Response:
    """The files chosen are stored first (each its own signed entry, so a step refused
    afterwards leaves them offered on the form, ticked), then the step cites them with the
    stored files ticked."""
    project_id, milestone_id = ids
    attach = [str(v) for v in data.getlist("attach") if isinstance(v, str)]
    stored: list[str] = []

    def step() -> None:
        for content, media_type in uploads:
            stored.append(
                do_store_evidence(db, viewer, content, media_type=media_type, now=now).sha256
            )
        act(db, viewer, project_id, milestone_id, list(dict.fromkeys(attach + stored)), data, now)

    return _step(
        request,
        viewer,
        db,
        now,
        project_id,
        data,
        step,
        f"milestone-{milestone_id}",
        attach=lambda: attach + stored,
    )


def _decision(
    db: Session,
    v: Viewer,
    p: uuid.UUID,
    m: uuid.UUID,
    files: list[str],
    d: FormData,
    now: datetime,
) -> Any:
    achieved = _text(d, "achieved_on")
    return milestone_actions.do_decide_milestone(
        db,
        v,
        p,
        m,
        step_id=form_id(d),
        decision=_text(d, "decision"),
        reason=_text(d, "reason"),
        evidence=files,
        achieved_on=_date(achieved, "achieved_on") if achieved else None,
        now=now,
    )


def _attachment(
    db: Session,
    v: Viewer,
    p: uuid.UUID,
    m: uuid.UUID,
    files: list[str],
    d: FormData,
    now: datetime,
) -> Any:
    return milestone_actions.do_attach_milestone_evidence(
        db, v, p, m, step_id=form_id(d), evidence=files, note=_text(d, "note"), now=now
    )


@router.post("/projects/{project_id}/milestones/{milestone_id}/decision")
async def decide(
    request: Request,
    project_id: uuid.UUID,
    milestone_id: uuid.UUID,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
) -> Response:
    """The supervisor's or the verifier's decision, with files uploaded or stored before."""
    require(viewer, may_decide(viewer), _NOT_DECIDER)
    data = await _form(request)
    uploads = await _uploads(data)
    ids = (project_id, milestone_id)
    return await run_in_threadpool(
        _with_files, request, viewer, db, clock.now(), ids, data, uploads, _decision
    )


@router.post("/projects/{project_id}/milestones/{milestone_id}/evidence")
async def attach(
    request: Request,
    project_id: uuid.UUID,
    milestone_id: uuid.UUID,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
) -> Response:
    """Files put before an open milestone (a contract, a certificate, metered output)."""
    require(viewer, may_store_evidence(viewer), _NOT_STORER)
    data = await _form(request)
    uploads = await _uploads(data)
    ids = (project_id, milestone_id)
    return await run_in_threadpool(
        _with_files, request, viewer, db, clock.now(), ids, data, uploads, _attachment
    )
