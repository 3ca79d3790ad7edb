from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.errors import ShapelyError
from shapely.geometry import shape
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Permission, Viewer, author_of, require
from fusioncell.db.transaction import atomic
from fusioncell.errors import IdempotencyConflict, InvalidInput
from fusioncell.geo.entries import GeoEntry
from fusioncell.geo.models import FeatureKind, GeoFeature
from fusioncell.ledger.entries import EVERYONE
from fusioncell.ledger.record import record

# RFC 7946 section 3.1. shapely's ``shape`` also unwraps a Feature, which must not be
# stored as a geometry, and raises its own error for an unknown type.
GEOMETRY_TYPES = frozenset(
    {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)


def _check_geometry(geometry: dict[str, Any], kind: FeatureKind) -> None:
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        raise InvalidInput("not a GeoJSON geometry object")
    try:
        parsed = shape(geometry)
    except (KeyError, TypeError, ValueError, AttributeError, ShapelyError) as exc:
        raise InvalidInput(f"not a GeoJSON geometry: {exc}") from None
    if not parsed.is_valid or parsed.is_empty:
        raise InvalidInput("the geometry is empty or invalid")
    wanted = "Point" if kind is FeatureKind.PROTECTED_SITE else "Polygon"
    if parsed.geom_type not in {wanted, f"Multi{wanted}"}:
        raise InvalidInput(f"a {kind.value} needs a {wanted} geometry")
    minx, miny, maxx, maxy = parsed.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidInput("coordinates must be longitude, latitude in degrees")


def do_define_geo_feature(
    db: Session,
    actor: Viewer,
    *,
    feature_id: str,
    kind: FeatureKind,
    name: str,
    geometry: dict[str, Any],
    side: str | None,
    band: str | None,
    authoritative: bool,
    now: datetime,
) -> GeoFeature:
    """Define a zone or site: the chair or the operator, until agreements manage geometry."""
    require(actor, Permission.GEO_FEATURE_DEFINE)
    _check_geometry(geometry, kind)
    with atomic(db):
        if (earlier := db.get(GeoFeature, feature_id)) is not None:
            given = (kind.value, geometry, name, side, band, authoritative)
            stored = (
                earlier.kind,
                earlier.geometry,
                earlier.name,
                earlier.side,
                earlier.band,
                earlier.authoritative,
            )
            if stored != given:
                raise IdempotencyConflict(feature_id=feature_id)
            return earlier
        feature = GeoFeature(
            id=feature_id,
            kind=kind.value,
            name=name,
            geometry=geometry,
            side=side,
            band=band,
            authoritative=authoritative,
            created_at=now,
        )
        db.add(feature)
        record(
            db,
            author_of(actor),
            GeoEntry.GEO_FEATURE_DEFINED,
            {
                "id": feature_id,
                "kind": kind.value,
                "name": name,
                "geometry": geometry,
                "side": side,
                "band": band,
                "authoritative": authoritative,
            },
            audience=EVERYONE,
            now=now,
        )
    return feature
