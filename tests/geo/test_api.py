"""The geography API: zones and protected sites as RFC 7946 FeatureCollections."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape
from tests.helpers.problems import assert_problem

GEOJSON = "application/geo+json"
Tokens = Callable[[str], dict[str, str]]


def _collection(client: TestClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == GEOJSON
    body: dict[str, Any] = response.json()
    assert body["type"] == "FeatureCollection"
    # RFC 7946 section 4: WGS 84 is implied; a "crs" member is no longer part of GeoJSON.
    assert "crs" not in body
    return body


def _positions(coordinates: Any) -> Iterator[list[float]]:
    if coordinates and isinstance(coordinates[0], int | float):
        yield coordinates
        return
    for part in coordinates:
        yield from _positions(part)


def _assert_feature(feature: dict[str, Any]) -> None:
    assert feature["type"] == "Feature"
    assert {"kind", "side", "name", "authoritative"} <= feature["properties"].keys()
    assert feature["properties"]["authoritative"] is False
    assert feature["properties"]["name"]
    geometry = feature["geometry"]
    assert geometry["type"] in {"Point", "Polygon", "MultiPolygon"}
    for lon, lat in _positions(geometry["coordinates"]):
        # Longitude first (RFC 7946 section 3.1.1), and inside the demo's region.
        assert 35.0 < lon < 37.0 and 32.0 < lat < 34.0
    parsed = shape(geometry)
    assert parsed.is_valid and not parsed.is_empty


def test_zones_are_the_separation_area_six_limitation_bands_and_one_sector(
    client: TestClient, token_for: Tokens
) -> None:
    body = _collection(client, "/api/v1/geo/zones", token_for("alpha.liaison"))

    features = body["features"]
    assert len(features) == 8
    for feature in features:
        _assert_feature(feature)
        assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    kinds = Counter(feature["properties"]["kind"] for feature in features)
    assert kinds == {"separation": 1, "limitation": 6, "sector": 1}
    bands = {
        (feature["properties"]["side"], feature["properties"]["band"])
        for feature in features
        if feature["properties"]["kind"] == "limitation"
    }
    assert bands == {
        (side, band) for side in ("ALPHA", "BRAVO") for band in ("0-10", "10-20", "20-25")
    }
    assert len({feature["id"] for feature in features}) == 8


def test_polygon_rings_are_closed_and_wound_as_rfc_7946_says(
    client: TestClient, token_for: Tokens
) -> None:
    features = _collection(client, "/api/v1/geo/zones", token_for("alpha.liaison"))["features"]

    for feature in features:
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        for rings in polygons:
            for number, ring in enumerate(rings):
                assert ring[0] == ring[-1] and len(ring) >= 4
                twice_area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairwise(ring))
                # Exterior rings counter-clockwise (positive area), holes clockwise.
                assert (twice_area > 0) == (number == 0), feature["id"]


def test_sites_are_the_seven_protected_points(client: TestClient, token_for: Tokens) -> None:
    body = _collection(client, "/api/v1/geo/sites", token_for("bravo.liaison"))

    features = body["features"]
    assert len(features) == 7
    for feature in features:
        _assert_feature(feature)
        assert feature["geometry"]["type"] == "Point"
        assert feature["properties"]["kind"] == "protected_site"
    by_id = {feature["id"]: feature for feature in features}
    # The design gives (lat, lon); GeoJSON carries (lon, lat).
    assert by_id["un-post-hermon"]["geometry"]["coordinates"] == [35.8575, 33.4161]
    assert by_id["suwayda-hospital"]["geometry"]["coordinates"] == [36.5667, 32.7125]


@pytest.mark.parametrize("username", ["host.observer", "verifier.lead", "cell.admin"])
def test_every_member_sees_the_same_geography(
    client: TestClient, token_for: Tokens, username: str
) -> None:
    reference = _collection(client, "/api/v1/geo/zones", token_for("alpha.liaison"))

    assert _collection(client, "/api/v1/geo/zones", token_for(username)) == reference


@pytest.mark.parametrize("path", ["/api/v1/geo/zones", "/api/v1/geo/sites"])
def test_the_geography_needs_a_token(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert_problem(response, 401, "not-authenticated")
