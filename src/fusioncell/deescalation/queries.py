"""Reads of the de-escalation track, viewer first: observations released to the viewer's
organisation (the filter is in the SQL), baselines and exceptions for those they are released
to, and compliance computed from exactly those."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell.models import Organisation, OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import list_organisations
from fusioncell.deescalation import engine, inspections
from fusioncell.deescalation.models import (
    AgreedExceptionRow,
    Baseline,
    ExceptionSignature,
    Incident,
    InspectionOutcome,
    InspectionReport,
    InspectionRequest,
    ObservationRelease,
    ObservationRow,
)
from fusioncell.deescalation.policy import may_read, require
from fusioncell.deescalation.rules import DEESCALATION_RULES, DeescalationRules
from fusioncell.errors import InvalidInput
from fusioncell.geo.queries import first_version_in_force, list_zones
from fusioncell.ledger.context import ledger_context
from fusioncell.text import N_

# Who reads the track's shared objects (declarations, inspections, baselines, exceptions).
SHARED_KINDS = frozenset(
    {OrganisationKind.PARTY, OrganisationKind.SUPERVISOR, OrganisationKind.VERIFIER}
)
_BAD_SOURCE = N_("The source class is declaration, verification or report.")


@dataclass(frozen=True)
class Directory:
    """The cell's organisations, by slug and by id."""

    by_slug: dict[str, Organisation]
    by_id: dict[uuid.UUID, Organisation]

    def parties(self) -> list[str]:
        return sorted(o.slug for o in self.by_slug.values() if o.kind == OrganisationKind.PARTY)

    def shared(self) -> list[Organisation]:
        """Both parties, the supervisor and the verifier."""
        return sorted(
            (o for o in self.by_slug.values() if o.kind in SHARED_KINDS), key=lambda o: o.slug
        )

    def supervisors(self) -> list[Organisation]:
        return [o for o in self.by_slug.values() if o.kind == OrganisationKind.SUPERVISOR]


def directory(db: Session, viewer: Viewer) -> Directory:
    organisations = list_organisations(db, viewer)
    return Directory({o.slug: o for o in organisations}, {o.id: o for o in organisations})


def rules_in_force(db: Session) -> DeescalationRules:
    return ledger_context(db).rules(DEESCALATION_RULES)


# Geometries made from the zones, by the hash of the zones' JSON: preparing the zones and
# their grids takes a good part of a second, and the zones change only with a new version.
_GEOMETRIES: dict[str, engine.Geometry] = {}
_GEOMETRIES_KEPT = 4


def zones_in_force(db: Session, viewer: Viewer, *, at: datetime | None = None) -> dict[str, Any]:
    """The zones as ``GET /api/v1/geo/zones?at=`` serves them: the version in force at ``at``
    (default: now). A time before the first version came into force (the freeze's T0 comes
    before the cell signs its geometry) reads the first version: the agreement's lines are
    the only ones there are."""
    zones = list_zones(db, viewer, at=at)
    if at is not None and zones["version"] is None:
        first = first_version_in_force(db, viewer)
        if first is not None:
            zones = list_zones(db, viewer, at=first.in_force_from)
    return zones


def geometry_in_force(
    db: Session, viewer: Viewer, *, at: datetime | None = None
) -> engine.Geometry:
    """The engine's geometry of ``zones_in_force``."""
    zones = zones_in_force(db, viewer, at=at)
    key = hashlib.sha256(json.dumps(zones, sort_keys=True).encode()).hexdigest()
    found = _GEOMETRIES.get(key)
    if found is None:
        if len(_GEOMETRIES) >= _GEOMETRIES_KEPT:
            _GEOMETRIES.clear()
        found = _GEOMETRIES[key] = engine.Geometry.from_features(zones)
    return found


def list_observations(
    db: Session, viewer: Viewer, *, until: datetime | None = None
) -> Sequence[ObservationRow]:
    """Observations released to the viewer's organisation, oldest first."""
    if not may_read(viewer):
        return []
    query = (
        select(ObservationRow)
        .join(ObservationRelease, ObservationRelease.batch_id == ObservationRow.batch_id)
        .where(ObservationRelease.organisation_id == viewer.organisation_id)
    )
    if until is not None:
        query = query.where(ObservationRow.observed_at <= until)
    return db.scalars(query.order_by(ObservationRow.observed_at, ObservationRow.id)).all()


def find_own_observations(
    db: Session, author_id: uuid.UUID, feature_ids: Sequence[str]
) -> dict[str, ObservationRow]:
    """An author's observations by feature id (a retry's first result)."""
    rows = db.scalars(
        select(ObservationRow).where(
            ObservationRow.author_id == author_id, ObservationRow.feature_id.in_(feature_ids)
        )
    ).all()
    return {row.feature_id: row for row in rows}


def _reads_shared(viewer: Viewer) -> bool:
    return may_read(viewer) and viewer.organisation_kind in SHARED_KINDS


def list_baselines(db: Session, viewer: Viewer) -> Sequence[Baseline]:
    if not _reads_shared(viewer):
        return []
    return db.scalars(select(Baseline).order_by(Baseline.log_index)).all()


def get_baseline(db: Session, viewer: Viewer, baseline_id: uuid.UUID) -> Baseline | None:
    if not _reads_shared(viewer):
        return None
    return db.get(Baseline, baseline_id)


def find_own_baseline(db: Session, member_id: uuid.UUID, client_id: uuid.UUID) -> Baseline | None:
    return db.scalar(
        select(Baseline).where(Baseline.declared_by == member_id, Baseline.client_id == client_id)
    )


def baseline_id_taken(db: Session, baseline_id: uuid.UUID) -> bool:
    return db.get(Baseline, baseline_id) is not None


def list_exceptions(db: Session, viewer: Viewer) -> Sequence[AgreedExceptionRow]:
    if not _reads_shared(viewer):
        return []
    return db.scalars(select(AgreedExceptionRow).order_by(AgreedExceptionRow.log_index)).all()


def get_exception(
    db: Session, viewer: Viewer, exception_id: uuid.UUID
) -> AgreedExceptionRow | None:
    if not _reads_shared(viewer):
        return None
    return db.get(AgreedExceptionRow, exception_id)


def find_own_exception(
    db: Session, member_id: uuid.UUID, client_id: uuid.UUID
) -> AgreedExceptionRow | None:
    return db.scalar(
        select(AgreedExceptionRow).where(
            AgreedExceptionRow.proposed_by == member_id, AgreedExceptionRow.client_id == client_id
        )
    )


def exception_id_taken(db: Session, exception_id: uuid.UUID) -> bool:
    return db.get(AgreedExceptionRow, exception_id) is not None


def signatures_of(
    db: Session, exception_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The organisations that signed each exception (the exceptions come from reads above)."""
    signed: dict[uuid.UUID, set[uuid.UUID]] = {}
    if not exception_ids:
        return signed
    for row in db.scalars(
        select(ExceptionSignature).where(ExceptionSignature.exception_id.in_(exception_ids))
    ):
        signed.setdefault(row.exception_id, set()).add(row.organisation_id)
    return signed


def signatories(dir_: Directory) -> set[uuid.UUID]:
    """Whose signatures put an exception in force: every party and the supervisor."""
    return {o.id for o in dir_.by_slug.values() if o.kind == OrganisationKind.PARTY} | {
        o.id for o in dir_.supervisors()
    }


# -- compliance ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    geometry: engine.Geometry
    observations: engine.Observations
    baselines: list[engine.Baseline]
    exceptions: list[engine.AgreedException]
    rules: DeescalationRules


def engine_inputs(db: Session, viewer: Viewer, *, until: datetime | None = None) -> Inputs:
    """What the engine needs, as the viewer may read it."""
    dir_ = directory(db, viewer)
    rules = rules_in_force(db)
    rows = list_observations(db, viewer, until=until)
    slug = {o.id: o.slug for o in dir_.by_id.values()}
    observations = engine.Observations.from_rows(
        [
            engine.Observation(
                id=str(row.id),
                unit=row.unit,
                party=slug[row.party_id],
                category=row.category,
                count=row.count,
                lon=row.lon,
                lat=row.lat,
                observed_at=row.observed_at,
                source=row.source,
                reporter=slug[row.reporter_id],
                calibre_mm=row.calibre_mm,
                range_km=row.range_km,
            )
            for row in rows
        ],
        rules.categories,
    )
    baselines = [
        engine.Baseline(
            id=str(b.id),
            party=slug[b.party_id],
            at=b.at,
            counts={(h["zone"], h["category"]): int(h["count"]) for h in b.holdings},
        )
        for b in list_baselines(db, viewer)
        if b.accepted_log_index is not None
    ]
    candidates = list_exceptions(db, viewer)
    signed = signatures_of(db, [e.id for e in candidates])
    needed = signatories(dir_)
    exceptions = [
        engine.AgreedException(
            id=str(e.id),
            party=slug[e.party_id],
            zone=e.zone,
            category=e.category,
            max_count=e.max_count,
            valid_from=e.valid_from,
            valid_until=e.valid_until,
        )
        for e in candidates
        if needed <= signed.get(e.id, set())
    ]
    geometry = geometry_in_force(db, viewer, at=until)
    return Inputs(geometry, observations, baselines, exceptions, rules)


def compliance(db: Session, viewer: Viewer, *, at: datetime, source: str) -> engine.Compliance:
    """Holdings and candidates at ``at`` from the observations released to the viewer."""
    require(viewer, may_read(viewer), "this needs the permission to read the cell's traffic")
    if source not in engine.SOURCE_CLASSES:
        raise InvalidInput(_BAD_SOURCE, field="source", sources=list(engine.SOURCE_CLASSES))
    inputs = engine_inputs(db, viewer, until=at)
    return engine.compliance(
        inputs.geometry,
        inputs.observations,
        inputs.baselines,
        inputs.exceptions,
        inputs.rules,
        at=at,
        source=source,
    )


# -- inspections (R7, R12) ---------------------------------------------------------------
# Requests, reports and incidents are released to both parties, the supervisor and the
# verifier: the same readers as baselines and exceptions.


def list_inspection_requests(db: Session, viewer: Viewer) -> Sequence[InspectionRequest]:
    if not _reads_shared(viewer):
        return []
    return db.scalars(select(InspectionRequest).order_by(InspectionRequest.log_index)).all()


def get_inspection_request(
    db: Session, viewer: Viewer, request_id: uuid.UUID
) -> InspectionRequest | None:
    if not _reads_shared(viewer):
        return None
    return db.get(InspectionRequest, request_id)


def find_own_inspection_request(
    db: Session, member_id: uuid.UUID, client_id: uuid.UUID
) -> InspectionRequest | None:
    return db.scalar(
        select(InspectionRequest).where(
            InspectionRequest.requested_by == member_id, InspectionRequest.client_id == client_id
        )
    )


def inspection_request_id_taken(db: Session, request_id: uuid.UUID) -> bool:
    return db.get(InspectionRequest, request_id) is not None


def list_inspection_reports(db: Session, viewer: Viewer) -> Sequence[InspectionReport]:
    if not _reads_shared(viewer):
        return []
    return db.scalars(
        select(InspectionReport).order_by(InspectionReport.inspected_at, InspectionReport.log_index)
    ).all()


def find_own_inspection_report(
    db: Session, member_id: uuid.UUID, client_id: uuid.UUID
) -> InspectionReport | None:
    return db.scalar(
        select(InspectionReport).where(
            InspectionReport.reported_by == member_id, InspectionReport.client_id == client_id
        )
    )


def inspection_report_id_taken(db: Session, report_id: uuid.UUID) -> bool:
    return db.get(InspectionReport, report_id) is not None


def report_carrying_out(db: Session, request_id: uuid.UUID) -> InspectionReport | None:
    """The report that carried out a request (the request comes from a read above)."""
    return db.scalar(select(InspectionReport).where(InspectionReport.request_id == request_id))


def observations_of_batch(db: Session, batch_id: uuid.UUID) -> Sequence[ObservationRow]:
    """A batch's observations (the batch comes from a read above): an inspection's counts."""
    return db.scalars(
        select(ObservationRow)
        .where(ObservationRow.batch_id == batch_id)
        .order_by(ObservationRow.feature_id)
    ).all()


def counted_holdings(
    db: Session, viewer: Viewer, batch_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ObservationRow]]:
    """The observations of each batch released to the viewer's organisation."""
    found: dict[uuid.UUID, list[ObservationRow]] = {}
    if not batch_ids or not may_read(viewer):
        return found
    rows = db.scalars(
        select(ObservationRow)
        .join(ObservationRelease, ObservationRelease.batch_id == ObservationRow.batch_id)
        .where(
            ObservationRelease.organisation_id == viewer.organisation_id,
            ObservationRow.batch_id.in_(batch_ids),
        )
        .order_by(ObservationRow.feature_id)
    )
    for row in rows:
        found.setdefault(row.batch_id, []).append(row)
    return found


def list_incidents(db: Session, viewer: Viewer) -> Sequence[Incident]:
    if not _reads_shared(viewer):
        return []
    return db.scalars(select(Incident).order_by(Incident.occurred_at, Incident.log_index)).all()


def incidents_of_reports(db: Session, report_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Incident]:
    """The incident each report recorded, if any (the reports come from a read above)."""
    if not report_ids:
        return {}
    return {
        row.report_id: row
        for row in db.scalars(select(Incident).where(Incident.report_id.in_(report_ids)))
    }


@dataclass(frozen=True)
class InspectionOverview:
    """What the inspections page and ``GET /api/v1/deescalation/inspections`` show."""

    schedule: list[inspections.Due]
    requests: list[tuple[InspectionRequest, inspections.RequestState, InspectionReport | None]]
    reports: list[InspectionReport]
    incidents: dict[uuid.UUID, Incident]  # by report
    directory: Directory


def inspection_overview(db: Session, viewer: Viewer, *, now: datetime) -> InspectionOverview:
    """The schedule of every zone and side at ``now``, the requests with where each stands,
    and the reports, all as the viewer may read them."""
    require(viewer, may_read(viewer), "this needs the permission to read the de-escalation track")
    rules = rules_in_force(db)
    reports = list(list_inspection_reports(db, viewer))
    done = [
        inspections.Done(r.zone, r.side, r.inspected_at)
        for r in reports
        if r.outcome == InspectionOutcome.COMPLETED
    ]
    schedule = (
        inspections.schedule(
            inspections.items_of(geometry_in_force(db, viewer)),
            done,
            since=rules.freeze_at,
            interval=rules.inspection_interval,
            now=now,
        )
        if _reads_shared(viewer)
        else []
    )
    by_request = {r.request_id: r for r in reports if r.request_id is not None}
    requests = []
    for request in list_inspection_requests(db, viewer):
        report = by_request.get(request.id)
        state = inspections.request_state(
            request.due_at,
            outcome=report.outcome if report else None,
            inspected_at=report.inspected_at if report else None,
            now=now,
        )
        requests.append((request, state, report))
    return InspectionOverview(
        schedule=schedule,
        requests=requests,
        reports=reports,
        incidents=incidents_of_reports(db, [r.id for r in reports]),
        directory=directory(db, viewer),
    )


def list_open_inspection_requests(
    db: Session, viewer: Viewer, *, limit: int
) -> Sequence[InspectionRequest]:
    """The requests no report has carried out yet, soonest due first: what the verifier's
    organisation owes (one statement)."""
    if not _reads_shared(viewer) or viewer.organisation_kind != OrganisationKind.VERIFIER:
        return []
    return db.scalars(
        select(InspectionRequest)
        .outerjoin(InspectionReport, InspectionReport.request_id == InspectionRequest.id)
        .where(InspectionReport.id.is_(None))
        .order_by(InspectionRequest.due_at, InspectionRequest.log_index)
        .limit(limit)
    ).all()
