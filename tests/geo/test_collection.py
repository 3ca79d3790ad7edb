"""A proposed geometry, checked and completed without a database: whatever the proposer
sends, the answer is the completed collection or a refusal that names the problem, never a
crash; and the map's extent is the basemap's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusioncell.errors import InvalidInput
from fusioncell.geo.collection import MAP_EXTENT, build_collection, content_hash
from fusioncell.geo.derive import demo_geometry_proposal, demo_zone_features

PARTIES = ["ALPHA", "BRAVO"]
BASEMAP = Path(__file__).resolve().parents[2] / "src/fusioncell/web/static/vendor/basemap.geojson"


def _proposal(ring: list[list[float]], split: int, reverse: bool) -> dict[str, Any]:
    west, east = ring[:split], ring[split:]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "area",
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                "properties": {"kind": "separation", "name": "Area"},
            },
            {
                "type": "Feature",
                "id": "line-a",
                "geometry": {"type": "LineString", "coordinates": west},
                "properties": {"kind": "line", "name": "A", "side": "ALPHA"},
            },
            {
                "type": "Feature",
                "id": "line-b",
                "geometry": {"type": "LineString", "coordinates": east[::-1] if reverse else east},
                "properties": {"kind": "line", "name": "B", "side": "BRAVO"},
            },
        ],
    }


positions = st.lists(
    st.tuples(
        st.floats(35.5, 36.5).map(lambda v: round(v, 3)),
        st.floats(32.5, 33.5).map(lambda v: round(v, 3)),
    ).map(list),
    min_size=4,
    max_size=9,
)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(ring=positions, split=st.integers(1, 8), reverse=st.booleans())
def test_any_area_and_lines_give_a_collection_or_a_refusal(
    ring: list[list[float]], split: int, reverse: bool
) -> None:
    try:
        built = build_collection(
            _proposal(ring, min(split, len(ring) - 1), reverse),
            parties=PARTIES,
            authoritative=False,
        )
    except InvalidInput:
        return
    kinds = [f["properties"]["kind"] for f in built["features"]]
    assert kinds.count("limitation") == 6


def test_the_demo_proposal_completes_to_the_demo_zones() -> None:
    built = build_collection(demo_geometry_proposal(), parties=PARTIES, authoritative=False)

    zones = [f for f in built["features"] if f["properties"]["kind"] != "line"]
    zones = [f for f in zones if f["properties"]["kind"] != "protected_site"]
    assert zones == sorted(demo_zone_features(), key=lambda f: (f["properties"]["kind"], f["id"]))


def test_the_content_hash_covers_the_flag_and_the_source() -> None:
    built = build_collection(demo_geometry_proposal(), parties=PARTIES, authoritative=False)

    hashes = {
        content_hash(built, authoritative=flag, source=source)
        for flag in (False, True)
        for source in ("Annex A", "Annex B")
    }
    assert len(hashes) == 4


@pytest.mark.skipif(not BASEMAP.exists(), reason="the static build has not run")
def test_the_maps_extent_is_the_basemaps() -> None:
    assert tuple(json.loads(BASEMAP.read_text())["bbox"]) == MAP_EXTENT
