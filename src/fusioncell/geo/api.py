"""The geometry API: the version in force as RFC 7946 FeatureCollections (now, or at a past
``at``), every version with its signatures, proposals and signatures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.errors import InvalidInput, NotFound
from fusioncell.geo import queries
from fusioncell.geo.actions import do_propose_geometry_version, do_sign_geometry_version
from fusioncell.geo.models import GeometrySignature, GeometryVersion
from fusioncell.geo.schemas import (
    ProposeVersionIn,
    SignatureOut,
    SignVersionIn,
    VersionDetailOut,
    VersionOut,
    VersionStatus,
)
from fusioncell.idempotency import resolve_id
from fusioncell.web.deps import AppClock, CurrentViewer, Db

router = APIRouter(prefix="/api/v1/geo", tags=["geo"])
GEOJSON = "application/geo+json"
IdempotencyKey = Annotated[str | None, Header(max_length=200)]
At = Annotated[str | None, Query(max_length=40, json_schema_extra={"format": "date-time"})]


class GeoJsonResponse(JSONResponse):
    """So that the OpenAPI document names the media type these routes answer with."""

    media_type = GEOJSON


def instant(text: str | None) -> datetime | None:
    """An RFC 3339 time, in UTC: a number is not one (pydantic would read it as seconds
    since 1970), nor a time without its offset."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("at is an RFC 3339 time with its offset", field="at") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput("give at with its time zone", field="at")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput("at is out of range", field="at") from None


@router.get("/zones", response_class=GeoJsonResponse)
def zones(viewer: CurrentViewer, db: Db, at: At = None) -> Any:
    """The zones of the geometry version in force (at ``at``, an RFC 3339 time with its
    offset; default now) as an RFC 7946 FeatureCollection; its ``version`` member says
    which version (null before any is in force)."""
    return GeoJsonResponse(queries.list_zones(db, viewer, at=instant(at)))


@router.get("/sites", response_class=GeoJsonResponse)
def sites(viewer: CurrentViewer, db: Db, at: At = None) -> Any:
    """Protected sites of the version in force (at ``at``), as ``/zones``."""
    return GeoJsonResponse(queries.list_sites(db, viewer, at=instant(at)))


def _status(version: GeometryVersion, current: GeometryVersion | None) -> VersionStatus:
    if current is not None and version.id == current.id:
        return "in-force"
    if current is not None and version.number < current.number:
        return "superseded"
    return "awaiting-signatures"


def _signature_out(slugs: dict[uuid.UUID, str], row: GeometrySignature) -> SignatureOut:
    return SignatureOut(
        organisation=slugs[row.organisation_id],
        member=row.member_id,
        content_hash=row.content_hash,
        log_index=row.log_index,
        signed_at=row.signed_at,
    )


def _versions_out(
    db: Session, viewer: Viewer, versions: list[GeometryVersion], *, detail: bool = False
) -> list[VersionOut]:
    current = queries.version_in_force(db, viewer)
    slugs = {o.id: o.slug for o in queries.signatory_organisations(db, viewer)}
    signatures = queries.signatures_of(db, viewer, [v.id for v in versions])
    out: list[VersionOut] = []
    for version in versions:
        signed = [_signature_out(slugs, s) for s in signatures[version.id]]
        fields: dict[str, Any] = {
            "id": version.id,
            "number": version.number,
            "content_hash": version.content_hash,
            "authoritative": version.authoritative,
            "source": version.source,
            "proposed_by": version.proposed_by,
            "proposed_at": version.proposed_at,
            "log_index": version.log_index,
            "signatories": version.signatories,
            "signatures": signed,
            "awaiting": [
                s for s in version.signatories if s not in {x.organisation for x in signed}
            ],
            "in_force_from": version.in_force_from,
            "status": _status(version, current),
        }
        if detail:
            out.append(VersionDetailOut(**fields, collection=version.collection))
        else:
            out.append(VersionOut(**fields))
    return out


@router.get("/versions", response_model=list[VersionOut])
def list_versions(viewer: CurrentViewer, db: Db) -> list[VersionOut]:
    """Every geometry version, the latest first, with its signatures."""
    return _versions_out(db, viewer, list(queries.list_versions(db, viewer)))


@router.get("/versions/{version_id}", response_model=VersionDetailOut)
def get_version(version_id: uuid.UUID, viewer: CurrentViewer, db: Db) -> VersionOut:
    """One version with its whole FeatureCollection (lines, zones and sites)."""
    version = queries.get_version(db, viewer, version_id)
    if version is None:
        raise NotFound()
    return _versions_out(db, viewer, [version], detail=True)[0]


@router.post("/versions", response_model=VersionDetailOut, status_code=201)
def propose_version(
    body: ProposeVersionIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> VersionOut:
    """Propose a geometry version. It comes into force once each party's liaison officer
    and the supervisor have signed its content hash."""
    version = do_propose_geometry_version(
        db,
        viewer,
        version_id=resolve_id(viewer, body.id, idempotency_key, scope="geo-version"),
        collection=body.collection,
        authoritative=body.authoritative,
        source=body.source,
        now=clock.now(),
    )
    return _versions_out(db, viewer, [version], detail=True)[0]


@router.post("/versions/{version_id}/signatures", response_model=VersionOut, status_code=201)
def sign_version(
    version_id: uuid.UUID, body: SignVersionIn, viewer: CurrentViewer, db: Db, clock: AppClock
) -> VersionOut:
    """Sign a version's content hash for one's organisation (once: signing again returns
    the first signature)."""
    do_sign_geometry_version(
        db, viewer, version_id=version_id, content_hash=body.content_hash, now=clock.now()
    )
    version = queries.get_version(db, viewer, version_id)
    if version is None:
        raise NotFound()
    return _versions_out(db, viewer, [version])[0]
