"""A project's locations checked before anything is written: each a name and an RFC 7946
geometry in WGS 84 longitude and latitude (a Point, a LineString, a Polygon, or their Multi
forms), valid, within the rules' number of positions."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import shapely
from shapely.errors import GEOSException
from shapely.geometry import mapping, shape
from shapely.validation import explain_validity

from fusioncell.errors import InvalidInput
from fusioncell.text import N_

# How deep each type nests its positions (RFC 7946, section 3.1).
DEPTHS = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}
TYPES = tuple(DEPTHS)

_NOT_GEOMETRY = N_("Location %(position)s is not an RFC 7946 geometry.")
_BAD_POSITION = N_(
    "Location %(position)s has a position outside longitude -180 to 180, latitude -90 to 90."
)
_TOO_MANY = N_("Location %(position)s has more than %(limit)s positions.")
_INVALID = N_("Location %(position)s is not a valid geometry: %(reason)s.")


def _well_formed(value: Any, depth: int) -> bool:
    """Positions (two or three numbers, never booleans) nested exactly ``depth`` lists deep."""
    if not isinstance(value, list):
        return False
    if depth == 0:
        return len(value) in (2, 3) and all(
            isinstance(n, int | float) and not isinstance(n, bool) for n in value
        )
    return bool(value) and all(_well_formed(item, depth - 1) for item in value)


def check_geometry(raw: Any, *, position: int, max_vertices: int) -> dict[str, Any]:
    """The geometry as it will be stored and signed, or ``InvalidInput`` naming what is
    wrong and where."""
    where = {"field": "locations", "position": position}
    if not isinstance(raw, Mapping) or raw.get("type") not in TYPES:
        raise InvalidInput(N_(_NOT_GEOMETRY, position=position), **where)
    if not _well_formed(raw.get("coordinates"), DEPTHS[str(raw["type"])]):
        raise InvalidInput(N_(_NOT_GEOMETRY, position=position), **where)
    try:
        parsed = shape({"type": raw["type"], "coordinates": raw["coordinates"]})
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, GEOSException):
        raise InvalidInput(N_(_NOT_GEOMETRY, position=position), **where) from None
    if parsed.is_empty:
        raise InvalidInput(N_(_NOT_GEOMETRY, position=position), **where)
    if shapely.get_num_coordinates(parsed) > max_vertices:
        raise InvalidInput(
            N_(_TOO_MANY, position=position, limit=max_vertices), limit=max_vertices, **where
        )
    west, south, east, north = parsed.bounds
    if not all(math.isfinite(v) for v in parsed.bounds) or not (
        -180 <= west <= east <= 180 and -90 <= south <= north <= 90
    ):
        raise InvalidInput(N_(_BAD_POSITION, position=position), **where)
    if not parsed.is_valid:
        reason = explain_validity(parsed)
        raise InvalidInput(N_(_INVALID, position=position, reason=reason), **where)
    # Tuples to lists, as the entry's JSON spells them.
    checked: dict[str, Any] = json.loads(json.dumps(mapping(parsed)))
    return checked
