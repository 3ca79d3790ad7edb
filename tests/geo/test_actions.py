"""Defining zones and sites: geometry is checked before any write, and retries are safe."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session
from tests.conftest import DEMO_PASSWORD
from tests.helpers.tables import table_counts

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.errors import Forbidden, IdempotencyConflict, InvalidInput
from fusioncell.geo.actions import do_define_geo_feature
from fusioncell.geo.kinds import FeatureKind
from fusioncell.geo.models import GeoFeature

Lookup = Callable[[str], Viewer]
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[35.9, 33.0], [36.0, 33.0], [36.0, 33.1], [35.9, 33.1], [35.9, 33.0]]],
}
POINT = {"type": "Point", "coordinates": [35.95, 33.05]}


def _define(
    db: Session,
    actor: Viewer,
    clock: ManualClock,
    *,
    feature_id: str = "test-zone",
    kind: FeatureKind = FeatureKind.SECTOR,
    geometry: dict[str, Any] = SQUARE,
    name: str = "Test sector",
) -> GeoFeature:
    return do_define_geo_feature(
        db,
        actor,
        feature_id=feature_id,
        kind=kind,
        name=name,
        geometry=geometry,
        side="ALPHA",
        band=None,
        authoritative=False,
        now=clock.now(),
    )


@pytest.mark.parametrize("username", ["cell.admin", "supervisor.chair"])
def test_the_operator_or_the_chair_defines_a_zone(
    db: Session, clock: ManualClock, member: Lookup, username: str
) -> None:
    before = table_counts(db)

    _define(db, member(username), clock)

    db.expire_all()
    row = db.get(GeoFeature, "test-zone")
    assert row is not None
    assert (row.kind, row.name, row.side, row.authoritative) == (
        "sector",
        "Test sector",
        "ALPHA",
        False,
    )
    assert row.geometry == SQUARE
    assert row.created_at == clock.now()
    assert table_counts(db)["geo_features"] == before["geo_features"] + 1


def test_a_protected_site_is_a_point(db: Session, clock: ManualClock, member: Lookup) -> None:
    _define(
        db,
        member("cell.admin"),
        clock,
        feature_id="test-site",
        kind=FeatureKind.PROTECTED_SITE,
        geometry=POINT,
    )

    db.expire_all()
    row = db.get(GeoFeature, "test-site")
    assert row is not None
    assert row.geometry == POINT


BAD_GEOMETRY: list[tuple[str, FeatureKind, Any]] = [
    ("no type", FeatureKind.SECTOR, {"coordinates": [35.9, 33.0]}),
    ("unknown type", FeatureKind.SECTOR, {"type": "Blob", "coordinates": []}),
    ("no coordinates", FeatureKind.SECTOR, {"type": "Polygon"}),
    ("not an object", FeatureKind.SECTOR, "POLYGON((35.9 33, 36 33, 36 33.1, 35.9 33))"),
    ("a feature, not a geometry", FeatureKind.SECTOR, {"type": "Feature", "geometry": SQUARE}),
    ("an empty polygon", FeatureKind.SECTOR, {"type": "Polygon", "coordinates": []}),
    (
        "a self-crossing polygon",
        FeatureKind.SECTOR,
        {
            "type": "Polygon",
            "coordinates": [[[35.9, 33.0], [36.0, 33.1], [36.0, 33.0], [35.9, 33.1], [35.9, 33.0]]],
        },
    ),
    ("a point for a zone", FeatureKind.LIMITATION, POINT),
    (
        "a line for a zone",
        FeatureKind.SEPARATION,
        {"type": "LineString", "coordinates": [[35.9, 33.0], [36.0, 33.1]]},
    ),
    ("a polygon for a site", FeatureKind.PROTECTED_SITE, SQUARE),
    (
        "longitude out of range",
        FeatureKind.PROTECTED_SITE,
        {"type": "Point", "coordinates": [200.0, 33.0]},
    ),
    (
        "latitude out of range",
        FeatureKind.PROTECTED_SITE,
        {"type": "Point", "coordinates": [35.9, 95.0]},
    ),
    (
        "lat/lon swapped past the pole",
        FeatureKind.SECTOR,
        {
            "type": "Polygon",
            "coordinates": [[[33.0, 135.9], [33.0, 136.0], [33.1, 136.0], [33.0, 135.9]]],
        },
    ),
]


@pytest.mark.parametrize(
    ("kind", "geometry"),
    [(kind, geometry) for _, kind, geometry in BAD_GEOMETRY],
    ids=[label for label, _, _ in BAD_GEOMETRY],
)
def test_bad_geometry_is_refused_and_nothing_is_written(
    db: Session, clock: ManualClock, member: Lookup, kind: FeatureKind, geometry: Any
) -> None:
    admin = member("cell.admin")
    before = table_counts(db)

    with pytest.raises(InvalidInput):
        _define(db, admin, clock, kind=kind, geometry=geometry)

    assert table_counts(db) == before


@pytest.mark.parametrize(
    "username", ["alpha.liaison", "bravo.analyst", "verifier.lead", "host.observer"]
)
def test_only_the_chair_and_the_operator_define_geography(
    db: Session, clock: ManualClock, member: Lookup, username: str
) -> None:
    actor = member(username)
    before = table_counts(db)

    with pytest.raises(Forbidden):
        _define(db, actor, clock)

    assert table_counts(db) == before


def test_defining_the_same_feature_twice_is_one_row(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    admin = member("cell.admin")
    first = _define(db, admin, clock)
    after_first = table_counts(db)
    clock.advance(60)

    second = _define(db, admin, clock)

    assert second.id == first.id
    assert second.created_at == first.created_at
    assert table_counts(db) == after_first


def test_reusing_an_id_for_other_geometry_is_a_conflict(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    admin = member("cell.admin")
    _define(db, admin, clock)
    before = table_counts(db)
    moved = {
        "type": "Polygon",
        "coordinates": [[[35.8, 33.0], [36.0, 33.0], [36.0, 33.1], [35.8, 33.1], [35.8, 33.0]]],
    }

    with pytest.raises(IdempotencyConflict):
        _define(db, admin, clock, geometry=moved)

    assert table_counts(db) == before
    db.expire_all()
    row = db.get(GeoFeature, "test-zone")
    assert row is not None and row.geometry == SQUARE


def test_loading_the_demo_again_from_a_fresh_session_changes_nothing(
    db: Session, clock: ManualClock, demo: None, app: FastAPI
) -> None:
    """The stored GeoJSON, read back from the database, equals what the demo defines."""
    from fusioncell.scenario.demo import load_demo

    before = table_counts(db)
    with app.state.sessions() as fresh:
        clock.advance(3600)
        load_demo(fresh, password=DEMO_PASSWORD, now=clock.now(), hash_profile="fast-insecure")
        fresh.commit()

    assert table_counts(db) == before
