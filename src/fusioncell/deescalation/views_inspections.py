"""The inspections page (R7, R12): the schedule of every zone and side with what is overdue in
red, the parties' requests with their countdowns, the verifier's reports and the incidents of
access denied; a request form for a party's liaison officer and a report form for the
verifier. Reads go through ``deescalation.queries``; the forms call the actions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from fusioncell.cell.labels import organisation_name
from fusioncell.cell.policy import Viewer
from fusioncell.deescalation import inspections, policy, queries
from fusioncell.deescalation.actions.inspections import (
    MAX_TEXT_CHARS,
    do_report_inspection,
    do_request_inspection,
)
from fusioncell.deescalation.api_inspections import MAY_NOT_REPORT, MAY_NOT_REQUEST
from fusioncell.deescalation.models import InspectionOutcome, ObservationRow
from fusioncell.errors import Conflict, InvalidInput
from fusioncell.i18n import translate
from fusioncell.text import N_
from fusioncell.web.console import countdown_text, ms
from fusioncell.web.deps import AppClock, CurrentViewer, Db
from fusioncell.web.pages import page

router = APIRouter(include_in_schema=False)

PAGE_URL = "/deescalation/inspections"
# Counted holdings the report form offers rows for; the API takes any number.
HOLDING_ROWS = 3

STATE_LABELS = {
    "ok": N_("Inspected in time"),
    "due-soon": N_("Due soon"),
    "overdue": N_("Overdue"),
}
REQUEST_LABELS = {
    "open": N_("Awaiting inspection"),
    InspectionOutcome.COMPLETED.value: N_("Inspected"),
    InspectionOutcome.ACCESS_DENIED.value: N_("Access denied"),
}
OUTCOME_LABELS = {
    InspectionOutcome.COMPLETED.value: N_("Completed"),
    InspectionOutcome.ACCESS_DENIED.value: N_("Access denied"),
}
CATEGORY_LABELS = {
    "personnel": N_("personnel"),
    "tank": N_("tanks"),
    "artillery": N_("artillery pieces"),
    "sam": N_("surface-to-air missile systems"),
    "ssm": N_("surface-to-surface missile systems"),
    "aircraft": N_("aircraft"),
    "uav": N_("UAVs"),
    "other": N_("other"),
}
_BAD_TIME = N_("Give the inspection's time as a date and a time (UTC).")
_BAD_COUNT = N_("A counted holding needs its party, category and a whole count.")
_BAD_PLACE = N_("Give both longitude and latitude, or neither (the zone's centre).")
_NO_REQUEST = N_("The request named is not one of the cell's.")


def zone_label(language: str, item: inspections.Item) -> str:
    if item.kind == "separation":
        return translate(language, N_("Area of separation"))
    # The band is isolated left to right: after Arabic letters, "10-20" would read "20-10".
    band = f"\u2066{item.band or ''}\u2069"
    return translate(language, N_("Area of limitation %(band)s km"), band=band)


@dataclass
class RequestForm:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    item: str = ""
    reason: str = ""
    error: str | None = None
    error_field: str | None = None


@dataclass
class HoldingInput:
    party: str = ""
    category: str = ""
    count: str = ""
    unit: str = ""
    lon: str = ""
    lat: str = ""


@dataclass
class ReportForm:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    item: str = ""
    inspected_at: str = ""
    outcome: str = InspectionOutcome.COMPLETED.value
    request: str = ""
    denied_by: str = ""
    note: str = ""
    holdings: list[HoldingInput] = field(
        default_factory=lambda: [HoldingInput() for _ in range(HOLDING_ROWS)]
    )
    error: str | None = None
    error_field: str | None = None


def _item_key(zone: str, side: str) -> str:
    return f"{zone}|{side}"


def _split_item(key: str) -> tuple[str, str | None]:
    zone, _, side = key.partition("|")
    return zone, side or None


def _time(value: str) -> datetime:
    """The form's time (``<input type="datetime-local">``, without a zone) is UTC, as its
    label says and as every time on the page is shown."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(_BAD_TIME, field="inspected_at") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _party_names(dir_: queries.Directory, language: str) -> dict[str, str]:
    return {slug: organisation_name(o, language) for slug, o in dir_.by_slug.items()}


def _holding_text(language: str, names: dict[str, str], row: ObservationRow, slug: str) -> str:
    return translate(
        language,
        N_("%(count)s %(category)s of %(party)s"),
        count=f"{row.count:,}",
        category=translate(language, CATEGORY_LABELS.get(row.category, row.category)),
        party=names.get(slug, slug),
    )


def render_page(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    *,
    request_form: RequestForm | None = None,
    report_form: ReportForm | None = None,
    status_code: int = 200,
) -> Response:
    language = viewer.language
    overview = queries.inspection_overview(db, viewer, now=now)  # 403 unless the viewer reads
    dir_ = overview.directory
    names = _party_names(dir_, language)
    slug = {o.id: o.slug for o in dir_.by_id.values()}
    items = inspections.items_of(queries.geometry_in_force(db, viewer))
    labels = {_item_key(i.zone, i.side): zone_label(language, i) for i in items}
    kinds = {(i.zone, i.side): i for i in items}
    counted = queries.counted_holdings(
        db, viewer, [r.batch_id for r in overview.reports if r.batch_id is not None]
    )
    rules = queries.rules_in_force(db)
    requests = [
        {
            "row": row,
            "state": state,
            "report": report,
            "party": names.get(slug.get(row.party_id, ""), "?"),
            "label": labels.get(_item_key(row.zone, row.side), row.zone),
            "side": names.get(row.side, row.side),
            "due_ms": ms(row.due_at),
            "countdown": countdown_text((row.due_at - now).total_seconds(), language),
        }
        for row, state, report in overview.requests
    ]
    reports = [
        {
            "row": r,
            "label": labels.get(_item_key(r.zone, r.side), r.zone),
            "side": names.get(r.side, r.side),
            "incident": overview.incidents.get(r.id),
            "holdings": [
                _holding_text(language, names, h, slug.get(h.party_id, "?"))
                for h in counted.get(r.batch_id, [])
            ]
            if r.batch_id
            else [],
        }
        for r in reversed(overview.reports)
    ]
    incidents = [
        {
            "row": incident,
            "party": names.get(slug.get(incident.party_id, ""), "?"),
            "label": labels.get(_item_key(incident.zone, incident.side), incident.zone),
            "side": names.get(incident.side, incident.side),
        }
        for incident in sorted(
            overview.incidents.values(), key=lambda i: (i.occurred_at, i.log_index), reverse=True
        )
    ]
    open_requests = [
        (str(row.id), f"{labels.get(_item_key(row.zone, row.side), row.zone)} · "
         f"{names.get(row.side, row.side)} · {names.get(slug.get(row.party_id, ''), '?')}")
        for row, state, _report in overview.requests
        if state.status == "open"
    ]  # fmt: skip
    context: dict[str, Any] = {
        "schedule": [
            {
                "due": due,
                "label": zone_label(language, due.item),
                "side": names.get(due.item.side, due.item.side),
            }
            for due in overview.schedule
        ],
        "requests": requests,
        "reports": reports,
        "incidents": incidents,
        "state_labels": STATE_LABELS,
        "request_labels": REQUEST_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "category_labels": CATEGORY_LABELS,
        "items": [
            (_item_key(i.zone, i.side), f"{labels[_item_key(i.zone, i.side)]} · {names[i.side]}")
            for i in items
            if i.side in names
        ],
        "kinds": kinds,
        "parties": [(s, names[s]) for s in dir_.parties()],
        "open_requests": open_requests,
        "may_request": policy.may_request_inspection(viewer),
        "may_report": policy.may_report_inspection(viewer),
        "request_form": request_form or RequestForm(),
        "report_form": report_form or ReportForm(inspected_at=now.strftime("%Y-%m-%dT%H:%M")),
        "interval_days": round(rules.inspection_interval.total_seconds() / 86400),
        "request_hours": round(rules.request_deadline.total_seconds() / 3600),
        "max_text_chars": MAX_TEXT_CHARS,
        "now_ms": ms(now),
    }
    return page(
        request,
        viewer,
        "deescalation/inspections.html",
        status_code=status_code,
        **context,
    )


@router.get(PAGE_URL)
def inspections_page(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    return render_page(request, viewer, db, clock.now())


def _uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.uuid4()


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@router.post(f"{PAGE_URL}/requests")
async def request_inspection(
    request: Request, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    """Without script: request and go back to the page at the request (or the page again
    with the form's problem)."""
    # Asked before the form is read, as the API does; the action asks again.
    policy.require(viewer, policy.may_request_inspection(viewer), MAY_NOT_REQUEST)
    form = await request.form()
    return await run_in_threadpool(_request, request, viewer, db, clock.now(), form)


def _request(
    request: Request, viewer: Viewer, db: Session, now: datetime, form: FormData
) -> Response:
    filled = RequestForm(
        id=_uuid(form.get("id")), item=_text(form, "item"), reason=_text(form, "reason")
    )
    zone, side = _split_item(filled.item)
    try:
        row = do_request_inspection(
            db, viewer, request_id=filled.id, zone=zone, side=side, reason=filled.reason, now=now
        )
    except (InvalidInput, Conflict) as error:
        filled.error = translate(viewer.language, error.detail)
        filled.error_field = error.extensions.get("field")
        return render_page(request, viewer, db, now, request_form=filled, status_code=error.status)
    return RedirectResponse(f"{PAGE_URL}#request-{row.id}", status_code=303)


def _place(holding: HoldingInput) -> tuple[float, float] | None:
    if not holding.lon.strip() and not holding.lat.strip():
        return None
    try:
        return float(holding.lon), float(holding.lat)
    except ValueError:
        raise InvalidInput(_BAD_PLACE, field="geometry") from None


def _holdings(db: Session, viewer: Viewer, filled: ReportForm, zone: str) -> dict[str, Any] | None:
    """The form's rows as the FeatureCollection the action takes; a row placed nowhere is
    at the zone's centre (a point inside it)."""
    features = []
    for index, holding in enumerate(filled.holdings):
        if not (holding.count.strip() or holding.unit.strip()):
            continue
        try:
            count = int(holding.count)
        except ValueError:
            raise InvalidInput(_BAD_COUNT, field="count", feature=index) from None
        place = _place(holding)
        if place is None:
            found = [z for z in queries.geometry_in_force(db, viewer).zones if z.id == zone]
            if not found:
                continue  # the action refuses the zone itself
            point = found[0].geometry.representative_point()
            place = (round(point.x, 6), round(point.y, 6))
        fid = f"{filled.id}-{index + 1}"
        features.append(
            {
                "type": "Feature",
                "id": fid,
                "geometry": {"type": "Point", "coordinates": list(place)},
                "properties": {
                    "unit": holding.unit.strip() or fid,
                    "party": holding.party,
                    "category": holding.category,
                    "count": count,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features} if features else None


@router.post(f"{PAGE_URL}/reports")
async def report_inspection(
    request: Request, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    """Without script: report and go back to the page at the report (or the page again with
    the form's problem)."""
    policy.require(viewer, policy.may_report_inspection(viewer), MAY_NOT_REPORT)
    form = await request.form()
    return await run_in_threadpool(_report, request, viewer, db, clock.now(), form)


def _request_id(value: str) -> uuid.UUID | None:
    if not value.strip():
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise InvalidInput(_NO_REQUEST, field="request") from None


def _report(
    request: Request, viewer: Viewer, db: Session, now: datetime, form: FormData
) -> Response:
    filled = ReportForm(
        id=_uuid(form.get("id")),
        item=_text(form, "item"),
        inspected_at=_text(form, "inspected_at"),
        outcome=_text(form, "outcome"),
        request=_text(form, "request"),
        denied_by=_text(form, "denied_by"),
        note=_text(form, "note"),
        holdings=[
            HoldingInput(
                **{
                    name: _text(form, f"holding-{index}-{name}")
                    for name in ("party", "category", "count", "unit", "lon", "lat")
                }
            )
            for index in range(HOLDING_ROWS)
        ],
    )
    zone, side = _split_item(filled.item)
    denied = filled.outcome == InspectionOutcome.ACCESS_DENIED
    try:
        reported = do_report_inspection(
            db,
            viewer,
            report_id=filled.id,
            zone=zone,
            side=side,
            inspected_at=_time(filled.inspected_at),
            outcome=filled.outcome,
            request_id=_request_id(filled.request),
            denied_by=(filled.denied_by or None) if denied else None,
            note=filled.note,
            holdings=None if denied else _holdings(db, viewer, filled, zone),
            now=now,
        )
    except (InvalidInput, Conflict) as error:
        filled.error = translate(viewer.language, error.detail)
        filled.error_field = error.extensions.get("field")
        return render_page(request, viewer, db, now, report_form=filled, status_code=error.status)
    return RedirectResponse(f"{PAGE_URL}#report-{reported.report.id}", status_code=303)
