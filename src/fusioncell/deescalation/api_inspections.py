"""REST routes of the inspections (R7) and their incidents (R12): the schedule of every zone
and side, the parties' requests with their due times, the verifier's reports, and the
incidents of access denied. Reads go through ``deescalation.queries``; writes are actions.

A POST's body is read by the route after the permission is checked, so that a member who
may not request or report is refused (403) whatever the body, as for observations."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deescalation import policy, queries
from fusioncell.deescalation.actions.inspections import (
    do_report_inspection,
    do_request_inspection,
)
from fusioncell.deescalation.api import raw_body
from fusioncell.deescalation.inspections import RequestState, request_state
from fusioncell.deescalation.models import Incident, InspectionReport, InspectionRequest
from fusioncell.deescalation.schemas import (
    CountedHoldingOut,
    IncidentOut,
    InspectionReportOut,
    InspectionRequestOut,
    InspectionsOut,
    ReportedOut,
    ReportInspectionIn,
    RequestInspectionIn,
    ScheduleRowOut,
)
from fusioncell.idempotency import resolve_id
from fusioncell.text import N_
from fusioncell.web.deps import AppClock, CurrentViewer, Db

router = APIRouter(prefix="/api/v1/deescalation", tags=["deescalation"])
IdempotencyKey = Annotated[str | None, Header(max_length=200)]
Model = TypeVar("Model", bound=BaseModel)

MAY_NOT_REQUEST = N_("An inspection is requested by a party's liaison officer.")
MAY_NOT_REPORT = N_("Only the verifier reports an inspection.")


def _documented(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


def _parse(model: type[Model], raw: bytes) -> Model:
    try:
        return model.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None


def _slug(dir_: queries.Directory, organisation_id: uuid.UUID) -> str:
    found = dir_.by_id.get(organisation_id)
    return found.slug if found is not None else "?"


def request_out(
    dir_: queries.Directory,
    row: InspectionRequest,
    state: RequestState,
    report: InspectionReport | None,
) -> InspectionRequestOut:
    return InspectionRequestOut(
        id=row.id,
        party=_slug(dir_, row.party_id),
        zone=row.zone,
        side=row.side,
        reason=row.reason,
        requested_at=row.requested_at,
        due_at=row.due_at,
        log_index=row.log_index,
        status=state.status,
        overdue=state.overdue,
        report=report.id if report is not None else None,
        carried_out_at=state.carried_out_at,
    )


def report_out(
    db: Session,
    viewer: Viewer,
    dir_: queries.Directory,
    row: InspectionReport,
    incident: Incident | None,
    counted: dict[uuid.UUID, list[Any]] | None = None,
) -> InspectionReportOut:
    if counted is None:
        counted = queries.counted_holdings(db, viewer, [row.batch_id] if row.batch_id else [])
    return InspectionReportOut(
        id=row.id,
        zone=row.zone,
        side=row.side,
        inspected_at=row.inspected_at,
        outcome=row.outcome,
        request=row.request_id,
        denied_by=_slug(dir_, incident.party_id) if incident is not None else None,
        incident=incident.id if incident is not None else None,
        note=row.note,
        batch=row.batch_id,
        holdings=[
            CountedHoldingOut(
                id=h.feature_id,
                unit=h.unit,
                party=_slug(dir_, h.party_id),
                category=h.category,
                count=h.count,
                calibre_mm=h.calibre_mm,
                range_km=h.range_km,
                observed_at=h.observed_at,
                lon=h.lon,
                lat=h.lat,
            )
            for h in (counted.get(row.batch_id, []) if row.batch_id else [])
        ],
        log_index=row.log_index,
        reported_at=row.reported_at,
    )


def incident_out(dir_: queries.Directory, row: Incident, request: uuid.UUID | None) -> IncidentOut:
    return IncidentOut(
        id=row.id,
        kind=row.kind,
        party=_slug(dir_, row.party_id),
        zone=row.zone,
        side=row.side,
        occurred_at=row.occurred_at,
        report=row.report_id,
        request=request,
        log_index=row.log_index,
        recorded_at=row.recorded_at,
    )


@router.get("/inspections", response_model=InspectionsOut)
def list_inspections(viewer: CurrentViewer, db: Db, clock: AppClock) -> InspectionsOut:
    """The schedule (every zone and side: its last inspection, when it is due and whether it
    is overdue), the parties' requests with their due times, and the verifier's reports."""
    now = clock.now()
    overview = queries.inspection_overview(db, viewer, now=now)
    rules = queries.rules_in_force(db)
    dir_ = overview.directory
    counted = queries.counted_holdings(
        db, viewer, [r.batch_id for r in overview.reports if r.batch_id is not None]
    )
    return InspectionsOut(
        at=now,
        interval_days=rules.inspection_interval.total_seconds() / 86400,
        request_hours=rules.request_deadline.total_seconds() / 3600,
        schedule=[
            ScheduleRowOut(
                zone=due.item.zone,
                side=due.item.side,
                kind=due.item.kind,
                band=due.item.band,
                last_inspected=due.last_inspected,
                due_by=due.due_by,
                overdue=due.overdue,
                due_soon=due.due_soon,
            )
            for due in overview.schedule
        ],
        requests=[request_out(dir_, *entry) for entry in overview.requests],
        reports=[
            report_out(db, viewer, dir_, r, overview.incidents.get(r.id), counted)
            for r in overview.reports
        ],
    )


@router.post(
    "/inspections/requests",
    response_model=InspectionRequestOut,
    status_code=201,
    openapi_extra=_documented(RequestInspectionIn),
)
def request_inspection(
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    raw: Annotated[bytes, Depends(raw_body)],
    idempotency_key: IdempotencyKey = None,
) -> InspectionRequestOut:
    """A party's liaison officer asks for an inspection of a zone and side (``side`` for the
    area of separation), with its reason: due within the rules' hours."""
    policy.require(viewer, policy.may_request_inspection(viewer), MAY_NOT_REQUEST)
    body = _parse(RequestInspectionIn, raw)
    row = do_request_inspection(
        db,
        viewer,
        request_id=resolve_id(viewer, body.id, idempotency_key, scope="inspection-request"),
        zone=body.zone,
        side=body.side,
        reason=body.reason,
        now=clock.now(),
    )
    # A retry of a request carried out since answers where it stands now.
    report = queries.report_carrying_out(db, row.id)
    state = request_state(
        row.due_at,
        outcome=report.outcome if report else None,
        inspected_at=report.inspected_at if report else None,
        now=clock.now(),
    )
    return request_out(queries.directory(db, viewer), row, state, report)


@router.post(
    "/inspections",
    response_model=ReportedOut,
    status_code=201,
    openapi_extra=_documented(ReportInspectionIn),
)
def report_inspection(
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    raw: Annotated[bytes, Depends(raw_body)],
    idempotency_key: IdempotencyKey = None,
) -> ReportedOut:
    """The verifier's report of an inspection: ``completed`` with the holdings counted (an
    RFC 7946 FeatureCollection, recorded as ``inspection`` observations), or
    ``access_denied`` with ``denied_by``, the party that denied it (an incident of its own)."""
    policy.require(viewer, policy.may_report_inspection(viewer), MAY_NOT_REPORT)
    body = _parse(ReportInspectionIn, raw)
    reported = do_report_inspection(
        db,
        viewer,
        report_id=resolve_id(viewer, body.id, idempotency_key, scope="inspection-report"),
        zone=body.zone,
        side=body.side,
        inspected_at=body.inspected_at,
        outcome=body.outcome,
        request_id=body.request,
        denied_by=body.denied_by,
        note=body.note,
        holdings=body.holdings,
        now=clock.now(),
    )
    dir_ = queries.directory(db, viewer)
    out = report_out(db, viewer, dir_, reported.report, reported.incident)
    return ReportedOut.model_validate({**out.model_dump(), "candidates": reported.candidates})


@router.get("/incidents", response_model=list[IncidentOut])
def list_incidents(viewer: CurrentViewer, db: Db) -> list[IncidentOut]:
    """Incidents (R12): each access denied to the verifier, attributed to the party that
    denied it. Released to both parties, the supervisor and the verifier."""
    policy.require(viewer, policy.may_read(viewer), "this needs the permission to read the track")
    dir_ = queries.directory(db, viewer)
    incidents = queries.list_incidents(db, viewer)
    requests = {r.id: r.request_id for r in queries.list_inspection_reports(db, viewer)}
    return [incident_out(dir_, i, requests.get(i.report_id)) for i in incidents]
