"""The geography API: zones and protected sites of the version in force as RFC 7946
FeatureCollections, and the versions themselves: proposed, signed, in force."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape
from tests.helpers.problems import assert_problem

from fusioncell.clock import ManualClock
from fusioncell.ledger.entries import log_time

from .versions import SIGNATORIES, demo_with
from .versions import feature as feature_of

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


# -- geometry versions -------------------------------------------------------------------


def _propose(client: TestClient, headers: dict[str, str], collection: Any, **more: Any) -> Any:
    return client.post(
        "/api/v1/geo/versions",
        json={"collection": collection, "source": "Annex B, map sheet 3", **more},
        headers=headers,
    )


def _sign(client: TestClient, headers: dict[str, str], version: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/geo/versions/{version['id']}/signatures",
        json={"content_hash": version["content_hash"]},
        headers=headers,
    )


def test_the_zones_name_the_version_in_force(client: TestClient, token_for: Tokens) -> None:
    body = _collection(client, "/api/v1/geo/zones", token_for("alpha.liaison"))

    assert body["version"]["number"] == 1
    assert body["version"]["authoritative"] is False
    [listed] = client.get("/api/v1/geo/versions", headers=token_for("alpha.liaison")).json()
    assert (listed["id"], listed["content_hash"]) == (
        body["version"]["id"],
        body["version"]["content_hash"],
    )
    assert listed["status"] == "in-force"
    assert [s["organisation"] for s in listed["signatures"]] == ["ALPHA", "BRAVO", "SUPERVISOR"]
    assert listed["awaiting"] == []


def test_a_proposed_version_is_served_once_all_three_have_signed_and_at_serves_the_past(
    client: TestClient, token_for: Tokens, clock: ManualClock
) -> None:
    alpha, bravo, chair = (token_for(u) for u in SIGNATORIES)
    clock.advance(600)
    response = _propose(client, alpha, demo_with(sites=[("new-site", 35.95, 33.0)]))
    assert response.status_code == 201, response.text
    proposed = response.json()
    assert (proposed["number"], proposed["status"]) == (2, "awaiting-signatures")
    assert proposed["awaiting"] == ["ALPHA", "BRAVO", "SUPERVISOR"]
    assert len([f for f in proposed["collection"]["features"] if f["id"] == "new-site"]) == 1

    for headers in (alpha, bravo):
        clock.advance(60)
        assert _sign(client, headers, proposed).status_code == 201
        served = _collection(client, "/api/v1/geo/sites", alpha)
        assert served["version"]["number"] == 1
    before_last = clock.now()
    clock.advance(60)
    signed = _sign(client, chair, proposed)

    assert signed.status_code == 201, signed.text
    assert (signed.json()["status"], signed.json()["awaiting"]) == ("in-force", [])
    now = _collection(client, "/api/v1/geo/sites", bravo)
    assert now["version"]["number"] == 2 and len(now["features"]) == 8
    past = _collection(client, "/api/v1/geo/sites?at=" + log_time(before_last), bravo)
    assert past["version"]["number"] == 1 and len(past["features"]) == 7
    listed = client.get("/api/v1/geo/versions", headers=bravo).json()
    assert [(v["number"], v["status"]) for v in listed] == [(2, "in-force"), (1, "superseded")]
    assert _collection(client, "/api/v1/geo/zones?at=2020-01-01T00:00:00Z", bravo) == {
        "type": "FeatureCollection",
        "version": None,
        "features": [],
    }


@pytest.mark.parametrize("at", ["0", "2026-01-06T08:00:00", "yesterday"])
def test_at_is_an_rfc_3339_time_with_its_offset(
    client: TestClient, token_for: Tokens, at: str
) -> None:
    response = client.get("/api/v1/geo/zones", params={"at": at}, headers=token_for("bravo.duty"))

    assert_problem(response, 422, "invalid-input")


def test_a_retry_with_the_clients_id_or_idempotency_key_is_one_version(
    client: TestClient, token_for: Tokens, table_counts: Callable[[], dict[str, int]]
) -> None:
    alpha = token_for("alpha.liaison")
    collection = demo_with(sites=[("new-site", 35.95, 33.0)])
    version_id = str(uuid.uuid4())
    first = _propose(client, alpha, collection, id=version_id)
    assert first.status_code == 201
    before = table_counts()

    again = _propose(client, alpha, collection, id=version_id)
    key = {**alpha, "Idempotency-Key": "geometry-1"}
    one = _propose(client, key, collection)
    two = _propose(client, key, collection)

    assert again.status_code == 201 and again.json()["id"] == version_id
    assert again.json()["number"] == first.json()["number"]
    assert one.json()["id"] == two.json()["id"]
    after = table_counts()
    assert after["geo_versions"] == before["geo_versions"] + 1
    assert after["log_entries"] == before["log_entries"] + 1


def test_a_signature_retried_is_one_signature(
    client: TestClient, token_for: Tokens, table_counts: Callable[[], dict[str, int]]
) -> None:
    alpha = token_for("alpha.liaison")
    proposed = _propose(client, alpha, demo_with(sites=[("s", 35.95, 33.0)])).json()
    assert _sign(client, alpha, proposed).status_code == 201
    before = table_counts()

    again = _sign(client, alpha, proposed)

    assert again.status_code == 201
    assert [s["organisation"] for s in again.json()["signatures"]] == ["ALPHA"]
    assert table_counts() == before


@pytest.mark.parametrize(
    "username", ["verifier.lead", "host.observer", "alpha.analyst", "bravo.duty", "cell.admin"]
)
def test_someone_who_is_not_a_signatory_gets_403_and_nothing_is_written(
    client: TestClient,
    token_for: Tokens,
    table_counts: Callable[[], dict[str, int]],
    username: str,
) -> None:
    proposed = _propose(client, token_for("supervisor.chair"), demo_with(sites=[("s", 36, 33)]))
    headers = token_for(username)
    before = table_counts()

    response = _sign(client, headers, proposed.json())

    assert_problem(response, 403, "forbidden")
    assert table_counts() == before


def test_signing_another_hash_is_refused_and_nothing_is_written(
    client: TestClient, token_for: Tokens, table_counts: Callable[[], dict[str, int]]
) -> None:
    bravo = token_for("bravo.liaison")
    proposed = _propose(client, bravo, demo_with(sites=[("s", 36, 33)])).json()
    before = table_counts()

    response = _sign(client, bravo, {**proposed, "content_hash": "0" * 64})

    body = assert_problem(response, 422, "invalid-input")
    assert body["content_hash"] == proposed["content_hash"]
    assert table_counts() == before


def _lat_first(collection: dict[str, Any]) -> dict[str, Any]:
    def swap(c: Any) -> Any:
        return [c[1], c[0]] if isinstance(c[0], int | float) else [swap(x) for x in c]

    for f in collection["features"]:
        f["geometry"]["coordinates"] = swap(f["geometry"]["coordinates"])
    return collection


def _self_intersecting(collection: dict[str, Any]) -> dict[str, Any]:
    feature_of(collection, "sector-s")["geometry"]["coordinates"] = [
        [[35.9, 33.0], [36.0, 33.1], [36.0, 33.0], [35.9, 33.1], [35.9, 33.0]]
    ]
    return collection


def _unclosed(collection: dict[str, Any]) -> dict[str, Any]:
    feature_of(collection, "sector-s")["geometry"]["coordinates"][0].pop()
    return collection


def _lat_out_of_range(collection: dict[str, Any]) -> dict[str, Any]:
    feature_of(collection, "hader")["geometry"]["coordinates"] = [35.83, 91.0]
    return collection


@pytest.mark.parametrize(
    "spoil",
    [_lat_first, _self_intersecting, _unclosed, _lat_out_of_range],
    ids=["latitude first", "self-intersecting", "unclosed ring", "latitude out of range"],
)
def test_geometry_that_is_not_rfc_7946_is_422_and_nothing_is_written(
    client: TestClient,
    token_for: Tokens,
    table_counts: Callable[[], dict[str, int]],
    spoil: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    chair = token_for("supervisor.chair")
    before = table_counts()

    response = _propose(client, chair, spoil(demo_with()))

    body = assert_problem(response, 422, "invalid-input")
    assert body["field"] == "geometry" and body["feature"]
    assert table_counts() == before


def test_a_proposal_needs_a_token_and_the_right(client: TestClient, token_for: Tokens) -> None:
    assert_problem(_propose(client, {}, demo_with()), 401, "not-authenticated")
    assert_problem(_propose(client, token_for("verifier.lead"), demo_with()), 403, "forbidden")


def test_an_unknown_version_is_404(client: TestClient, token_for: Tokens) -> None:
    headers = token_for("alpha.liaison")
    missing = uuid.uuid4()

    assert_problem(client.get(f"/api/v1/geo/versions/{missing}", headers=headers), 404, "not-found")
    assert_problem(
        _sign(client, headers, {"id": missing, "content_hash": "0" * 64}), 404, "not-found"
    )
