"""A notification's geometry checked before anything is written: an RFC 7946 Point,
LineString (a route) or Polygon (an area) in WGS 84 longitude and latitude, valid, within the
rules' size; a movement's is its route, so a LineString."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from shapely.geometry import shape
from shapely.validation import explain_validity

from fusioncell.deconfliction.models import NotificationKind
from fusioncell.deconfliction.rules import DeconflictionRules
from fusioncell.errors import InvalidInput
from fusioncell.text import N_

TYPES = ("Point", "LineString", "Polygon")
# What each kind may be drawn as.
ALLOWED: dict[str, tuple[str, ...]] = {
    NotificationKind.ACTIVITY: TYPES,
    NotificationKind.MOVEMENT: ("LineString",),
    NotificationKind.SITE: ("Point", "Polygon"),
    NotificationKind.EMERGENCY: TYPES,
}

_NOT_GEOMETRY = N_("The geometry is an RFC 7946 Point, LineString or Polygon.")
_BAD_POSITION = N_("Each position is a longitude from -180 to 180 and a latitude from -90 to 90.")
_TOO_MANY = N_("The geometry may have at most %(limit)s positions.")
_SHORT_LINE = N_("A route has at least two different positions.")
_BAD_RING = N_("A polygon's rings are closed, with at least four positions.")
_INVALID = N_("The geometry is not valid: %(reason)s.")
_ROUTE = N_("A movement's route is a LineString.")
_SITE = N_("A static site is a Point or a Polygon.")


def _position(value: Any) -> list[float]:
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise InvalidInput(_BAD_POSITION, field="geometry")
    numbers = []
    for item in value[:2]:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise InvalidInput(_BAD_POSITION, field="geometry")
        numbers.append(float(item))
    lon, lat = numbers
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(_BAD_POSITION, field="geometry")
    return [lon, lat]


def _positions(value: Any, limit: int) -> list[list[float]]:
    if not isinstance(value, list) or len(value) > limit:
        raise InvalidInput(N_(_TOO_MANY, limit=limit), field="geometry", limit=limit)
    return [_position(item) for item in value]


def check_geometry(raw: Any, kind: str, rules: DeconflictionRules) -> dict[str, Any]:
    """The geometry as it will be stored and signed (positions as [lon, lat] floats), or
    ``InvalidInput`` naming what is wrong."""
    if not isinstance(raw, Mapping) or raw.get("type") not in TYPES:
        raise InvalidInput(_NOT_GEOMETRY, field="geometry")
    kind_of = str(raw["type"])
    if kind_of not in ALLOWED.get(kind, TYPES):
        raise InvalidInput(
            _ROUTE if kind == NotificationKind.MOVEMENT else _SITE,
            field="geometry",
            allowed=list(ALLOWED[kind]),
        )
    coordinates = raw.get("coordinates")
    limit = rules.max_vertices
    if kind_of == "Point":
        checked: Any = _position(coordinates)
    elif kind_of == "LineString":
        checked = _positions(coordinates, limit)
        if len({tuple(p) for p in checked}) < 2:
            raise InvalidInput(_SHORT_LINE, field="geometry")
    else:
        if not isinstance(coordinates, list) or not coordinates:
            raise InvalidInput(_BAD_RING, field="geometry")
        checked = []
        for ring in coordinates:
            positions = _positions(ring, limit)
            if len(positions) < 4 or positions[0] != positions[-1]:
                raise InvalidInput(_BAD_RING, field="geometry")
            checked.append(positions)
        if sum(len(r) for r in checked) > limit:
            raise InvalidInput(N_(_TOO_MANY, limit=limit), field="geometry", limit=limit)
    geometry = {"type": kind_of, "coordinates": checked}
    parsed = shape(geometry)
    if not parsed.is_valid:
        reason = explain_validity(parsed)
        raise InvalidInput(N_(_INVALID, reason=reason), field="geometry")
    return geometry
