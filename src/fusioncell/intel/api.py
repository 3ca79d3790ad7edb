"""REST routes of the intelligence track; every read goes through ``intel.queries``, so a
report not released to the viewer is 404 on every route."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from pydantic import BeforeValidator
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.idempotency import resolve_id
from fusioncell.intel import queries, stix
from fusioncell.intel.actions.reports import (
    Observation,
    Submission,
    do_release_report,
    do_respond_to_report,
    do_submit_observation,
    do_submit_report,
    do_submit_reports,
)
from fusioncell.intel.models import Report
from fusioncell.intel.schemas import (
    CountOut,
    PreviewOut,
    ReleaseIn,
    ReportOut,
    RespondIn,
    SubmitObservationIn,
    SubmitReportIn,
    SubmitReportsIn,
    SubmittedBatchOut,
)
from fusioncell.web.deps import AppClock, CurrentViewer, Db

router = APIRouter(prefix="/api/v1/intel", tags=["intel"])
IdempotencyKey = Annotated[str | None, Header(max_length=200)]


def _rfc3339(value: object) -> object:
    """A time given as text must be RFC 3339 (a date first): pydantic would read "0.0" as
    seconds since 1970, which the OpenAPI document's date-time does not allow."""
    if isinstance(value, str) and not re.match(r"\s*\d{4}-\d\d-\d\d", value):
        raise ValueError("an RFC 3339 date and time")
    return value


Instant = Annotated[datetime | None, BeforeValidator(_rfc3339)]


def _bbox(report: Report) -> list[float] | None:
    corners = [report.west, report.south, report.east, report.north]
    return [c for c in corners if c is not None] if report.west is not None else None


def report_out(
    db: Session,
    viewer: Viewer,
    report: Report,
    *,
    slugs: dict[uuid.UUID, str],
    released: dict[uuid.UUID, list[uuid.UUID]],
    full: bool = False,
) -> ReportOut:
    out = ReportOut(
        id=report.id,
        kind=report.kind,
        title=report.title,
        author_organisation=slugs[report.author_organisation_id],
        tlp=report.tlp,
        grade=queries.grade_of(report),
        reliability=report.reliability,
        credibility=report.credibility,
        opinion=report.opinion,
        observed_at=report.observed_at,
        submitted_at=report.submitted_at,
        released_to=sorted(slugs[o] for o in released.get(report.id, [])),
        # The link to the original shows only to whoever may see both.
        derived_from=(
            report.derived_from if queries.original_of(db, viewer, report) is not None else None
        )
        if full
        else None,
        responds_to=report.responds_to,
        log_index=report.log_index,
        bbox=_bbox(report),
    )
    if full:
        out.bundle = report.bundle
        responses = queries.responses_to(db, viewer, [report.id])
        more = queries.releases_of(db, viewer, [r.id for r in responses])
        out.responses = [report_out(db, viewer, r, slugs=slugs, released=more) for r in responses]
        out.derived = [r.id for r in queries.derived_reports(db, viewer, report.id)]
    return out


def outs(db: Session, viewer: Viewer, reports: Sequence[Report]) -> list[ReportOut]:
    slugs = {o.id: o.slug for o in queries.organisations(db, viewer)}
    released = queries.releases_of(db, viewer, [r.id for r in reports])
    return [report_out(db, viewer, r, slugs=slugs, released=released) for r in reports]


def one_out(db: Session, viewer: Viewer, report: Report) -> ReportOut:
    slugs = {o.id: o.slug for o in queries.organisations(db, viewer)}
    released = queries.releases_of(db, viewer, [report.id])
    return report_out(db, viewer, report, slugs=slugs, released=released, full=True)


def filters_from(
    db: Session,
    viewer: Viewer,
    *,
    q: str = "",
    types: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    author: str = "",
    grade: str = "",
    tlp: str = "",
    bbox: str = "",
) -> queries.Filters:
    author_id = None
    if author:
        found = {o.slug: o.id for o in queries.organisations(db, viewer)}.get(author.strip())
        # An unknown organisation authored nothing: the filter matches no report.
        author_id = found or uuid.UUID(int=0)
    return queries.Filters(
        text=q,
        types=[t for t in types if t],
        since=since,
        until=until,
        author=author_id,
        grade=grade,
        tlp=tlp,
        bbox=queries.parse_bbox(bbox),
    )


Text = Annotated[str, Query(max_length=200)]


@router.get("/reports", response_model=list[ReportOut])
def list_reports(
    viewer: CurrentViewer,
    db: Db,
    q: Text = "",
    type: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    since: Instant = None,
    until: Instant = None,
    author: Text = "",
    grade: Annotated[str, Query(max_length=2)] = "",
    tlp: Annotated[str, Query(max_length=16)] = "",
    bbox: Text = "",
    before: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ReportOut]:
    """Newest first: the reports and releases released to the viewer's organisation."""
    filters = filters_from(
        db, viewer, q=q, types=type, since=since, until=until, author=author, grade=grade,
        tlp=tlp, bbox=bbox,
    )  # fmt: skip
    return outs(db, viewer, queries.list_reports(db, viewer, filters, before=before, limit=limit))


@router.get("/reports/count", response_model=CountOut)
def count_reports(
    viewer: CurrentViewer,
    db: Db,
    q: Text = "",
    type: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    since: Instant = None,
    until: Instant = None,
    author: Text = "",
    grade: Annotated[str, Query(max_length=2)] = "",
    tlp: Annotated[str, Query(max_length=16)] = "",
    bbox: Text = "",
) -> CountOut:
    filters = filters_from(
        db, viewer, q=q, types=type, since=since, until=until, author=author, grade=grade,
        tlp=tlp, bbox=bbox,
    )  # fmt: skip
    return CountOut(count=queries.count_reports(db, viewer, filters))


@router.post("/reports", response_model=ReportOut, status_code=201)
def submit_report(
    body: SubmitReportIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> ReportOut:
    report = do_submit_report(
        db,
        viewer,
        report_id=resolve_id(viewer, body.id, idempotency_key, scope="intel-report"),
        bundle=body.bundle,
        release_to=body.release_to,
        tlp=body.tlp,
        grade=body.grade,
        now=clock.now(),
    )
    return one_out(db, viewer, report)


@router.post("/reports/batch", response_model=SubmittedBatchOut, status_code=201)
def submit_reports(body: SubmitReportsIn, viewer: CurrentViewer, db: Db, clock: AppClock) -> Any:
    """Several bundles (``fusioncell intel submit`` with several files): each its own report
    and signed entry, in one transaction; one refused bundle refuses them all, naming it. A
    report without an id gets a new one; send ids to retry safely."""
    done = do_submit_reports(
        db,
        viewer,
        [
            Submission(
                report_id=item.id or uuid.uuid4(),
                bundle=item.bundle,
                release_to=item.release_to,
                tlp=item.tlp,
                grade=item.grade,
            )
            for item in body.reports
        ],
        now=clock.now(),
    )
    return {
        "reports": [
            {
                "id": d.report_id,
                "client_id": d.client_id,
                "log_index": d.log_index,
                "retried": d.retried,
            }
            for d in done
        ]
    }


@router.post("/observations", response_model=ReportOut, status_code=201)
def submit_observation(
    body: SubmitObservationIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> ReportOut:
    report = do_submit_observation(
        db,
        viewer,
        report_id=resolve_id(viewer, body.id, idempotency_key, scope="intel-report"),
        observation=Observation(
            title=body.title,
            description=body.description,
            latitude=body.latitude,
            longitude=body.longitude,
            observed_at=body.observed_at,
            place=body.place,
        ),
        release_to=body.release_to,
        tlp=body.tlp,
        grade=body.grade,
        now=clock.now(),
    )
    return one_out(db, viewer, report)


@router.get("/reports/{report_id}", response_model=ReportOut)
def get_report(report_id: uuid.UUID, viewer: CurrentViewer, db: Db) -> ReportOut:
    return one_out(db, viewer, queries.get_report(db, viewer, report_id))


def sanitisation_of(body: ReleaseIn) -> stix.Sanitisation:
    return stix.Sanitisation(
        redact=frozenset(body.redact),
        grid_km=body.grid_km,
        anonymise_source=body.anonymise_source,
        drop=frozenset(body.drop),
    )


@router.post("/reports/{report_id}/releases", response_model=ReportOut, status_code=201)
def release_report(
    report_id: uuid.UUID,
    body: ReleaseIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> ReportOut:
    derived = do_release_report(
        db,
        viewer,
        release_id=resolve_id(viewer, body.id, idempotency_key, scope=f"intel-release/{report_id}"),
        report_id=report_id,
        release_to=body.release_to,
        sanitisation=sanitisation_of(body),
        tlp=body.tlp,
        now=clock.now(),
    )
    return one_out(db, viewer, derived)


@router.post("/reports/{report_id}/preview", response_model=PreviewOut)
def preview_release(
    report_id: uuid.UUID, body: ReleaseIn, viewer: CurrentViewer, db: Db, clock: AppClock
) -> PreviewOut:
    """What a release would send, side by side with the original; nothing is written."""
    original, sanitised = queries.preview_release(
        db, viewer, report_id, sanitisation_of(body), now=clock.now()
    )
    return PreviewOut(
        original=original,
        sanitised=sanitised.objects,
        changes=sanitised.changes,
        dropped=sanitised.dropped,
    )


@router.post("/reports/{report_id}/responses", response_model=ReportOut, status_code=201)
def respond(
    report_id: uuid.UUID,
    body: RespondIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> ReportOut:
    response = do_respond_to_report(
        db,
        viewer,
        response_id=resolve_id(
            viewer, body.id, idempotency_key, scope=f"intel-response/{report_id}"
        ),
        report_id=report_id,
        opinion=body.opinion,
        explanation=body.explanation,
        sighting_of=body.sighting_of,
        seen_at=body.seen_at,
        now=clock.now(),
    )
    return one_out(db, viewer, response)


@router.get("/map")
def map_layer(viewer: CurrentViewer, db: Db) -> dict[str, Any]:
    """The located objects of the reports released to the viewer (RFC 7946)."""
    return queries.map_features(db, viewer)


@router.get("/export")
def export(viewer: CurrentViewer, db: Db) -> dict[str, Any]:
    """A STIX bundle of every object version released to the viewer."""
    return queries.export_bundle(db, viewer)
