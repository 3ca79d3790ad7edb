"""A proposed geometry version, checked and completed before anything is written.

The proposer sends an RFC 7946 FeatureCollection of what the parties agree on in words: the
area of separation (one Polygon), each party's line (a LineString along the area's edge, the
very vertices of its ring), sectors (Polygons) and protected sites (Points). The limitation
areas are not sent: they are derived from the area of separation and the lines, as they
always were (``geo.derive``), and become part of the version, so that what the signatories
sign is exactly what the cell serves.

Every refusal names the feature and says why; RFC 7946's own rules come first (longitude
first, rings closed, no self-intersection), then the map's extent, which is where a latitude
given first ends up.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.errors import ShapelyError
from shapely.geometry import Polygon, shape
from shapely.geometry.base import BaseGeometry

from fusioncell.errors import InvalidInput
from fusioncell.geo.derive import COORDINATE_DECIMALS, derive_limitation_areas, feature
from fusioncell.geo.kinds import ZONE_KINDS, FeatureKind
from fusioncell.ledger.entries import canonical
from fusioncell.text import N_

# The map's region (west, south, east, north): the basemap is clipped to it
# (scripts/build_static.py's CLIP_BBOX) and the map page opens on it. No agreed line lies
# outside what the map can show.
MAP_EXTENT = (33.5, 31.0, 38.5, 35.5)
MAX_FEATURES = 500
MAX_NAME_CHARS = 200
MAX_SOURCE_CHARS = 2000
FEATURE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# What a proposer sends; limitation areas are derived.
GIVEN_KINDS = {
    FeatureKind.SEPARATION: frozenset({"Polygon"}),
    FeatureKind.LINE: frozenset({"LineString"}),
    FeatureKind.SECTOR: frozenset({"Polygon", "MultiPolygon"}),
    FeatureKind.PROTECTED_SITE: frozenset({"Point"}),
}

NOT_COLLECTION = N_("Send the geometry as an RFC 7946 FeatureCollection.")
TOO_MANY = N_("A geometry version holds at most 500 features.")
NOT_FEATURE = N_(
    "Each feature is an RFC 7946 Feature with an id of lowercase letters, digits and hyphens."
)
DUPLICATE = N_("Two features have the same id.")
BAD_KIND = N_("A feature's kind is separation, line, sector or protected_site.")
DERIVED = N_("The areas of limitation are derived from the area of separation: do not send them.")
BAD_NAME = N_("Each feature has a name of at most 200 characters.")
WRONG_TYPE = N_("This kind of feature needs another geometry type.")
BAD_POSITION = N_("A position is [longitude, latitude], two or three numbers.")
OUT_OF_RANGE = N_("Coordinates are longitude then latitude, in degrees (RFC 7946).")
OUT_OF_EXTENT = N_("The geometry lies outside the map's extent: longitude comes first in RFC 7946.")
UNCLOSED = N_("A polygon's ring must be closed: its last position repeats its first.")
SHORT_RING = N_("A polygon's ring has at least four positions.")
SHORT_LINE = N_("A line has at least two positions.")
INVALID = N_("The geometry is not valid: it crosses itself or is empty.")
ONE_SEPARATION = N_("A geometry version has exactly one area of separation.")
NO_HOLES = N_("The area of separation is one ring, without holes.")
TWO_LINES = N_("A geometry version has exactly two lines, one for each party.")
BAD_SIDE = N_("A feature's side names a party of the cell.")
LINE_OFF_RING = N_("Each line runs along the area of separation's edge, through its vertices.")
NOT_DERIVABLE = N_("The areas of limitation cannot be derived from these lines.")
BAD_SOURCE = N_("Say where the geometry comes from: a source text of 1 to 2000 characters.")

LonLat = tuple[float, float]


@dataclass(frozen=True)
class Given:
    id: str
    kind: FeatureKind
    name: str
    side: str | None
    geometry: BaseGeometry


def check_source(source: object) -> str:
    if not isinstance(source, str) or not source.strip() or len(source) > MAX_SOURCE_CHARS:
        raise InvalidInput(BAD_SOURCE, field="source", limit=MAX_SOURCE_CHARS)
    return source


def build_collection(given: Any, *, parties: Sequence[str], authoritative: bool) -> dict[str, Any]:
    """The version's whole FeatureCollection: the given features checked, rounded to
    ``COORDINATE_DECIMALS`` and wound as RFC 7946 says, and the limitation areas derived,
    in the order the zones are listed (by kind, then id)."""
    features = _given_features(given, parties)
    separation, lines = _separation_and_lines(features)
    west, east = sorted(lines, key=lambda line: _mean_longitude(line.geometry))
    try:
        derived = derive_limitation_areas(
            separation,
            west_line=list(west.geometry.coords),
            east_line=list(east.geometry.coords),
            west_side=str(west.side),
            east_side=str(east.side),
        )
    except (ValueError, ShapelyError) as exc:
        raise InvalidInput(NOT_DERIVABLE, field="features", reason=str(exc)) from None
    # Lines that bound the area oddly can leave a side with no band, or a band that rounding
    # broke: the engine measures every holding against every zone, so each must be a zone.
    for zone in derived:
        if zone.geometry.is_empty or not zone.geometry.is_valid:
            raise InvalidInput(NOT_DERIVABLE, field="features", zone=zone.id)
    out = [
        feature(f.geometry, _properties(f.id, f.kind, f.side, f.name, None, authoritative))
        for f in features
    ]
    taken = {f.id for f in features}
    for zone in derived:
        if zone.id in taken:
            raise InvalidInput(DUPLICATE, field="id", feature=zone.id)
        name = f"Area of limitation {zone.band} km ({zone.side})"
        out.append(
            feature(
                zone.geometry,
                _properties(zone.id, zone.kind, zone.side, name, zone.band, authoritative),
            )
        )
    out.sort(key=lambda f: (f["properties"]["kind"], f["id"]))
    return {"type": "FeatureCollection", "features": out}


def content_hash(collection: Mapping[str, Any], *, authoritative: bool, source: str) -> str:
    """What a signatory signs: SHA-256 of the RFC 8785 canonical JSON of the version."""
    content = {"authoritative": authoritative, "collection": collection, "source": source}
    return hashlib.sha256(canonical(content)).hexdigest()


def zones_of(collection: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [f for f in collection["features"] if f["properties"]["kind"] in ZONE_KINDS]


def sites_of(collection: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        f for f in collection["features"] if f["properties"]["kind"] == FeatureKind.PROTECTED_SITE
    ]


def lines_of(collection: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [f for f in collection["features"] if f["properties"]["kind"] == FeatureKind.LINE]


# -- the given features ------------------------------------------------------------------


def _properties(
    id: str,
    kind: FeatureKind,
    side: str | None,
    name: str,
    band: str | None,
    authoritative: bool,
) -> dict[str, Any]:
    # Every feature has the same keys, as the zones were always served.
    return {
        "id": id,
        "kind": kind.value,
        "side": side,
        "band": band,
        "name": name,
        "authoritative": authoritative,
    }


def _given_features(given: Any, parties: Sequence[str]) -> list[Given]:
    if (
        not isinstance(given, Mapping)
        or given.get("type") != "FeatureCollection"
        or not isinstance(given.get("features"), list)
    ):
        raise InvalidInput(NOT_COLLECTION, field="collection")
    raw = given["features"]
    if len(raw) > MAX_FEATURES:
        raise InvalidInput(TOO_MANY, field="features", limit=MAX_FEATURES)
    seen: set[str] = set()
    features = []
    for number, item in enumerate(raw):
        parsed = _given_feature(item, number, parties)
        if parsed.id in seen:
            raise InvalidInput(DUPLICATE, field="id", feature=parsed.id)
        seen.add(parsed.id)
        features.append(parsed)
    return features


def _given_feature(item: Any, number: int, parties: Sequence[str]) -> Given:
    if not isinstance(item, Mapping) or item.get("type") != "Feature":
        raise InvalidInput(NOT_FEATURE, field="features", index=number)
    fid = item.get("id")
    props = item.get("properties")
    if not isinstance(fid, str) or not FEATURE_ID.match(fid) or not isinstance(props, Mapping):
        raise InvalidInput(NOT_FEATURE, field="id", index=number)
    where = {"feature": fid}
    if props.get("id", fid) != fid:
        raise InvalidInput(NOT_FEATURE, field="properties.id", **where)
    kind_text = props.get("kind")
    if kind_text == FeatureKind.LIMITATION:
        raise InvalidInput(DERIVED, field="properties.kind", **where)
    try:
        kind = FeatureKind(str(kind_text))
    except ValueError:
        raise InvalidInput(BAD_KIND, field="properties.kind", **where) from None
    name = props.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
        raise InvalidInput(BAD_NAME, field="properties.name", limit=MAX_NAME_CHARS, **where)
    side = props.get("side")
    needs_side = kind is FeatureKind.LINE
    if (side is None and needs_side) or (side is not None and side not in parties):
        raise InvalidInput(BAD_SIDE, field="properties.side", parties=list(parties), **where)
    geometry = _geometry(item.get("geometry"), GIVEN_KINDS[kind], where)
    return Given(fid, kind, name, side, geometry)


def _geometry(value: Any, types: frozenset[str], where: dict[str, str]) -> BaseGeometry:
    if not isinstance(value, Mapping) or value.get("type") not in types:
        raise InvalidInput(WRONG_TYPE, field="geometry", types=sorted(types), **where)
    kind = value["type"]
    coordinates = value.get("coordinates")
    if kind == "Point":
        rounded: Any = _position(coordinates, where)
    elif kind == "LineString":
        rounded = _line(coordinates, where)
    elif kind == "Polygon":
        rounded = _polygon(coordinates, where)
    else:
        if not isinstance(coordinates, list) or not coordinates:
            raise InvalidInput(INVALID, field="geometry", **where)
        rounded = [_polygon(polygon, where) for polygon in coordinates]
    try:
        parsed = shape({"type": kind, "coordinates": rounded})
    except (TypeError, ValueError, AttributeError, ShapelyError):
        raise InvalidInput(INVALID, field="geometry", **where) from None
    if parsed.is_empty or not parsed.is_valid:
        reason = shapely.is_valid_reason(parsed)
        raise InvalidInput(INVALID, field="geometry", reason=reason, **where)
    return parsed


def _position(value: Any, where: dict[str, str]) -> list[float]:
    if (
        not isinstance(value, list)
        or len(value) not in (2, 3)
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        or not all(math.isfinite(v) for v in value)
    ):
        raise InvalidInput(BAD_POSITION, field="geometry", **where)
    lon, lat = float(value[0]), float(value[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(OUT_OF_RANGE, field="geometry", position=[lon, lat], **where)
    west, south, east, north = MAP_EXTENT
    if not (west <= lon <= east and south <= lat <= north):
        raise InvalidInput(
            OUT_OF_EXTENT,
            field="geometry",
            position=[lon, lat],
            extent=list(MAP_EXTENT),
            **where,
        )
    # Two dimensions: the zones are drawn on the ground; an altitude would not change them.
    return [round(lon, COORDINATE_DECIMALS), round(lat, COORDINATE_DECIMALS)]


def _positions(value: Any, where: dict[str, str]) -> list[list[float]]:
    if not isinstance(value, list):
        raise InvalidInput(BAD_POSITION, field="geometry", **where)
    return [_position(p, where) for p in value]


def _line(value: Any, where: dict[str, str]) -> list[list[float]]:
    positions = _positions(value, where)
    if len(positions) < 2:
        raise InvalidInput(SHORT_LINE, field="geometry", **where)
    return positions


def _polygon(value: Any, where: dict[str, str]) -> list[list[list[float]]]:
    if not isinstance(value, list) or not value:
        raise InvalidInput(INVALID, field="geometry", **where)
    rings = []
    for ring in value:
        positions = _positions(ring, where)
        if len(positions) < 4:
            raise InvalidInput(SHORT_RING, field="geometry", **where)
        if positions[0] != positions[-1]:
            raise InvalidInput(UNCLOSED, field="geometry", **where)
        rings.append(positions)
    return rings


# -- the area of separation and its lines ------------------------------------------------


def _separation_and_lines(features: list[Given]) -> tuple[Polygon, list[Given]]:
    separations = [f for f in features if f.kind is FeatureKind.SEPARATION]
    if len(separations) != 1:
        raise InvalidInput(ONE_SEPARATION, field="features", found=len(separations))
    separation = separations[0].geometry
    assert isinstance(separation, Polygon)  # GIVEN_KINDS
    if len(separation.interiors) > 0:
        raise InvalidInput(NO_HOLES, field="geometry", feature=separations[0].id)
    lines = [f for f in features if f.kind is FeatureKind.LINE]
    if len(lines) != 2 or lines[0].side == lines[1].side:
        raise InvalidInput(TWO_LINES, field="features", found=len(lines))
    ring = [(x, y) for x, y in separation.exterior.coords[:-1]]
    used: set[LonLat] = set()
    for line in lines:
        points = [(x, y) for x, y in line.geometry.coords]
        if not _runs_along(points, ring) or used & set(points):
            raise InvalidInput(LINE_OFF_RING, field="geometry", feature=line.id)
        used |= set(points)
    return separation, lines


def _runs_along(points: list[LonLat], ring: list[LonLat]) -> bool:
    """Whether ``points`` are consecutive vertices of the closed ``ring``, either way round."""
    if len(set(points)) != len(points) or points[0] not in ring:
        return False
    start, size = ring.index(points[0]), len(ring)
    return any(
        all(ring[(start + step * i) % size] == p for i, p in enumerate(points)) for step in (1, -1)
    )


def _mean_longitude(geometry: BaseGeometry) -> float:
    longitudes = [float(x) for x, _ in geometry.coords]
    return sum(longitudes) / len(longitudes)
