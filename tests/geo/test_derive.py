from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.ops import nearest_points

from fusioncell.geo.derive import (
    DerivedZone,
    demo_limitation_areas,
    demo_site_features,
    demo_zone_features,
    derive_limitation_areas,
    feature,
    feature_collection,
    metric_frame,
)
from fusioncell.geo.kinds import FeatureKind
from fusioncell.scenario import geometry as demo

BANDS = {"0-10": (0, 10_000), "10-20": (10_000, 20_000), "20-25": (20_000, 25_000)}
# Coordinates are rounded to 1e-6 degrees (at most 0.06 m here) and buffer chords sag
# less than 0.8 m; allow a metre.
METRES = 1.0
NORTH_END_BISECTOR_LON = (35.845 + 35.868) / 2
SOUTH_END_BISECTOR_LON = (35.862 + 35.864) / 2

FRAME = metric_frame(demo.separation_area())
SEPARATION_M = FRAME.to_metric(demo.separation_area())


def zones() -> tuple[DerivedZone, ...]:
    return demo_limitation_areas()


def metric(zone: DerivedZone) -> Polygon:
    return FRAME.to_metric(zone.geometry)


def vertices(geometry: Polygon | MultiPolygon) -> np.ndarray:
    return shapely.get_coordinates(geometry)


def signed_area(ring: list[list[float]]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring)) / 2


def lon_of(line: tuple[tuple[float, float], ...], lat: np.ndarray) -> np.ndarray:
    lons, lats = np.array(sorted(line, key=lambda p: p[1])).T
    return np.interp(lat, lats, lons)


# derived zones


def test_derives_three_bands_on_each_side_west_first():
    assert [(z.kind, z.band, z.side) for z in zones()] == [
        (FeatureKind.LIMITATION, band, side)
        for band in ("0-10", "10-20", "20-25")
        for side in ("ALPHA", "BRAVO")
    ]
    assert all(isinstance(z.geometry, Polygon) and z.geometry.is_valid for z in zones())


def test_zones_overlap_neither_each_other_nor_the_area_of_separation():
    shapes = [SEPARATION_M, *(metric(z) for z in zones())]
    for a, b in itertools.combinations(shapes, 2):
        assert a.intersection(b).area < 1.0  # m², from rounding at most


def test_zones_and_the_area_of_separation_make_up_the_25_km_buffer():
    union = shapely.union_all([SEPARATION_M, *(metric(z) for z in zones())])
    buffer = SEPARATION_M.buffer(25_000, quad_segs=64)
    assert union.symmetric_difference(buffer).area < 1e-5 * buffer.area
    assert math.isclose(
        sum(metric(z).area for z in zones()) + SEPARATION_M.area, buffer.area, rel_tol=1e-6
    )


@pytest.mark.parametrize("index", range(6))
def test_every_vertex_of_a_band_lies_between_its_inner_and_outer_distance(index):
    zone = zones()[index]
    inner, outer = BANDS[zone.band]
    distances = shapely.distance(SEPARATION_M, shapely.points(vertices(metric(zone))))
    assert distances.min() == pytest.approx(inner, abs=METRES)
    assert distances.max() == pytest.approx(outer, abs=METRES)
    assert (distances > inner - METRES).all()
    assert (distances < outer + METRES).all()


def test_the_outer_edge_of_the_0_10_band_is_10_km_from_the_area_of_separation():
    alpha = zones()[0]
    westmost = Point(min(vertices(alpha.geometry), key=lambda v: v[0]))
    westmost_m = FRAME.to_metric(westmost)
    assert SEPARATION_M.distance(westmost_m) == pytest.approx(10_000, abs=METRES)
    # The same distance on the ellipsoid: the local projection is true to scale here.
    nearest = FRAME.to_lonlat(nearest_points(SEPARATION_M, westmost_m)[0])
    _, _, geodesic = Geod(ellps="WGS84").inv(westmost.x, westmost.y, nearest.x, nearest.y)
    assert geodesic == pytest.approx(10_000, abs=2 * METRES)


def test_alpha_zones_lie_west_of_line_a_and_bravo_zones_east_of_line_b():
    (a_north, a_south), (b_south, b_north) = (
        (demo.LINE_A[0], demo.LINE_A[-1]),
        (demo.LINE_B[0], demo.LINE_B[-1]),
    )
    east_of_a = Polygon([*demo.LINE_A, (a_south[0] + 1, a_south[1]), (a_north[0] + 1, a_north[1])])
    west_of_b = Polygon([*demo.LINE_B, (b_north[0] - 1, b_north[1]), (b_south[0] - 1, b_south[1])])
    for zone in zones():
        other_side = east_of_a if zone.side == "ALPHA" else west_of_b
        assert FRAME.to_metric(zone.geometry.intersection(other_side)).area < 1.0
        lon, lat = vertices(zone.geometry).T
        # Vertices on the end edges themselves belong with the ends.
        north, south = lat >= 33.425, lat <= 32.720
        beside = ~north & ~south
        if zone.side == "ALPHA":
            assert (lon[beside] <= lon_of(demo.LINE_A, lat[beside]) + 1e-6).all()
            assert (lon[north] <= NORTH_END_BISECTOR_LON + 1e-4).all()
            assert (lon[south] <= SOUTH_END_BISECTOR_LON + 1e-4).all()
        else:
            assert (lon[beside] >= lon_of(demo.LINE_B, lat[beside]) - 1e-6).all()
            assert (lon[north] >= NORTH_END_BISECTOR_LON - 1e-4).all()
            assert (lon[south] >= SOUTH_END_BISECTOR_LON - 1e-4).all()


def test_a_grid_of_points_falls_in_one_zone_at_its_bands_distance_on_its_side():
    buffer = SEPARATION_M.buffer(25_000, quad_segs=64)
    minx, miny, maxx, maxy = buffer.bounds
    xs, ys = np.meshgrid(np.linspace(minx, maxx, 97), np.linspace(miny, maxy, 131))
    grid = shapely.points(xs.ravel(), ys.ravel())
    distance = shapely.distance(SEPARATION_M, grid)
    inside = shapely.contains(buffer, grid) & (distance > METRES)
    # Leave out points within a metre of any zone's boundary.
    boundaries = shapely.union_all([metric(z).boundary for z in zones()])
    clear = inside & (shapely.distance(boundaries, grid) > METRES)
    lonlat = np.array([(p.x, p.y) for p in (FRAME.to_lonlat(g) for g in grid[clear])])
    counts = np.zeros(clear.sum(), dtype=int)
    for zone in zones():
        hit = shapely.contains(metric(zone), grid[clear])
        counts += hit
        inner, outer = BANDS[zone.band]
        assert ((distance[clear][hit] > inner) & (distance[clear][hit] < outer)).all()
        lon, lat = lonlat[hit].T
        beside = (lat >= 32.720) & (lat <= 33.425)
        if zone.side == "ALPHA":
            assert (lon[beside] < lon_of(demo.LINE_A, lat[beside])).all()
        else:
            assert (lon[beside] > lon_of(demo.LINE_B, lat[beside])).all()
    assert clear.sum() > 5_000
    assert (counts == 1).all()


def test_coordinates_are_rounded_to_six_decimals():
    for zone in zones():
        coords = vertices(zone.geometry)
        assert np.array_equal(coords, np.round(coords, 6))


def test_derivation_is_symmetric_between_the_sides():
    for west, east in zip(zones()[::2], zones()[1::2], strict=True):
        assert math.isclose(metric(west).area, metric(east).area, rel_tol=0.02)


def test_derivation_accepts_line_b_in_either_direction():
    reversed_b = derive_limitation_areas(
        demo.separation_area(), west_line=demo.LINE_A, east_line=demo.LINE_B[::-1]
    )
    assert all(z.geometry.equals(d.geometry) for z, d in zip(reversed_b, zones(), strict=True))


@pytest.mark.parametrize("bands_km", [(), (10, 10), (20, 10), (0, 10), (-5, 10)])
def test_rejects_band_distances_that_are_not_positive_and_increasing(bands_km):
    with pytest.raises(ValueError, match="band distances"):
        derive_limitation_areas(
            demo.separation_area(),
            west_line=demo.LINE_A,
            east_line=demo.LINE_B,
            bands_km=bands_km,
        )


def test_rejects_an_invalid_area_of_separation():
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(ValueError, match="valid"):
        derive_limitation_areas(bowtie, west_line=demo.LINE_A, east_line=demo.LINE_B)


# GeoJSON


def test_feature_orients_exterior_rings_counter_clockwise_and_holes_clockwise():
    clockwise_donut = Polygon(
        [(0, 0), (0, 4), (4, 4), (4, 0)], holes=[[(1, 1), (2, 1), (2, 2), (1, 2)]]
    )
    exterior, hole = feature(clockwise_donut, {})["geometry"]["coordinates"]
    assert signed_area(exterior) > 0
    assert signed_area(hole) < 0
    multi = feature(MultiPolygon([clockwise_donut]), {})["geometry"]["coordinates"]
    assert signed_area(multi[0][0]) > 0
    assert signed_area(multi[0][1]) < 0


def test_every_demo_polygon_is_counter_clockwise_with_rings_closed():
    for f in demo_zone_features():
        assert f["geometry"]["type"] == "Polygon"
        exterior, *holes = f["geometry"]["coordinates"]
        assert signed_area(exterior) > 0
        assert all(signed_area(h) < 0 for h in holes)
        assert all(ring[0] == ring[-1] for ring in (exterior, *holes))


def test_feature_puts_coordinates_in_lon_lat_order_and_copies_the_id():
    f = feature(Point(35.8575, 33.4161), {"id": "x", "kind": "protected_site"})
    assert f == {
        "type": "Feature",
        "id": "x",
        "geometry": {"type": "Point", "coordinates": [35.8575, 33.4161]},
        "properties": {"id": "x", "kind": "protected_site"},
    }


def test_feature_collection_wraps_the_features():
    features = demo_site_features()
    assert feature_collection(features) == {"type": "FeatureCollection", "features": features}


def test_demo_zone_features_are_separation_six_limitation_areas_and_sector_s():
    assert [
        (f["id"], f["properties"]["kind"], f["properties"]["side"]) for f in demo_zone_features()
    ] == [
        ("area-of-separation", "separation", None),
        ("limitation-alpha-0-10", "limitation", "ALPHA"),
        ("limitation-bravo-0-10", "limitation", "BRAVO"),
        ("limitation-alpha-10-20", "limitation", "ALPHA"),
        ("limitation-bravo-10-20", "limitation", "BRAVO"),
        ("limitation-alpha-20-25", "limitation", "ALPHA"),
        ("limitation-bravo-20-25", "limitation", "BRAVO"),
        ("sector-s", "sector", "BRAVO"),
    ]
    features = {f["id"]: f for f in demo_zone_features()}
    assert features["sector-s"]["properties"]["name"] == "Sector S"
    assert features["limitation-bravo-10-20"]["properties"]["band"] == "10-20"
    assert features["sector-s"]["properties"]["band"] is None
    assert shape(features["area-of-separation"]["geometry"]).equals(demo.separation_area())


def test_demo_site_features_are_the_seven_sites_as_lon_lat_points():
    features = demo_site_features()
    assert [f["id"] for f in features] == [s.id for s in demo.PROTECTED_SITES]
    hermon = features[0]
    assert hermon["geometry"] == {"type": "Point", "coordinates": [35.8575, 33.4161]}
    assert hermon["properties"]["kind"] == "protected_site"
    assert hermon["properties"]["side"] is None
    assert hermon["properties"]["name"] == "UN post Hermon"


def test_every_demo_feature_carries_id_kind_side_name_and_authoritative_false():
    features = demo_zone_features() + demo_site_features()
    for f in features:
        assert f["properties"].keys() == {"id", "kind", "side", "band", "name", "authoritative"}
        assert f["properties"]["authoritative"] is False
        assert f["id"] == f["properties"]["id"]
    assert len({f["id"] for f in features}) == len(features) == 15


def test_demo_features_survive_a_strict_json_round_trip():
    collection = feature_collection(demo_zone_features() + demo_site_features())
    text = json.dumps(collection, allow_nan=False)
    assert json.loads(text) == collection
    assert '"authoritative": false' in text
