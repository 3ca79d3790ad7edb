"""Reads of the cell's geography: the version in force (now, or at a past time) as RFC 7946
FeatureCollections, and every version with its signatures. The geometry is shared with every
member of the cell; reading it needs ``Permission.GEO_FEATURE_READ``.

The version in force at a time T is the one whose last needed signature came latest at or
before T (``in_force_from``, the log time of that signature): derivable from the log alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fusioncell.cell.models import Organisation
from fusioncell.cell.policy import Permission, Viewer, require
from fusioncell.cell.queries import list_organisations
from fusioncell.geo.collection import sites_of, zones_of
from fusioncell.geo.models import GeometrySignature, GeometryVersion
from fusioncell.geo.policy import SIGNATORY_KINDS
from fusioncell.ledger.entries import log_time


def version_in_force(
    db: Session, viewer: Viewer, *, at: datetime | None = None
) -> GeometryVersion | None:
    require(viewer, Permission.GEO_FEATURE_READ)
    query = select(GeometryVersion).where(GeometryVersion.in_force_log_index.is_not(None))
    if at is not None:
        query = query.where(GeometryVersion.in_force_from <= at)
    return db.scalar(query.order_by(GeometryVersion.in_force_log_index.desc()).limit(1))


def first_version_in_force(db: Session, viewer: Viewer) -> GeometryVersion | None:
    """The first version that came into force: the agreement's lines before it did."""
    require(viewer, Permission.GEO_FEATURE_READ)
    query = select(GeometryVersion).where(GeometryVersion.in_force_log_index.is_not(None))
    return db.scalar(query.order_by(GeometryVersion.in_force_log_index).limit(1))


def version_summary(version: GeometryVersion | None) -> dict[str, Any] | None:
    """The ``version`` member of the zones and sites: which version they are."""
    if version is None:
        return None
    assert version.in_force_from is not None
    return {
        "id": str(version.id),
        "number": version.number,
        "content_hash": version.content_hash,
        "authoritative": version.authoritative,
        "in_force_from": log_time(version.in_force_from),
    }


def _served(version: GeometryVersion | None, features: list[dict[str, Any]]) -> dict[str, Any]:
    # ``version`` is a foreign member (RFC 7946 section 6.1).
    return {"type": "FeatureCollection", "version": version_summary(version), "features": features}


def list_zones(db: Session, viewer: Viewer, *, at: datetime | None = None) -> dict[str, Any]:
    """The zones of the version in force at ``at`` (default: now); none before the first."""
    version = version_in_force(db, viewer, at=at)
    return _served(version, zones_of(version.collection) if version is not None else [])


def list_sites(db: Session, viewer: Viewer, *, at: datetime | None = None) -> dict[str, Any]:
    """The protected sites of the version in force at ``at`` (default: now)."""
    version = version_in_force(db, viewer, at=at)
    return _served(version, sites_of(version.collection) if version is not None else [])


def list_versions(db: Session, viewer: Viewer) -> Sequence[GeometryVersion]:
    """Every version ever proposed, the latest first."""
    require(viewer, Permission.GEO_FEATURE_READ)
    return db.scalars(select(GeometryVersion).order_by(GeometryVersion.number.desc())).all()


def get_version(db: Session, viewer: Viewer, version_id: uuid.UUID) -> GeometryVersion | None:
    require(viewer, Permission.GEO_FEATURE_READ)
    return db.get(GeometryVersion, version_id)


def signatures_of(
    db: Session, viewer: Viewer, version_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[GeometrySignature]]:
    """Each version's signatures, in the order they were logged."""
    require(viewer, Permission.GEO_FEATURE_READ)
    signed: dict[uuid.UUID, list[GeometrySignature]] = {v: [] for v in version_ids}
    if not version_ids:
        return signed
    for row in db.scalars(
        select(GeometrySignature)
        .where(GeometrySignature.version_id.in_(version_ids))
        .order_by(GeometrySignature.log_index)
    ):
        signed[row.version_id].append(row)
    return signed


def signatory_organisations(db: Session, viewer: Viewer) -> list[Organisation]:
    """Each party and the supervisor: whose signatures put a version in force."""
    return [o for o in list_organisations(db, viewer) if o.kind in SIGNATORY_KINDS]


def find_own_version(
    db: Session, member_id: uuid.UUID | None, client_id: uuid.UUID
) -> GeometryVersion | None:
    """A proposer's version by the id the client chose (a retry's first result)."""
    proposer = (
        GeometryVersion.proposed_by.is_(None)
        if member_id is None
        else GeometryVersion.proposed_by == member_id
    )
    return db.scalar(
        select(GeometryVersion).where(proposer, GeometryVersion.client_id == client_id)
    )


def version_id_taken(db: Session, version_id: uuid.UUID) -> bool:
    return db.get(GeometryVersion, version_id) is not None


def next_version_number(db: Session) -> int:
    """Called after the proposal's entry is appended, under the log's lock: numbers follow
    the log's order."""
    return int(db.scalar(select(func.coalesce(func.max(GeometryVersion.number), 0))) or 0) + 1


def map_layers(viewer: Viewer) -> dict[str, str]:
    """Where the map page loads its layers from; refused (403) to whoever may not read the
    cell's geometry, so the page is refused as its data would be."""
    require(viewer, Permission.GEO_FEATURE_READ)
    return {"zones": "/api/v1/geo/zones", "sites": "/api/v1/geo/sites"}
