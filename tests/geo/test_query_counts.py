"""The geography's lists cost the same number of SQL statements whatever their length: the
API's zones and sites, and the map page that loads them, measured with the demo's features and
again with more."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.querycount import assert_constant, signed_in

from fusioncell.cell.policy import console_viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.geo.actions import do_define_geo_feature
from fusioncell.geo.kinds import FeatureKind
from fusioncell.scenario.demo import stable_id

Grow = Callable[[], None]


@pytest.fixture
def grow(db: Session, clock: ManualClock, demo: None) -> Grow:
    """Three more sectors and three more protected sites."""
    console = console_viewer(stable_id("organisation", "SUPERVISOR"))
    made = 0

    def more() -> None:
        nonlocal made
        for _ in range(3):
            made += 1
            west = 35.0 + made / 100
            for kind, geometry in (
                (
                    FeatureKind.SECTOR,
                    {
                        "type": "Polygon",
                        "coordinates": [
                            [[west, 33.0], [west + 0.005, 33.0], [west, 33.005], [west, 33.0]]
                        ],
                    },
                ),
                (FeatureKind.PROTECTED_SITE, {"type": "Point", "coordinates": [west, 33.1]}),
            ):
                do_define_geo_feature(
                    db,
                    console,
                    feature_id=f"test-{kind.value}-{made}",
                    kind=kind,
                    name=f"Test {kind.value} {made}",
                    geometry=geometry,
                    side=None,
                    band=None,
                    authoritative=False,
                    now=clock.now(),
                )

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
