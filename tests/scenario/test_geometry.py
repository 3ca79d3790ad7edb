from __future__ import annotations

import re

import numpy as np

from fusioncell.scenario import geometry as demo

DESIGN_RING = [
    [35.845, 33.425],
    [35.800, 33.330],
    [35.785, 33.270],
    [35.800, 33.200],
    [35.812, 33.125],
    [35.835, 33.030],
    [35.855, 32.900],
    [35.862, 32.720],
    [35.864, 32.720],
    [35.870, 32.900],
    [35.880, 33.030],
    [35.895, 33.125],
    [35.880, 33.200],
    [35.822, 33.270],
    [35.868, 33.425],
]


def test_separation_ring_is_the_design_ring_closed():
    assert [list(p) for p in demo.SEPARATION_RING] == [*DESIGN_RING, DESIGN_RING[0]]


def test_separation_area_is_a_valid_counter_clockwise_polygon():
    area = demo.separation_area()
    assert area.is_valid
    assert area.exterior.is_ccw


def test_line_a_is_the_first_eight_points_running_north_to_south():
    assert list(demo.LINE_A) == [tuple(p) for p in DESIGN_RING[:8]]
    lats = [lat for _, lat in demo.LINE_A]
    assert lats == sorted(lats, reverse=True)


def test_line_b_is_the_remaining_points_in_ring_order_running_south_to_north():
    assert list(demo.LINE_B) == [tuple(p) for p in DESIGN_RING[8:]]
    lats = [lat for _, lat in demo.LINE_B]
    assert lats == sorted(lats)
    assert (*demo.LINE_A, *demo.LINE_B, demo.LINE_A[0]) == demo.SEPARATION_RING


def test_the_lines_meet_neither_end_so_the_end_edges_belong_to_neither():
    assert demo.LINE_A[-1][1] == demo.LINE_B[0][1] == 32.720
    assert demo.LINE_A[-1][0] < demo.LINE_B[0][0]
    assert demo.LINE_A[0][1] == demo.LINE_B[-1][1] == 33.425
    assert demo.LINE_A[0][0] < demo.LINE_B[-1][0]


def test_line_a_lies_west_of_line_b_at_every_latitude():
    a_lon, a_lat = np.array(demo.LINE_A[::-1]).T
    b_lon, b_lat = np.array(demo.LINE_B).T
    lats = np.linspace(32.720, 33.425, 500)
    assert (np.interp(lats, a_lat, a_lon) < np.interp(lats, b_lat, b_lon)).all()


def test_alpha_is_west_of_line_a_and_bravo_east_of_line_b():
    assert demo.WEST_SIDE == demo.ALPHA == "ALPHA"
    assert demo.EAST_SIDE == demo.BRAVO == "BRAVO"


def test_sector_s_is_bravos_box_from_the_design():
    assert demo.SECTOR_S_SIDE == "BRAVO"
    assert demo.sector_s().bounds == (35.87, 32.60, 36.30, 33.35)


def test_protected_sites_are_the_seven_design_sites_with_unique_slug_ids():
    sites = {s.id: (s.name, s.lat, s.lon) for s in demo.PROTECTED_SITES}
    assert sites == {
        "un-post-hermon": ("UN post Hermon", 33.4161, 35.8575),
        "quneitra-crossing": ("Quneitra crossing", 33.1256, 35.8239),
        "majdal-shams": ("Majdal Shams", 33.267, 35.767),
        "hader": ("Hader", 33.2794, 35.8303),
        "madinat-al-baath-clinic": ("Madinat al-Baath clinic", 33.17, 35.87),
        "suwayda-hospital": ("Suwayda hospital", 32.7125, 36.5667),
        "daraa-warehouse": ("Daraa warehouse", 32.617, 36.100),
    }
    assert len(demo.PROTECTED_SITES) == 7
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s.id) for s in demo.PROTECTED_SITES)
