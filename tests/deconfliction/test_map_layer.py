"""The operations room's layer of notifications: each active one the viewer reads, its buffer
and its shape, with its sender as ``party`` and a link to its row; withdrawn ones and those
the viewer does not read are not in it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from tests.deconfliction.factories import NEAR_MAJDAL_SHAMS, point
from tests.deconfliction.test_api import body, convoy

from fusioncell.clock import ManualClock

Headers = Callable[[str], dict[str, str]]
URL = "/api/v1/notifications/map"


def layer(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    answer = client.get(URL, headers=headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    assert found["type"] == "FeatureCollection"
    return found


def test_each_active_notification_is_drawn_with_its_buffer_for_those_who_read_it(
    client: TestClient, token_for: Headers, clock: ManualClock
) -> None:
    alpha, hum = token_for("alpha.liaison"), token_for("hum1.coordinator")
    works = client.post(
        "/api/v1/notifications",
        json=body(clock, geometry=point(NEAR_MAJDAL_SHAMS), buffer_m=500),
        headers=alpha,
    ).json()
    trip = client.post("/api/v1/notifications", json=convoy(clock), headers=hum).json()
    gone = client.post("/api/v1/notifications", json=body(clock), headers=alpha).json()
    withdrawn = client.post(
        f"/api/v1/notifications/{gone['id']}/withdraw",
        json={"reason": "Cancelled by the unit."},
        headers=alpha,
    )
    assert withdrawn.status_code in (200, 201), withdrawn.text

    drawn = layer(client, token_for("bravo.liaison"))["features"]
    by_role = {(f["properties"]["id"], f["properties"]["role"]): f for f in drawn}
    assert set(by_role) == {
        (works["id"], "buffer"),
        (works["id"], "shape"),
        (trip["id"], "buffer"),
        (trip["id"], "shape"),
    }
    buffer = by_role[(works["id"], "buffer")]
    assert buffer["geometry"]["type"] == "Polygon"
    assert by_role[(works["id"], "shape")]["geometry"] == point(NEAR_MAJDAL_SHAMS)
    assert by_role[(trip["id"], "shape")]["geometry"]["type"] == "LineString"
    properties = buffer["properties"]
    assert (properties["party"], properties["kind"], properties["conflict"]) == (
        "ALPHA",
        "activity",
        True,
    )
    assert properties["url"] == f"/deconfliction#notification-{works['id']}"
    assert datetime.fromisoformat(properties["starts_at"]) == datetime.fromisoformat(
        works["starts_at"]
    )
    # HUM-1 reads its own convoy, never the parties' military activity.
    assert {f["properties"]["id"] for f in layer(client, hum)["features"]} == {trip["id"]}


def test_the_layer_is_refused_to_those_who_read_no_traffic(
    client: TestClient, token_for: Headers
) -> None:
    answer = client.get(URL, headers=token_for("cell.admin"))
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")
