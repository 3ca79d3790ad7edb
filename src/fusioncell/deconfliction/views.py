"""Pages of the deconfliction track: notifications (a timeline, a map with each buffer, the
conflicts highlighted and each convoy's route, per-recipient acknowledgements with their
countdowns, and the compose form with the lead-time verdict shown before sending), the
registry of protected places with the no-strike lists, and the incidents with the alerts.

Every read goes through the track's queries, every change is an action; the pages are live
through the page's one stream (``deconfliction.js`` fetches the sections again on the
track's frames). An acknowledgement is receipt, never approval: every page says so.
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
from starlette.datastructures import FormData

from fusioncell.cell.policy import Viewer
from fusioncell.deconfliction import lead_time, view_rows
from fusioncell.deconfliction.actions.early_warning import (
    acknowledge_alert_and_its_hotline_message,
    carry_alerts,
)
from fusioncell.deconfliction.actions.follow_up import (
    do_note_conflicts,
    do_withdraw_notification,
)
from fusioncell.deconfliction.actions.incidents import do_report_incident
from fusioncell.deconfliction.actions.notifications import (
    do_amend_notification,
    do_submit_notification,
)
from fusioncell.deconfliction.actions.registry import (
    do_acknowledge_no_strike_list,
    do_propose_place,
    do_send_no_strike_lists,
    do_sign_place,
)
from fusioncell.deconfliction.conflicts import Frame, near_line
from fusioncell.deconfliction.fields import CATEGORIES, check_kind
from fusioncell.deconfliction.page_data import (
    incidents_context,
    registry_context,
)
from fusioncell.deconfliction.policy import kinds_sendable, may_read
from fusioncell.deconfliction.protection import require
from fusioncell.deconfliction.queries import notifications as notification_queries
from fusioncell.errors import FusioncellError, InvalidInput
from fusioncell.geo.queries import map_layers
from fusioncell.geo.views import MAP_LABELS
from fusioncell.hotline.views.form import PICKER_LABELS
from fusioncell.i18n import translate
from fusioncell.text import N_
from fusioncell.web.deps import AppClock, CurrentViewer, Db
from fusioncell.web.pages import page

router = APIRouter(include_in_schema=False)
SECTIONS_ID = "deconfliction-sections"
_READ = N_("You do not read the cell's traffic.")
_BAD_TIME = N_("Give a date and a time (UTC).")
_BAD_GEOMETRY = N_("Draw the place on the map, or give it as GeoJSON.")
_BAD_NUMBER = N_("Give a whole number.")


# -- form fields -----------------------------------------------------------------------------


def _text(data: FormData, name: str) -> str:
    return str(data.get(name, "")).strip()


def moment(value: str, field: str) -> datetime:
    """A form's time: a datetime-local value is UTC; an RFC 3339 time keeps its offset."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(_BAD_TIME, field=field) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def geometry_of(value: str, field: str = "geometry") -> Any:
    try:
        parsed = json.loads(value)
    except ValueError:
        raise InvalidInput(_BAD_GEOMETRY, field=field) from None
    if isinstance(parsed, dict) and parsed.get("type") == "Feature":
        parsed = parsed.get("geometry")
    if not isinstance(parsed, dict):
        raise InvalidInput(_BAD_GEOMETRY, field=field)
    return parsed


def whole(value: str, field: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(_BAD_NUMBER, field=field) from None


def form_id(data: FormData) -> uuid.UUID:
    try:
        return uuid.UUID(str(data.get("id", "")))
    except ValueError:
        return uuid.uuid4()


def picker(viewer: Viewer) -> dict[str, str]:
    layers = map_layers(viewer)
    labels = {label: translate(viewer.language, label) for label in (*MAP_LABELS, *PICKER_LABELS)}
    return {
        "zones": layers.get("zones", ""),
        "sites": layers.get("sites", ""),
        "labels": json.dumps(labels, ensure_ascii=False),
    }


def _refused(problem: FusioncellError) -> bool:
    """Refusals and faults go to the error page; bad input is shown on the form."""
    return problem.status >= 500 or problem.status in (401, 403, 404)


def _run(
    request: Request,
    action: Callable[[], Any],
    redirect: str,
    again: Callable[[str, int], Response],
) -> Response:
    try:
        action()
    except FusioncellError as problem:
        if _refused(problem):
            raise
        return again(problem.detail, problem.status)
    return RedirectResponse(redirect, status_code=303)


# -- notifications --------------------------------------------------------------------------


def compose_state(data: FormData | None, sendable: list[str]) -> dict[str, str]:
    names = (
        "kind", "category", "geometry", "buffer_m", "starts_at", "ends_at", "description",
        "vehicles", "markings", "contact", "cargo", "justification",
    )  # fmt: skip
    state = {name: _text(data, name) if data is not None else "" for name in names}
    state["id"] = str(form_id(data)) if data is not None else str(uuid.uuid4())
    state["flash"] = "on" if data is not None and data.get("flash") else ""
    if not state["kind"] and sendable:
        state["kind"] = sendable[0]
    return state


def _details(kind: str, state: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in ("vehicles", "markings", "contact", "cargo"):
        value = state.get(name, "")
        if not value:
            continue
        if kind in ("activity", "site") and name != "contact":
            continue
        if kind == "emergency" and name == "cargo":
            continue
        found[name] = whole(value, f"details.{name}") if name == "vehicles" else value
    return found


def verdict(db: Session, viewer: Viewer, state: dict[str, str], now: datetime) -> dict[str, Any]:
    """R8's verdict on what the form holds, before anything is sent: what lead the rules ask,
    what the form gives, and whether it is on time. Empty while the form says too little."""
    try:
        kind = check_kind(state.get("kind"))
        starts_at = moment(state["starts_at"], "starts_at")
        geometry = geometry_of(state["geometry"]) if state.get("geometry") else None
    except (InvalidInput, KeyError):
        return {}
    rules = notification_queries.rules_in_force(db)
    separation = notification_queries.separation_for_engine(db)
    try:
        near = geometry is not None and near_line(geometry, separation, rules)
    except (ValueError, TypeError, AttributeError, KeyError):
        near = False
    flash = kind == "emergency" and bool(state.get("flash"))
    judged = lead_time.judge(
        kind=kind, flash=flash, near_line=near, starts_at=starts_at, notified_at=now, rules=rules
    )
    given = (starts_at - now).total_seconds() / 3600
    return {
        "lead_time": judged.lead_time,
        "label": translate(
            viewer.language, view_rows.LEAD_LABELS.get(judged.lead_time, judged.lead_time)
        ),
        "required_hours": round(judged.required.total_seconds() / 3600, 1),
        "given_hours": round(given, 1),
        "near_line": near,
        "flash": flash,
    }


def _sendable(viewer: Viewer) -> list[str]:
    """The kinds the viewer's organisation sends, in the order the page lists kinds."""
    return sorted(kinds_sendable(viewer), key=list(view_rows.KIND_LABELS).index)


def _notifications_context(
    db: Session, viewer: Viewer, now: datetime, state: dict[str, str]
) -> dict[str, Any]:
    rows, timeline = view_rows.notification_rows(db, viewer, now=now)
    frame = Frame.of(notification_queries.rules_in_force(db))
    sendable = _sendable(viewer)
    language = viewer.language
    return {
        "sections_id": SECTIONS_ID,
        "rows": rows,
        "timeline": timeline,
        "map_data": view_rows.script_json(view_rows.map_features(db, viewer, rows, frame=frame)),
        "detail_labels": {k: translate(language, v) for k, v in view_rows.DETAIL_LABELS.items()},
        "new_id": uuid.uuid4,
        "layers": map_layers(viewer),
        "map_labels": json.dumps(
            {label: translate(language, label) for label in MAP_LABELS}, ensure_ascii=False
        ),
        "sendable": [(k, translate(language, view_rows.KIND_LABELS[k])) for k in sendable],
        "categories": {
            k: [
                (c, translate(language, view_rows.CATEGORY_LABELS.get(c, c))) for c in CATEGORIES[k]
            ]
            for k in sendable
        },
        "compose": state,
        "verdict": verdict(db, viewer, state, now),
        "picker": picker(viewer),
        "script_labels": view_rows.labels_json(language, *view_rows.SCRIPT_LABELS),
        "now": now,
    }


def notifications_page(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    *,
    state: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    require(viewer, may_read(viewer), _READ)
    context = _notifications_context(
        db, viewer, now, state or compose_state(None, _sendable(viewer))
    )
    headers = {"Vary": "HX-Target"}
    if request.headers.get("hx-target") == SECTIONS_ID and error is None:
        return page(
            request, viewer, "deconfliction/notification_sections.html", headers=headers, **context
        )
    return page(
        request,
        viewer,
        "deconfliction/notifications.html",
        status_code=status_code,
        headers=headers,
        error=error,
        **context,
    )


@router.get("/deconfliction")
def notifications(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    return notifications_page(request, viewer, db, clock.now())


@router.get("/deconfliction/preview")
def preview(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    """The compose form's lead-time verdict for what it holds (asked as the member types)."""
    require(viewer, may_read(viewer), _READ)
    state = {name: str(value) for name, value in request.query_params.items()}
    return page(
        request,
        viewer,
        "deconfliction/verdict.html",
        verdict=verdict(db, viewer, state, clock.now()),
    )


@router.post("/deconfliction/notifications")
async def submit(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    data = await request.form()
    return await run_in_threadpool(_submit, request, viewer, db, clock.now(), data)


def _submit(
    request: Request, viewer: Viewer, db: Session, now: datetime, data: FormData
) -> Response:
    state = compose_state(data, _sendable(viewer))
    created: list[uuid.UUID] = []

    def act() -> None:
        kind = check_kind(state["kind"])
        flash = kind == "emergency" and bool(state["flash"])
        created.append(
            do_submit_notification(
                db,
                viewer,
                notification_id=uuid.UUID(state["id"]),
                kind=kind,
                geometry=geometry_of(state["geometry"]),
                starts_at=moment(state["starts_at"], "starts_at"),
                ends_at=moment(state["ends_at"], "ends_at"),
                description=state["description"],
                buffer_m=whole(state["buffer_m"], "buffer_m"),
                category=state["category"] or None,
                flash=flash,
                details=_details(kind, state),
                justification=state["justification"] or None if flash else None,
                now=now,
            ).id
        )

    try:
        act()
    except FusioncellError as problem:
        if _refused(problem):
            raise
        return notifications_page(
            request, viewer, db, now, state=state, error=problem.detail, status_code=problem.status
        )
    return RedirectResponse(f"/deconfliction#notification-{created[0]}", status_code=303)


@router.post("/deconfliction/notifications/{notification_id}/amend")
async def amend(
    request: Request, notification_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    data = await request.form()
    now = clock.now()

    def act() -> None:
        current = notification_queries.get_notification(db, viewer, notification_id)
        details = dict(current.details) if current is not None else {}
        do_amend_notification(
            db,
            viewer,
            notification_id,
            geometry=geometry_of(_text(data, "geometry")),
            starts_at=moment(_text(data, "starts_at"), "starts_at"),
            ends_at=moment(_text(data, "ends_at"), "ends_at"),
            description=_text(data, "description"),
            buffer_m=whole(_text(data, "buffer_m"), "buffer_m"),
            category=current.category if current is not None else None,
            participants=list(current.participants) if current is not None else None,
            details=details,
            reason=_text(data, "reason") or None,
            version=whole(_text(data, "version"), "version"),
            now=now,
        )

    return await run_in_threadpool(
        _run,
        request,
        act,
        f"/deconfliction#notification-{notification_id}",
        lambda error, status: notifications_page(
            request, viewer, db, now, error=error, status_code=status
        ),
    )


@router.post("/deconfliction/notifications/{notification_id}/withdraw")
async def withdraw(
    request: Request, notification_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    data = await request.form()
    now = clock.now()
    return await run_in_threadpool(
        _run,
        request,
        lambda: do_withdraw_notification(
            db, viewer, notification_id, reason=_text(data, "reason") or None, now=now
        ),
        f"/deconfliction#notification-{notification_id}",
        lambda error, status: notifications_page(
            request, viewer, db, now, error=error, status_code=status
        ),
    )


@router.post("/deconfliction/notifications/{notification_id}/note")
async def note(
    request: Request, notification_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    data = await request.form()
    now = clock.now()
    return await run_in_threadpool(
        _run,
        request,
        lambda: do_note_conflicts(db, viewer, notification_id, note=_text(data, "note"), now=now),
        f"/deconfliction#notification-{notification_id}",
        lambda error, status: notifications_page(
            request, viewer, db, now, error=error, status_code=status
        ),
    )


# -- the registry and the no-strike lists -----------------------------------------------------

REGISTRY_SECTIONS = "deconfliction-registry-sections"


def registry_page(
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
    context = registry_context(db, viewer, now=now, data=data)
    context.update(
        sections_id=REGISTRY_SECTIONS,
        picker=picker(viewer),
        script_labels=view_rows.labels_json(viewer.language, *view_rows.SCRIPT_LABELS),
    )
    headers = {"Vary": "HX-Target"}
    if request.headers.get("hx-target") == REGISTRY_SECTIONS and error is None:
        return page(
            request, viewer, "deconfliction/registry_sections.html", headers=headers, **context
        )
    return page(
        request,
        viewer,
        "deconfliction/registry.html",
        status_code=status_code,
        headers=headers,
        error=error,
        **context,
    )


@router.get("/deconfliction/registry")
def registry(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    return registry_page(request, viewer, db, clock.now())


@router.post("/deconfliction/registry/places")
async def propose(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    data = await request.form()
    now = clock.now()

    def act() -> None:
        kind = _text(data, "kind")
        do_propose_place(
            db,
            viewer,
            place_id=form_id(data),
            kind=kind,
            name=_text(data, "name"),
            geometry=geometry_of(_text(data, "geometry")),
            population=_text(data, "population") or None,
            buffer_m=whole(_text(data, "buffer_m"), "buffer_m"),
            note=_text(data, "note"),
            now=now,
        )

    return await run_in_threadpool(
        _run,
        request,
        act,
        "/deconfliction/registry#places",
        lambda error, status: registry_page(
            request, viewer, db, now, data=data, error=error, status_code=status
        ),
    )


@router.post("/deconfliction/registry/places/{place_id}/sign")
async def sign(
    request: Request, place_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    now = clock.now()
    return await run_in_threadpool(
        _run,
        request,
        lambda: do_sign_place(db, viewer, place_id=place_id, now=now),
        f"/deconfliction/registry#place-{place_id}",
        lambda error, status: registry_page(
            request, viewer, db, now, error=error, status_code=status
        ),
    )


@router.post("/deconfliction/registry/lists")
async def send_lists(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    data = await request.form()
    now = clock.now()
    return await run_in_threadpool(
        _run,
        request,
        lambda: do_send_no_strike_lists(db, viewer, request_id=form_id(data), now=now),
        "/deconfliction/registry#lists",
        lambda error, status: registry_page(
            request, viewer, db, now, error=error, status_code=status
        ),
    )


@router.post("/deconfliction/registry/lists/{list_id}/acknowledge")
async def acknowledge_list(
    request: Request, list_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    now = clock.now()
    return await run_in_threadpool(
        _run,
        request,
        lambda: do_acknowledge_no_strike_list(db, viewer, list_id=list_id, now=now),
        f"/deconfliction/registry#list-{list_id}",
        lambda error, status: registry_page(
            request, viewer, db, now, error=error, status_code=status
        ),
    )


# -- incidents and alerts ----------------------------------------------------------------------

INCIDENT_SECTIONS = "deconfliction-incident-sections"


def incidents_page(
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
    context = incidents_context(db, viewer, now=now, data=data)
    context.update(
        sections_id=INCIDENT_SECTIONS,
        picker=picker(viewer),
        script_labels=view_rows.labels_json(viewer.language, *view_rows.SCRIPT_LABELS),
    )
    headers = {"Vary": "HX-Target"}
    if request.headers.get("hx-target") == INCIDENT_SECTIONS and error is None:
        return page(
            request, viewer, "deconfliction/incident_sections.html", headers=headers, **context
        )
    return page(
        request,
        viewer,
        "deconfliction/incidents.html",
        status_code=status_code,
        headers=headers,
        error=error,
        **context,
    )


@router.get("/deconfliction/incidents")
def incidents(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    return incidents_page(request, viewer, db, clock.now())


@router.post("/deconfliction/incidents")
async def report(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    data = await request.form()
    now = clock.now()

    def act() -> None:
        evidence = []
        for line in _text(data, "evidence").splitlines():
            parts = line.strip().split(maxsplit=1)
            if parts:
                evidence.append(
                    {"sha256": parts[0].lower(), "name": parts[1] if len(parts) > 1 else ""}
                )
        location = _text(data, "location")
        reported = do_report_incident(
            db,
            viewer,
            incident_id=form_id(data),
            kind=_text(data, "kind"),
            affects=_text(data, "affects"),
            target=_text(data, "target"),
            occurred_at=moment(_text(data, "occurred_at"), "occurred_at"),
            description=_text(data, "description"),
            location=geometry_of(location, "location") if location else None,
            evidence=evidence,
            attributed_to=_text(data, "attributed_to") or None,
            denied=_text(data, "denied") or None,
            now=now,
        )
        carry_alerts(db, reported.alerts, now=now)

    return await run_in_threadpool(
        _run,
        request,
        act,
        "/deconfliction/incidents#incidents",
        lambda error, status: incidents_page(
            request, viewer, db, now, data=data, error=error, status_code=status
        ),
    )


@router.post("/deconfliction/alerts/{alert_id}/acknowledge")
async def acknowledge_alert(
    request: Request, alert_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    now = clock.now()
    return await run_in_threadpool(
        _run,
        request,
        lambda: acknowledge_alert_and_its_hotline_message(db, viewer, alert_id=alert_id, now=now),
        f"/deconfliction/incidents#alert-{alert_id}",
        lambda error, status: incidents_page(
            request, viewer, db, now, error=error, status_code=status
        ),
    )
