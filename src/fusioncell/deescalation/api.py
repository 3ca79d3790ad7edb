"""REST routes of the de-escalation track. Every read goes through ``deescalation.queries``,
so compliance is computed from what is released to the viewer and nothing else."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deescalation import exports, policy, queries, views
from fusioncell.deescalation.actions.baselines import do_accept_baseline, do_declare_baseline
from fusioncell.deescalation.actions.exceptions import do_propose_exception, do_sign_exception
from fusioncell.deescalation.actions.observations import MAY_NOT_RECORD, do_record_observations
from fusioncell.deescalation.models import AgreedExceptionRow, Baseline
from fusioncell.deescalation.schemas import (
    BaselineOut,
    ComplianceOut,
    DeclareBaselineIn,
    ExceptionOut,
    ObservationsOut,
    ProposeExceptionIn,
)
from fusioncell.errors import InvalidInput, MalformedJson, NotFound
from fusioncell.idempotency import resolve_id
from fusioncell.web.deps import AppClock, CurrentViewer, Db

router = APIRouter(prefix="/api/v1/deescalation", tags=["deescalation"])
IdempotencyKey = Annotated[str | None, Header(max_length=200)]


async def raw_body(request: Request) -> bytes:
    return await request.body()


def json_document(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise MalformedJson("the body is not valid JSON") from None


# The body is read by the route, not by FastAPI before it, so that a member who may not post
# is refused whatever the body (403, not 422 or 400).
COLLECTION_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"type": "object"}}},
}


@router.post(
    "/observations",
    response_model=ObservationsOut,
    status_code=201,
    openapi_extra={"requestBody": COLLECTION_BODY},
)
def record_observations(
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    raw: Annotated[bytes, Depends(raw_body)],
) -> ObservationsOut:
    """An RFC 7946 FeatureCollection of Points, each a unit's holding: properties ``unit``,
    ``party``, ``category``, ``count``, ``calibre_mm``, ``range_km``, ``observed_at``,
    ``source`` (and ``grade`` for a report); the feature's ``id`` is the client's."""
    # The action asks first too; asked here so that the body is decoded only for a member who
    # records observations.
    policy.require(viewer, policy.may_record_any(viewer), MAY_NOT_RECORD)
    collection = json_document(raw)
    recorded = do_record_observations(db, viewer, collection, now=clock.now())
    return ObservationsOut.model_validate(
        {
            "batch": recorded.batch_id,
            "log_index": recorded.log_index,
            "stored": recorded.stored,
            "new": recorded.new,
            "candidates": recorded.candidates,
        }
    )


@router.get("/compliance", response_model=ComplianceOut)
def compliance(
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    at: Annotated[
        str | None, Query(max_length=40, json_schema_extra={"format": "date-time"})
    ] = None,
    source: Annotated[str, Query(max_length=16)] = "verification",
) -> ComplianceOut:
    """Holdings and violation candidates at ``at`` (default: now; an RFC 3339 time with its
    offset) for a source class (``declaration``, ``verification``: inspections and sensors,
    ``report``), computed from the observations released to the viewer."""
    when = clock.now() if at is None else _instant(at)
    result = queries.compliance(db, viewer, at=when, source=source)
    return ComplianceOut.model_validate({"at": when, "source": source, **result.as_dict()})


@router.get("/map")
def map_layer(
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    at: Annotated[
        str | None, Query(max_length=40, json_schema_extra={"format": "date-time"})
    ] = None,
    source: Annotated[str | None, Query(max_length=16)] = None,
) -> dict[str, Any]:
    """The map's layer of holdings at ``at`` (default: now): an RFC 7946 FeatureCollection of
    Points, one per unit's latest observation in each source class (or in ``source`` only),
    released to the viewer as compliance is. Each has ``category``, ``count``, ``party``,
    ``unit``, ``source``, ``affiliation`` (``own``, ``other`` or ``neutral``: computed for
    the viewer, never stored), ``candidate`` and the ``rules`` of the candidates it makes.
    Foreign members: ``timeline`` (``start``: the freeze, ``end``: now, ``at``) and
    ``labels`` (the layer's texts in the viewer's language)."""
    now = clock.now()
    when = now if at is None else _instant(at)
    found = exports.situation(db, viewer, at=when, sources=exports.source_classes(source))
    return exports.map_collection(found, now=now, labels=views.map_labels(viewer.language))


@router.get(
    "/export",
    response_class=Response,
    responses={
        200: {
            "description": "The zones, holdings and candidates in the format asked for.",
            "content": {media: {} for media in exports.MEDIA_TYPES.values()},
        }
    },
)
def export(
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    format: Annotated[Literal["geojson", "kml", "csv"], Query()] = "geojson",
    at: Annotated[
        str | None, Query(max_length=40, json_schema_extra={"format": "date-time"})
    ] = None,
    source: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """The zones in force, the holdings at ``at`` (default: now) and the violation candidates,
    as GeoJSON (one FeatureCollection; ``layer`` is ``zone``, ``holding`` or ``candidate``),
    KML 2.2 (a folder of each) or CSV (a header row, then one row per zone, holding and
    candidate), within the viewer's releasability: what compliance shows them, never more."""
    when = clock.now() if at is None else _instant(at)
    found = exports.situation(db, viewer, at=when, sources=exports.source_classes(source))
    return Response(
        exports.render(found, format),
        media_type=exports.MEDIA_TYPES[format],
        headers={
            "Content-Disposition": f'attachment; filename="{exports.filename(found, format)}"'
        },
    )


def _instant(text: str) -> datetime:
    """An RFC 3339 time, in UTC: a number is not one (pydantic would read it as seconds
    since 1970), nor a time without its offset."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("at is an RFC 3339 time with its offset", field="at") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput("give at with its time zone", field="at")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset: out of any range
        raise InvalidInput("at is out of range", field="at") from None


def _baseline_out(db: Session, viewer: Viewer, baseline: Baseline) -> BaselineOut:
    slugs = {o.id: o.slug for o in queries.directory(db, viewer).by_id.values()}
    return BaselineOut(
        id=baseline.id,
        party=slugs[baseline.party_id],
        at=baseline.at,
        holdings=baseline.holdings,
        log_index=baseline.log_index,
        accepted=baseline.accepted_log_index is not None,
        accepted_log_index=baseline.accepted_log_index,
    )


@router.get("/baselines", response_model=list[BaselineOut])
def list_baselines(viewer: CurrentViewer, db: Db) -> list[BaselineOut]:
    return [_baseline_out(db, viewer, b) for b in queries.list_baselines(db, viewer)]


@router.post("/baselines", response_model=BaselineOut, status_code=201)
def declare_baseline(
    body: DeclareBaselineIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> BaselineOut:
    baseline = do_declare_baseline(
        db,
        viewer,
        baseline_id=resolve_id(viewer, body.id, idempotency_key, scope="deescalation-baseline"),
        party=body.party,
        holdings=[h.model_dump() for h in body.holdings],
        now=clock.now(),
    )
    return _baseline_out(db, viewer, baseline)


@router.post("/baselines/{baseline_id}/accept", response_model=BaselineOut)
def accept_baseline(
    baseline_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> BaselineOut:
    baseline = do_accept_baseline(db, viewer, baseline_id=baseline_id, now=clock.now())
    return _baseline_out(db, viewer, baseline)


def _exception_out(db: Session, viewer: Viewer, row: AgreedExceptionRow) -> ExceptionOut:
    dir_ = queries.directory(db, viewer)
    signed = queries.signatures_of(db, [row.id]).get(row.id, set())
    return ExceptionOut(
        id=row.id,
        party=dir_.by_id[row.party_id].slug,
        zone=row.zone,
        category=row.category,
        max_count=row.max_count,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        note=row.note,
        log_index=row.log_index,
        signed_by=sorted(dir_.by_id[o].slug for o in signed),
        agreed=queries.signatories(dir_) <= signed,
    )


@router.get("/exceptions", response_model=list[ExceptionOut])
def list_exceptions(viewer: CurrentViewer, db: Db) -> list[ExceptionOut]:
    return [_exception_out(db, viewer, e) for e in queries.list_exceptions(db, viewer)]


@router.post("/exceptions", response_model=ExceptionOut, status_code=201)
def propose_exception(
    body: ProposeExceptionIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> ExceptionOut:
    row = do_propose_exception(
        db,
        viewer,
        exception_id=resolve_id(viewer, body.id, idempotency_key, scope="deescalation-exception"),
        party=body.party,
        zone=body.zone,
        category=body.category,
        max_count=body.max_count,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        note=body.note,
        now=clock.now(),
    )
    return _exception_out(db, viewer, row)


@router.post("/exceptions/{exception_id}/signatures", response_model=ExceptionOut, status_code=201)
def sign_exception(
    exception_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> ExceptionOut:
    do_sign_exception(db, viewer, exception_id=exception_id, now=clock.now())
    row = queries.get_exception(db, viewer, exception_id)
    if row is None:
        raise NotFound()
    return _exception_out(db, viewer, row)
