"""The conflict engine and the lead-time rule against independent expectations: distances
measured on the ellipsoid (pyproj's geodesic, not the engine's projection), verdicts computed
from the issue's numbers (72 h within 10 km of a line, 48 h for a humanitarian movement, 24 h
for an emergency unless FLASH), and the vectorised check equal to a plain pairwise loop."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, shape

from fusioncell.deconfliction import conflicts as engine
from fusioncell.deconfliction.lead_time import judge
from fusioncell.deconfliction.rules import load_rules
from fusioncell.scenario import geometry as demo

RULES = load_rules()
GEOD = Geod(ellps="WGS84")
T0 = datetime(2026, 3, 1, tzinfo=UTC)
SEPARATION = {"type": "Polygon", "coordinates": [[list(p) for p in demo.SEPARATION_RING]]}
SITES = [
    engine.Protected(s.id, s.name, {"type": "Point", "coordinates": [s.lon, s.lat]}, 2000)
    for s in demo.PROTECTED_SITES
]
ZONES = [engine.Zone("area-of-separation", "separation", SEPARATION)]


@cache
def geodesic_to_line(lon: float, lat: float) -> float:
    """Metres from a point to the nearest of lines A and B, on the ellipsoid: the least
    geodesic distance to points 10 m apart along every edge (0 inside the area)."""
    if shape(SEPARATION).contains(Point(lon, lat)):
        return 0.0
    best = float("inf")
    for line in (demo.LINE_A, demo.LINE_B):
        for (x1, y1), (x2, y2) in itertools.pairwise(line):
            _, _, length = GEOD.inv(x1, y1, x2, y2)
            steps = max(2, int(length // 10))
            for lo, la in GEOD.npts(x1, y1, x2, y2, steps, initial_idx=0, terminus_idx=0):
                best = min(best, GEOD.inv(lon, lat, lo, la)[2])
    return best


def test_distances_to_sites_agree_with_the_ellipsoid_to_a_few_parts_in_ten_thousand() -> None:
    rng = random.Random(12)
    for _ in range(40):
        site = rng.choice(demo.PROTECTED_SITES)
        azimuth, metres = rng.uniform(0, 360), rng.uniform(500, 3500)
        lon, lat, _ = GEOD.fwd(site.lon, site.lat, azimuth, metres)
        subject = engine.Subject(
            "n",
            "activity",
            {"type": "Point", "coordinates": [lon, lat]},
            500,
            T0,
            T0 + timedelta(hours=1),
        )
        found = engine.conflicts_of([subject], SITES, [], RULES)["n"]
        mine = [c for c in found if c.id == site.id]
        if metres <= 2500 * (1 - 5e-4):
            [conflict] = mine
            assert conflict.distance_m == pytest.approx(metres, rel=5e-4, abs=0.2)
            assert conflict.required_m == 2500
        elif metres > 2500 * (1 + 5e-4):
            assert mine == []


def test_two_notifications_conflict_only_when_they_overlap_in_space_and_time() -> None:
    lon, lat = 35.70, 33.20
    east, north, _ = GEOD.fwd(lon, lat, 90, 2900)

    def at(
        x: float, y: float, start: int, hours: int, kind: str = "activity", buffer: int = 1500
    ) -> engine.Subject:
        return engine.Subject(
            f"{kind}-{x}-{start}",
            kind,
            {"type": "Point", "coordinates": [x, y]},
            buffer,
            T0 + timedelta(hours=start),
            T0 + timedelta(hours=start + hours),
        )

    a = at(lon, lat, 0, 4)
    near_overlapping = at(east, north, 3, 4)
    near_later = at(east, north, 4, 4)  # begins as a ends: no overlap
    movement = at(east, north, 1, 2, kind="movement", buffer=1000)  # 2900 m > 1500 + 1000
    found = engine.conflicts_of([a, near_overlapping, near_later, movement], [], [], RULES)
    assert [c.id for c in found[a.id]] == [near_overlapping.id]
    conflict = next(c for c in found[near_overlapping.id] if c.id == a.id)
    assert conflict.distance_m == pytest.approx(2900, rel=5e-4)
    assert (conflict.overlap_from, conflict.overlap_until) == (
        T0 + timedelta(hours=3),
        T0 + timedelta(hours=4),
    )
    assert a.id not in {c.id for c in found[near_later.id]}
    # The movement overlaps a in time only, 2,900 m away: more than 1,500 + 1,000 m.
    assert found[movement.id] == []
    # Two humanitarian movements never conflict with each other (no such pair in the rules).
    convoy = at(lon, lat, 0, 4, kind="movement", buffer=5000)
    assert engine.conflicts_of([convoy, movement], [], [], RULES)[convoy.id] == []


def test_the_vectorised_check_equals_a_pairwise_loop_on_random_notifications() -> None:
    rng = random.Random(7)
    kinds = ["activity", "movement", "site", "emergency"]
    subjects = []
    for i in range(120):
        lon, lat = rng.uniform(35.7, 35.95), rng.uniform(33.05, 33.3)
        kind = rng.choice(kinds)
        geometry = (
            {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.03, lat + 0.01]]}
            if kind == "movement"
            else {"type": "Point", "coordinates": [lon, lat]}
        )
        start = rng.randrange(0, 48)
        subjects.append(
            engine.Subject(
                f"n{i}",
                kind,
                geometry,
                rng.choice([0, 500, 2000]),
                T0 + timedelta(hours=start),
                T0 + timedelta(hours=start + rng.randrange(1, 12)),
            )
        )
    found = engine.conflicts_of(subjects, SITES, ZONES, RULES)
    index = engine.ConflictIndex(subjects, SITES, ZONES, RULES)
    metric = index.metric()
    sites = engine.Frame.of(RULES).to_metric([shape(s.geometry) for s in SITES])
    zone = engine.Frame.of(RULES).to_metric([shape(SEPARATION)])[0]
    for s in subjects:
        expected = set()
        g = metric[s.id]
        if s.kind == "activity":
            for site, projected in zip(SITES, sites, strict=True):
                if round(g.distance(projected), 1) <= s.buffer_m + site.buffer_m:
                    expected.add(("site", site.id))
            if g.intersects(zone):
                expected.add(("zone", "area-of-separation"))
        for o in subjects:
            if o.id == s.id or not RULES.conflicts_pair(s.kind, o.kind):
                continue
            if not (s.starts_at < o.ends_at and o.starts_at < s.ends_at):
                continue
            if round(g.distance(metric[o.id]), 1) <= s.buffer_m + o.buffer_m:
                expected.add(("notification", o.id))
        assert {(str(c.with_), c.id) for c in found[s.id]} == expected, s.id
    assert sum(len(v) for v in found.values()) > 20  # the sample has conflicts to find


# Points whose distance to the nearest line is known on the ellipsoid, away from 10 km.
CANDIDATES = [
    (35.84, 33.15),  # inside the area of separation
    (35.75, 33.20),
    (35.70, 33.20),
    (35.60, 33.20),
    (36.00, 33.05),
    (36.10, 33.42),
    (36.30, 32.66),
    (35.95, 32.80),
    (35.78, 33.05),
]


@pytest.mark.parametrize("seed", range(4))
def test_lead_time_verdicts_follow_the_issues_rules_on_random_scenarios(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        kind = rng.choice(["activity", "movement", "emergency", "site"])
        flash = kind == "emergency" and rng.random() < 0.4
        lon, lat = rng.choice(CANDIDATES)
        metres = geodesic_to_line(lon, lat)
        assert abs(metres - 10_000) > 300, (lon, lat)  # no point on the fence
        hours_ahead = rng.choice([0.5, 23.9, 24, 47.9, 48, 71.9, 72, 100])
        notified = T0
        starts = T0 + timedelta(hours=hours_ahead)
        # The issue's rules, restated.
        if flash:
            needed = 0.0
        elif kind == "activity":
            needed = 72.0 if metres <= 10_000 else 0.0
        elif kind == "movement":
            needed = 48.0
        elif kind == "emergency":
            needed = 24.0
        else:
            needed = 0.0
        expected = "on_time" if hours_ahead >= needed else "late"
        near = engine.near_line({"type": "Point", "coordinates": [lon, lat]}, [SEPARATION], RULES)
        assert near == (metres <= 10_000), (lon, lat, metres)
        verdict = judge(
            kind=kind,
            flash=flash,
            near_line=near,
            starts_at=starts,
            notified_at=notified,
            rules=RULES,
        )
        assert verdict.lead_time == expected, (kind, flash, hours_ahead, metres)


def test_a_route_near_a_line_somewhere_along_it_is_near_the_line() -> None:
    far_start, far_end = (35.55, 33.0), (35.60, 33.30)
    crossing = [far_start, (35.80, 33.13), far_end]  # its middle vertex is by line A
    assert not engine.near_line(
        {"type": "LineString", "coordinates": [list(far_start), list(far_end)]}, [SEPARATION], RULES
    )
    assert engine.near_line(
        {"type": "LineString", "coordinates": [list(p) for p in crossing]}, [SEPARATION], RULES
    )
    assert LineString(crossing).length > 0
