"""The geography's lists cost the same number of SQL statements whatever their length: the
API's zones, sites and versions, and the map page that loads them and lists the versions
awaiting signatures, measured with the demo's version and again with more."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.querycount import assert_constant, signed_in

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings

from .versions import demo_with, propose, sign

Grow = Callable[[], None]


@pytest.fixture
def grow(db: Session, clock: ManualClock, member: Callable[[str], Viewer]) -> Grow:
    """A version in force with three more sectors and three more protected sites than the
    last, and three more awaiting signatures."""
    made = 0
    collection = demo_with()

    def more() -> None:
        nonlocal made
        for _ in range(3):
            made += 1
            west = 35.0 + made / 100
            sector = {
                "type": "Feature",
                "id": f"test-sector-{made}",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[west, 33.0], [west + 0.005, 33.0], [west, 33.005], [west, 33.0]]
                    ],
                },
                "properties": {"kind": "sector", "name": f"Test sector {made}"},
            }
            site = {
                "type": "Feature",
                "id": f"test-site-{made}",
                "geometry": {"type": "Point", "coordinates": [west, 33.1]},
                "properties": {"kind": "protected_site", "name": f"Test site {made}"},
            }
            collection["features"].extend([sector, site])
        sign(db, member, clock, propose(db, member("supervisor.chair"), clock, collection))
        for draft in range(3):
            propose(db, member("alpha.liaison"), clock, collection, source=f"Draft {draft}")

    return more


@pytest.mark.parametrize("path", ["/api/v1/geo/zones", "/api/v1/geo/sites"])
def test_the_zones_and_sites_cost_the_same_statements_however_many_there_are(
    app: FastAPI,
    client: TestClient,
    token_for: Callable[[str], dict[str, str]],
    grow: Grow,
    path: str,
) -> None:
    bravo = token_for("bravo.duty")
    listed = len(client.get(path, headers=bravo).json()["features"])

    assert_constant(app.state.engine, lambda: client.get(path, headers=bravo), grow)

    assert len(client.get(path, headers=bravo).json()["features"]) == listed + 3


def test_the_map_page_costs_the_same_statements_however_many_features_there_are(
    app: FastAPI, db: Session, clock: ManualClock, settings: Settings, grow: Grow
) -> None:
    with signed_in(app, db, clock, settings, "bravo.duty") as bravo:
        assert_constant(app.state.engine, lambda: bravo.get("/map"), grow)


def test_the_versions_cost_the_same_statements_however_many_there_are(
    app: FastAPI, client: TestClient, token_for: Callable[[str], dict[str, str]], grow: Grow
) -> None:
    bravo = token_for("bravo.duty")

    assert_constant(
        app.state.engine, lambda: client.get("/api/v1/geo/versions", headers=bravo), grow
    )

    assert len(client.get("/api/v1/geo/versions", headers=bravo).json()) == 5
