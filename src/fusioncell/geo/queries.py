"""Reads of the cell's geography as RFC 7946 FeatureCollections."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Permission, Viewer, require
from fusioncell.geo.models import ZONE_KINDS, FeatureKind, GeoFeature


def _as_feature(row: GeoFeature) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": row.geometry,
        "properties": {
            "id": row.id,
            "kind": row.kind,
            "side": row.side,
            "band": row.band,
            "name": row.name,
            "authoritative": row.authoritative,
        },
    }


def _collection(rows: list[GeoFeature]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [_as_feature(row) for row in rows]}


def list_zones(db: Session, viewer: Viewer) -> dict[str, Any]:
    require(viewer, Permission.GEO_FEATURE_READ)
    rows = db.scalars(
        select(GeoFeature)
        .where(GeoFeature.kind.in_([kind.value for kind in ZONE_KINDS]))
        .order_by(GeoFeature.kind, GeoFeature.id)
    ).all()
    return _collection(list(rows))


def list_sites(db: Session, viewer: Viewer) -> dict[str, Any]:
    require(viewer, Permission.GEO_FEATURE_READ)
    rows = db.scalars(
        select(GeoFeature)
        .where(GeoFeature.kind == FeatureKind.PROTECTED_SITE.value)
        .order_by(GeoFeature.id)
    ).all()
    return _collection(list(rows))


def map_layers(viewer: Viewer) -> dict[str, str]:
    """Where the map page loads its layers from; refused (403) to whoever may not read the
    cell's geometry, so the page is refused as its data would be."""
    require(viewer, Permission.GEO_FEATURE_READ)
    return {"zones": "/api/v1/geo/zones", "sites": "/api/v1/geo/sites"}
