"""The structured templates' geometry fields take RFC 7946 GeoJSON and name what is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from fusioncell.errors import InvalidInput
from fusioncell.hotline.forms import check_fields

ACTIVITY = {
    "activity": "Patrol",
    "starts_at": "2026-01-06T10:00:00Z",
    "ends_at": "2026-01-06T12:00:00Z",
    "area": {
        "type": "Polygon",
        "coordinates": [[[35.80, 33.10], [35.90, 33.10], [35.90, 33.20], [35.80, 33.10]]],
    },
}
INCIDENT = {"occurred_at": "2026-01-06T10:30:00Z", "description": "Shots heard"}


def problem(form: str, fields: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(InvalidInput) as raised:
        check_fields(form, fields)
    errors: list[dict[str, Any]] = raised.value.extensions["errors"]
    assert len(errors) == 1
    return errors[0]


def test_a_picked_point_and_an_activity_with_a_route_are_accepted_as_given() -> None:
    point = {"type": "Point", "coordinates": [35.908813, 33.073347]}
    assert check_fields("incident_alert", {**INCIDENT, "location": point})["location"] == point
    route = {"type": "LineString", "coordinates": [[35.8, 33.1], [35.9, 33.2]]}
    assert check_fields("activity_notification", {**ACTIVITY, "route": route})["route"] == route
    assert "route" not in check_fields("activity_notification", ACTIVITY)


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ('{"type": "Point"', "must be a GeoJSON geometry"),
        ({"type": "Point", "coordinates": [35.9]}, "must be a GeoJSON geometry"),
        ({"type": "Point", "coordinates": [35.9, "33.1"]}, "must be a GeoJSON geometry"),
        ({"type": "Point", "coordinates": [35.9, float("nan")]}, "must be a GeoJSON geometry"),
        ({"type": "LineString", "coordinates": [[35.8, 33.1], [35.9, 33.2]]},
         "must be a GeoJSON Point, not 'LineString'"),
        ({"type": "Point", "coordinates": [33.1, 95.0]}, "must be longitude, latitude in degrees"),
    ],
)  # fmt: skip
def test_a_location_that_is_not_a_geojson_point_is_refused_with_its_reason(
    location: Any, message: str
) -> None:
    assert problem("incident_alert", {**INCIDENT, "location": location}) == {
        "field": "location",
        "message": message,
    }


def test_an_area_whose_ring_does_not_end_where_it_starts_is_refused() -> None:
    area = {"type": "Polygon", "coordinates": [[[35.8, 33.1], [35.9, 33.1], [35.9, 33.2]]]}
    assert problem("activity_notification", {**ACTIVITY, "area": area}) == {
        "field": "area",
        "message": "must be a polygon whose rings have four or more positions, first = last",
    }


def test_a_route_of_one_point_is_refused_not_a_server_error() -> None:
    route = {"type": "LineString", "coordinates": [[35.8, 33.1]]}
    assert problem("activity_notification", {**ACTIVITY, "route": route}) == {
        "field": "route",
        "message": "must be a valid GeoJSON LineString",
    }
