"""Reading an RFC 7946 FeatureCollection of observations, refusing what the cell would not
store: every problem names the feature and the field, and nothing is written.

The geometry is a Point, longitude first (RFC 7946 section 3.1.1). A point that lies in no
zone and outside the map's extent (the zones' bounds grown by ``EXTENT_MARGIN_DEG``) is
refused: a latitude and longitude given the wrong way round lands there, far from the area.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fusioncell.deescalation.models import Source
from fusioncell.errors import InvalidInput
from fusioncell.ledger.entries import log_time
from fusioncell.text import N_

MAX_FEATURES = 10_000
MAX_ID_CHARS = 100
# About 50 km around the zones: the map's extent, beyond which no observation is plausible.
EXTENT_MARGIN_DEG = 0.5
GRADE = re.compile(r"^[A-F][1-6]$")
SOURCES = tuple(s.value for s in Source)

_NOT_COLLECTION = N_("Send an RFC 7946 FeatureCollection of observations.")
_TOO_MANY = N_("A collection holds at most 10,000 observations.")
_NOT_FEATURE = N_("Each observation is an RFC 7946 Feature with an id.")
_DUPLICATE = N_("Two features in the collection have the same id.")
_NOT_POINT = N_("An observation's geometry is a Point: [longitude, latitude].")
_OUT_OF_EXTENT = N_("The point lies outside the map's extent: longitude comes first in RFC 7946.")
_BAD_FIELD = N_("An observation's property is missing or invalid.")
_BAD_CATEGORY = N_("The category is not one the rules know.")
_BAD_COUNT = N_("The count is a whole number, at least 0.")
_BAD_SOURCE = N_("The source is declaration, inspection, sensor or report.")
_ONE_SOURCE = N_("Every observation in a collection has the same source.")
_GRADE = N_("A report is graded A-F for its source and 1-6 for its information, as B2.")
_NO_GRADE = N_("Only a report carries a grade.")
_TIME_ZONE = N_("Give observed_at with its time zone.")
_IN_FUTURE = N_("An observation cannot be dated in the future.")
_BEFORE_FREEZE = N_("An observation cannot be dated before the freeze (T0).")


@dataclass(frozen=True)
class ParsedFeature:
    id: str
    unit: str
    party: str
    category: str
    count: int
    calibre_mm: float | None
    range_km: float | None
    observed_at: datetime
    lon: float
    lat: float

    def as_feature(self, observation_id: str) -> dict[str, Any]:
        """The feature as the entry records it (the cell's observation id beside the client's)."""
        return {
            "type": "Feature",
            "id": self.id,
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "properties": {
                "observation": observation_id,
                "unit": self.unit,
                "party": self.party,
                "category": self.category,
                "count": self.count,
                "calibre_mm": self.calibre_mm,
                "range_km": self.range_km,
                "observed_at": _iso(self.observed_at),
            },
        }


@dataclass(frozen=True)
class ParsedCollection:
    source: str
    grade: str | None
    release_to: tuple[str, ...]
    features: tuple[ParsedFeature, ...]


def _iso(moment: datetime) -> str:
    return log_time(moment)


def _refuse(message: str, index: int | None, field: str, **more: Any) -> InvalidInput:
    where = {"feature": index} if index is not None else {}
    return InvalidInput(message, field=field, **where, **more)


def _number(value: Any) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond any float
        return False


def _text(props: Mapping[str, Any], name: str, index: int) -> str:
    value = props.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_CHARS:
        raise _refuse(_BAD_FIELD, index, name)
    return value


def _optional_measure(props: Mapping[str, Any], name: str, index: int) -> float | None:
    value = props.get(name)
    if value is None:
        return None
    if not _number(value) or value < 0:
        raise _refuse(_BAD_FIELD, index, name)
    return float(value)


def _point(geometry: Any, index: int) -> tuple[float, float]:
    if not isinstance(geometry, Mapping) or geometry.get("type") != "Point":
        raise _refuse(_NOT_POINT, index, "geometry")
    coordinates = geometry.get("coordinates")
    if (
        not isinstance(coordinates, list)
        or len(coordinates) not in (2, 3)
        or not all(_number(c) for c in coordinates)
    ):
        raise _refuse(_NOT_POINT, index, "geometry")
    lon, lat = float(coordinates[0]), float(coordinates[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise _refuse(_OUT_OF_EXTENT, index, "geometry")
    return lon, lat


def _time(value: Any, index: int, *, now: datetime, freeze_at: datetime) -> datetime:
    if not isinstance(value, str):
        raise _refuse(_BAD_FIELD, index, "observed_at")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _refuse(_BAD_FIELD, index, "observed_at") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _refuse(_TIME_ZONE, index, "observed_at")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise _refuse(_BAD_FIELD, index, "observed_at") from None
    # To the millisecond, as the log spells times, so the row reads back what the entry says.
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    if moment > now:
        raise _refuse(_IN_FUTURE, index, "observed_at")
    if moment < freeze_at:
        raise _refuse(_BEFORE_FREEZE, index, "observed_at", freeze_at=_iso(freeze_at))
    return moment


def parse_collection(
    document: Any,
    *,
    categories: Sequence[str],
    parties: Sequence[str],
    extent: tuple[float, float, float, float],
    now: datetime,
    freeze_at: datetime,
) -> ParsedCollection:
    """The collection's observations, or ``InvalidInput`` for the first problem."""
    if not isinstance(document, Mapping) or document.get("type") != "FeatureCollection":
        raise _refuse(_NOT_COLLECTION, None, "type")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise _refuse(_NOT_COLLECTION, None, "features")
    if len(features) > MAX_FEATURES:
        raise _refuse(_TOO_MANY, None, "features", limit=MAX_FEATURES)
    release_to = document.get("release_to", [])
    if not isinstance(release_to, list) or not all(isinstance(s, str) for s in release_to):
        raise _refuse(_BAD_FIELD, None, "release_to")
    west, south, east, north = extent
    parsed: list[ParsedFeature] = []
    sources: set[str] = set()
    grades: set[str | None] = set()
    seen: set[str] = set()
    for index, feature in enumerate(features):
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            raise _refuse(_NOT_FEATURE, index, "type")
        feature_id = feature.get("id")
        if isinstance(feature_id, int | float) and not isinstance(feature_id, bool):
            feature_id = str(feature_id)
        if not isinstance(feature_id, str) or not feature_id or len(feature_id) > MAX_ID_CHARS:
            raise _refuse(_NOT_FEATURE, index, "id")
        if feature_id in seen:
            raise _refuse(_DUPLICATE, index, "id")
        seen.add(feature_id)
        lon, lat = _point(feature.get("geometry"), index)
        if not (
            west - EXTENT_MARGIN_DEG <= lon <= east + EXTENT_MARGIN_DEG
            and south - EXTENT_MARGIN_DEG <= lat <= north + EXTENT_MARGIN_DEG
        ):
            raise _refuse(_OUT_OF_EXTENT, index, "geometry")
        props = feature.get("properties")
        if not isinstance(props, Mapping):
            raise _refuse(_BAD_FIELD, index, "properties")
        source = props.get("source")
        if source not in SOURCES:
            raise _refuse(_BAD_SOURCE, index, "source", sources=list(SOURCES))
        sources.add(str(source))
        grade = props.get("grade")
        if source == Source.REPORT:
            if not isinstance(grade, str) or not GRADE.match(grade):
                raise _refuse(_GRADE, index, "grade")
        elif grade is not None:
            raise _refuse(_NO_GRADE, index, "grade")
        grades.add(grade)
        party = props.get("party")
        if party not in parties:
            raise _refuse(_BAD_FIELD, index, "party", parties=list(parties))
        category = props.get("category")
        if category not in categories:
            raise _refuse(_BAD_CATEGORY, index, "category", categories=list(categories))
        count = props.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0 or count > 10**9:
            raise _refuse(_BAD_COUNT, index, "count")
        parsed.append(
            ParsedFeature(
                id=feature_id,
                unit=_text(props, "unit", index),
                party=str(party),
                category=str(category),
                count=count,
                calibre_mm=_optional_measure(props, "calibre_mm", index),
                range_km=_optional_measure(props, "range_km", index),
                observed_at=_time(props.get("observed_at"), index, now=now, freeze_at=freeze_at),
                lon=lon,
                lat=lat,
            )
        )
    if len(sources) != 1 or len(grades) != 1:
        raise _refuse(_ONE_SOURCE, None, "source")
    return ParsedCollection(
        source=sources.pop(),
        grade=grades.pop(),
        release_to=tuple(release_to),
        features=tuple(parsed),
    )
