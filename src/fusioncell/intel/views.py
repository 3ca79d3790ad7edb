"""Pages of the intelligence track: the list with its filters, a report rendered for people
(with its place on a small map, its grade, TLP, releasability and the responses to it), the
common case's submit form (an observation at a place and time, picked on a map), a bundle
upload, and the supervisor's sanitise-and-release page with the original and what will leave
side by side. Every read goes through ``intel.queries``; every change is an action."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from fusioncell.cell.policy import Viewer
from fusioncell.errors import FusioncellError, InvalidInput
from fusioncell.geo.queries import map_layers
from fusioncell.geo.views import MAP_LABELS
from fusioncell.hotline.views.form import PICKER_LABELS
from fusioncell.i18n import translate
from fusioncell.intel import policy, queries, stix
from fusioncell.intel.actions.reports import (
    Observation,
    do_release_report,
    do_respond_to_report,
    do_submit_observation,
    do_submit_report,
)
from fusioncell.intel.models import Report
from fusioncell.text import N_
from fusioncell.web.deps import AppClock, CurrentViewer, Db
from fusioncell.web.pages import page

router = APIRouter(include_in_schema=False)

OPINION_LABELS = {
    "strongly-disagree": N_("Strongly disagree"),
    "disagree": N_("Disagree"),
    "neutral": N_("Neutral"),
    "agree": N_("Agree"),
    "strongly-agree": N_("Strongly agree"),
}
TLP_LABELS = {level: f"TLP:{level.upper()}" for level in stix.TLP_LEVELS}
KIND_LABELS = {
    "report": N_("Report"),
    "derived": N_("Release by the supervisor"),
    "response": N_("Response"),
}
# The properties shown for people, in this order, with their labels.
PROPERTY_LABELS = {
    "name": N_("Name"),
    "abstract": N_("Summary"),
    "description": N_("Description"),
    "content": N_("Content"),
    "first_observed": N_("First observed"),
    "last_observed": N_("Last observed"),
    "number_observed": N_("Times observed"),
    "published": N_("Published"),
    "valid_from": N_("Valid from"),
    "pattern": N_("Pattern"),
    "latitude": N_("Latitude"),
    "longitude": N_("Longitude"),
    "opinion": N_("Opinion"),
    "explanation": N_("Explanation"),
    "confidence": N_("Confidence"),
}
SCRIPT_LABELS = (N_("New intelligence has arrived."), N_("Show"))


def _labels(viewer: Viewer) -> str:
    return json.dumps(
        {label: translate(viewer.language, label) for label in SCRIPT_LABELS}, ensure_ascii=False
    )


def _slugs(db: Session, viewer: Viewer) -> dict[uuid.UUID, str]:
    return {o.id: o.slug for o in queries.organisations(db, viewer)}


@dataclass
class Row:
    report: Report
    author: str
    released_to: list[str]
    grade: str
    responses: int = 0


def _rows(db: Session, viewer: Viewer, reports: list[Report]) -> list[Row]:
    slugs = _slugs(db, viewer)
    released = queries.releases_of(db, viewer, [r.id for r in reports])
    responses = queries.responses_to(db, viewer, [r.id for r in reports])
    answered: dict[uuid.UUID | None, int] = {}
    for response in responses:
        answered[response.responds_to] = answered.get(response.responds_to, 0) + 1
    return [
        Row(
            report=r,
            author=slugs[r.author_organisation_id],
            released_to=sorted(slugs[o] for o in released.get(r.id, [])),
            grade=queries.grade_of(r),
            responses=answered.get(r.id, 0),
        )
        for r in reports
    ]


def _parse_time(value: str, name: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            "give a date, or a date and a time",
            errors=[{"field": name, "message": "not a date"}],
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/intel")
def list_page(request: Request, viewer: CurrentViewer, db: Db) -> Response:
    policy.require(viewer, policy.may_read(viewer), "you do not read intelligence")
    args = request.query_params
    form = {
        name: args.get(name, "")
        for name in ("q", "type", "since", "until", "author", "grade", "tlp", "bbox")
    }
    error = None
    rows: list[Row] = []
    count = 0
    try:
        filters = queries.Filters(
            text=form["q"],
            types=[form["type"]] if form["type"] else [],
            since=_parse_time(form["since"], "since"),
            until=_parse_time(form["until"], "until"),
            author=_slugs_to_id(db, viewer, form["author"]),
            grade=form["grade"],
            tlp=form["tlp"],
            bbox=queries.parse_bbox(form["bbox"]),
        )
        rows = _rows(db, viewer, list(queries.list_reports(db, viewer, filters, limit=100)))
        count = queries.count_reports(db, viewer, filters)
    except InvalidInput as problem:
        error = problem.detail
    return page(
        request,
        viewer,
        "intel/list.html",
        status_code=422 if error else 200,
        rows=rows,
        count=count,
        form=form,
        error=error,
        organisations=[o.slug for o in queries.organisations(db, viewer)],
        tlp_labels=TLP_LABELS,
        kind_labels=KIND_LABELS,
        types=sorted(TYPE_CHOICES),
        may_submit=policy.may_submit(viewer),
        intel_labels=_labels(viewer),
    )


TYPE_CHOICES = frozenset(
    {"indicator", "observed-data", "sighting", "location", "identity", "report", "note",
     "opinion", "threat-actor", "campaign", "malware", "tool", "relationship"}
)  # fmt: skip


def _slugs_to_id(db: Session, viewer: Viewer, slug: str) -> uuid.UUID | None:
    if not slug:
        return None
    found = {o.slug: o.id for o in queries.organisations(db, viewer)}.get(slug)
    return found or uuid.UUID(int=0)


@dataclass
class ObjectView:
    id: str
    type: str
    properties: list[tuple[str, str, bool]]  # label, value, changed by sanitisation
    changed: bool = False


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def object_views(viewer: Viewer, objects: list[dict[str, Any]]) -> list[ObjectView]:
    views = []
    for item in objects:
        if item.get("type") == "marking-definition":
            continue
        changed: set[str] = set()
        for marking in item.get("granular_markings", []):
            if marking.get("marking_ref") == stix.SANITISED_MARKING["id"]:
                changed |= set(marking.get("selectors", []))
        properties = [
            (translate(viewer.language, label), _value(item[name]), name in changed)
            for name, label in PROPERTY_LABELS.items()
            if name in item
        ]
        views.append(
            ObjectView(
                id=str(item.get("id")),
                type=str(item.get("type")),
                properties=properties,
                changed=bool(changed),
            )
        )
    return views


def _places(report: Report) -> str:
    shapes = {
        str(item["id"]): {
            "type": "Point",
            "coordinates": [item["longitude"], item["latitude"]],
        }
        for item in report.bundle["objects"]
        if item.get("type") == "location"
        and isinstance(item.get("latitude"), int | float)
        and isinstance(item.get("longitude"), int | float)
    }
    return json.dumps(shapes) if shapes else ""


@router.get("/intel/reports/{report_id}")
def report_page(request: Request, report_id: uuid.UUID, viewer: CurrentViewer, db: Db) -> Response:
    report = queries.get_report(db, viewer, report_id)
    if report.responds_to is not None:
        return RedirectResponse(f"/intel/reports/{report.responds_to}#response-{report.id}", 303)
    return _report_page(request, viewer, db, report)


def _report_page(
    request: Request,
    viewer: Viewer,
    db: Session,
    report: Report,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    row = _rows(db, viewer, [report])[0]
    responses = _rows(db, viewer, queries.responses_to(db, viewer, [report.id]))
    original = queries.original_of(db, viewer, report)
    return page(
        request,
        viewer,
        "intel/report.html",
        status_code=status_code,
        row=row,
        objects=object_views(viewer, report.bundle["objects"]),
        responses=[
            (
                r,
                object_views(
                    viewer,
                    [
                        o
                        for o in r.report.bundle["objects"]
                        if o.get("type") in ("opinion", "sighting")
                    ],
                ),
            )
            for r in responses
        ],
        original=original,
        derived=queries.derived_reports(db, viewer, report.id),
        places=_places(report),
        tlp_labels=TLP_LABELS,
        kind_labels=KIND_LABELS,
        opinion_labels=OPINION_LABELS,
        may_respond=policy.may_respond(viewer) and report.kind != "response",
        may_release=policy.may_release(viewer, report.author_organisation_id),
        error=error,
        intel_labels=_labels(viewer),
    )


@router.post("/intel/reports/{report_id}/responses")
async def respond(
    request: Request, report_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    data = await request.form()
    return await run_in_threadpool(_respond, request, viewer, db, clock.now(), report_id, data)


def _respond(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    report_id: uuid.UUID,
    data: FormData,
) -> Response:
    try:
        response = do_respond_to_report(
            db,
            viewer,
            response_id=_form_id(data),
            report_id=report_id,
            opinion=str(data.get("opinion", "")) or None,
            explanation=str(data.get("explanation", "")),
            now=now,
        )
    except InvalidInput as problem:
        report = queries.get_report(db, viewer, report_id)
        return _report_page(request, viewer, db, report, error=problem.detail, status_code=422)
    return RedirectResponse(f"/intel/reports/{report_id}#response-{response.id}", 303)


def _form_id(data: FormData) -> uuid.UUID:
    try:
        return uuid.UUID(str(data.get("id", "")))
    except ValueError:
        return uuid.uuid4()


@dataclass
class SubmitForm:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    title: str = ""
    description: str = ""
    place: str = ""
    location: str = ""
    observed_at: str = ""
    release_to: list[str] = field(default_factory=list)
    tlp: str = "amber"
    grade: str = "B2"
    bundle: str = ""
    error: str | None = None


def _picker(viewer: Viewer) -> dict[str, str]:
    layers = map_layers(viewer)
    labels = {label: translate(viewer.language, label) for label in (*MAP_LABELS, *PICKER_LABELS)}
    return {
        "zones": layers.get("zones", ""),
        "sites": layers.get("sites", ""),
        "labels": json.dumps(labels, ensure_ascii=False),
    }


def _submit_page(
    request: Request, viewer: Viewer, db: Session, form: SubmitForm, status_code: int = 200
) -> Response:
    policy.require(viewer, policy.may_submit(viewer), "only a party's analyst or liaison submits")
    own = {viewer.organisation_id}
    choices = [
        o.slug
        for o in queries.organisations(db, viewer)
        if o.id not in own and o.kind != "supervisor"
    ]
    return page(
        request,
        viewer,
        "intel/submit.html",
        status_code=status_code,
        form=form,
        choices=choices,
        tlp_labels=TLP_LABELS,
        picker=_picker(viewer),
    )


@router.get("/intel/new")
def submit_page(request: Request, viewer: CurrentViewer, db: Db) -> Response:
    return _submit_page(request, viewer, db, SubmitForm())


def _point(text: str) -> tuple[float, float]:
    try:
        geometry = json.loads(text)
        longitude, latitude = geometry["coordinates"][:2]
        if geometry.get("type") != "Point":
            raise ValueError
        return float(latitude), float(longitude)
    except (ValueError, KeyError, TypeError, IndexError):
        raise InvalidInput(
            "pick the place on the map, or type its latitude and longitude",
            errors=[{"field": "location", "message": "a point"}],
        ) from None


def _form_of(data: FormData) -> SubmitForm:
    return SubmitForm(
        id=_form_id(data),
        title=str(data.get("title", "")),
        description=str(data.get("description", "")),
        place=str(data.get("place", "")),
        location=str(data.get("location", "")),
        observed_at=str(data.get("observed_at", "")),
        release_to=[str(v) for v in data.getlist("release_to")],
        tlp=str(data.get("tlp", "amber")),
        grade=str(data.get("grade", "")),
        bundle=str(data.get("bundle", "")),
    )


@router.post("/intel/observations")
async def submit_observation(
    request: Request, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    data = await request.form()
    return await run_in_threadpool(_submit_observation, request, viewer, db, clock.now(), data)


def _submit_observation(
    request: Request, viewer: Viewer, db: Session, now: datetime, data: FormData
) -> Response:
    form = _form_of(data)
    try:
        latitude, longitude = _point(form.location)
        observed_at = _parse_time(form.observed_at, "observed_at") or now
        report = do_submit_observation(
            db,
            viewer,
            report_id=form.id,
            observation=Observation(
                title=form.title,
                description=form.description,
                latitude=latitude,
                longitude=longitude,
                observed_at=observed_at,
                place=form.place,
            ),
            release_to=form.release_to,
            tlp=form.tlp,
            grade=form.grade,
            now=now,
        )
    except FusioncellError as problem:
        if problem.status >= 500 or problem.status == 403:
            raise
        form.error = problem.detail
        return _submit_page(request, viewer, db, form, status_code=problem.status)
    return RedirectResponse(f"/intel/reports/{report.id}", 303)


@router.post("/intel/bundles")
async def upload_bundle(
    request: Request, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    data = await request.form()
    text = str(data.get("bundle", ""))
    upload = data.get("file")
    if upload is not None and not isinstance(upload, str):
        content = await upload.read()
        if content:
            text = content.decode("utf-8", errors="replace")
    return await run_in_threadpool(_upload, request, viewer, db, clock.now(), data, text)


def _upload(
    request: Request, viewer: Viewer, db: Session, now: datetime, data: FormData, text: str
) -> Response:
    form = _form_of(data)
    form.bundle = text if len(text) < 200_000 else ""
    try:
        try:
            parsed = json.loads(text)
        except ValueError:
            raise InvalidInput("the bundle is not JSON") from None
        report = do_submit_report(
            db,
            viewer,
            report_id=form.id,
            bundle=parsed,
            release_to=form.release_to,
            tlp=form.tlp,
            grade=form.grade or None,
            now=now,
        )
    except FusioncellError as problem:
        if problem.status >= 500 or problem.status == 403:
            raise
        form.error = problem.detail
        return _submit_page(request, viewer, db, form, status_code=problem.status)
    return RedirectResponse(f"/intel/reports/{report.id}", 303)


def _sanitisation(args: Any) -> stix.Sanitisation:
    grid = str(args.get("grid_km", "")).strip()
    try:
        grid_km = float(grid) if grid else None
    except ValueError:
        raise InvalidInput(
            "the grid is a number of km", errors=[{"field": "grid_km", "message": "a number"}]
        ) from None
    return stix.Sanitisation(
        redact=frozenset(p.strip() for p in str(args.get("redact", "")).split(",") if p.strip()),
        grid_km=grid_km,
        anonymise_source=bool(args.get("anonymise_source")),
        drop=frozenset(str(v) for v in args.getlist("drop")),
    )


@router.get("/intel/reports/{report_id}/release")
def release_page(
    request: Request, report_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    return _release_page(request, viewer, db, clock.now(), report_id, request.query_params)


def _release_page(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    report_id: uuid.UUID,
    args: Any,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    report = queries.get_report(db, viewer, report_id)
    try:
        sanitisation = _sanitisation(args)
    except InvalidInput as problem:
        error, sanitisation = problem.detail, stix.Sanitisation()
        status_code = 422
    original, sanitised = queries.preview_release(db, viewer, report.id, sanitisation, now=now)
    choices = [o.slug for o in queries.organisations(db, viewer) if o.kind != "supervisor"]
    return page(
        request,
        viewer,
        "intel/release.html",
        status_code=status_code,
        row=_rows(db, viewer, [report])[0],
        original=object_views(viewer, original),
        sanitised=object_views(viewer, sanitised.objects),
        dropped=sanitised.dropped,
        choices=choices,
        chosen=[str(v) for v in args.getlist("release_to")],
        args={
            "redact": str(args.get("redact", "")),
            "grid_km": str(args.get("grid_km", "")),
            "anonymise_source": bool(args.get("anonymise_source")),
            "drop": set(sanitisation.drop),
        },
        all_objects=[
            (o["id"], o["type"]) for o in original if o.get("type") != "marking-definition"
        ],
        release_id=uuid.uuid4(),
        error=error,
        tlp_labels=TLP_LABELS,
    )


@router.post("/intel/reports/{report_id}/releases")
async def release(
    request: Request, report_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    data = await request.form()
    return await run_in_threadpool(_release, request, viewer, db, clock.now(), report_id, data)


def _release(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    report_id: uuid.UUID,
    data: FormData,
) -> Response:
    try:
        derived = do_release_report(
            db,
            viewer,
            release_id=_form_id(data),
            report_id=report_id,
            release_to=[str(v) for v in data.getlist("release_to")],
            sanitisation=_sanitisation(data),
            now=now,
        )
    except InvalidInput as problem:
        return _release_page(
            request, viewer, db, now, report_id, data, error=problem.detail, status_code=422
        )
    return RedirectResponse(f"/intel/reports/{derived.id}", 303)
