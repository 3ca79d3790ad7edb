"""The conflict check (R10), vectorised: ``--notifications`` (10,000) active notifications
against ``--sites`` (1,000) protected sites and each other, in space and time, and the area
of separation for military activity.

- full check: ``deconfliction.conflicts.ConflictIndex`` built (every geometry projected, three
  STRtrees) and asked for every notification's conflicts, best of ``--repeat`` runs. The
  rate counts the checks the result answers for: every notification against every site
  (``notifications x sites``) and every pair of notifications (``n (n - 1) / 2``), in space
  and time, per second;
- re-check after one change: one notification moved (a new version), as an amendment does
  it in the cell: a new index with every other geometry already projected (the process's
  cache), the changed notification checked, then every notification it conflicted with
  before or conflicts with now; and, beside it, everything checked again from scratch;
- reference, in the same run: a naive pairwise loop of shapely calls (each pair's time
  windows, kinds and ``distance``, geometries already projected, as fair to it as to the
  engine) for ``--naive`` of the notifications against every site and every other
  notification; its rate in checks per second, its conflicts compared with the engine's for
  those notifications, and ``ratio`` the engine's rate over the loop's.

    python -m bench.deconfliction [--notifications 10000] [--sites 1000] [--naive 200]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from shapely.geometry import shape

from bench.common import emit
from fusioncell.deconfliction import conflicts as engine
from fusioncell.deconfliction.rules import load_rules
from fusioncell.scenario import geometry as demo

T0 = datetime(2026, 3, 1, tzinfo=UTC)
# The region: the demo's geometry and 60 km around it (lon/lat).
WEST, SOUTH, EAST, NORTH = 35.2, 32.5, 36.7, 33.7
KINDS = ("activity", "movement", "site", "emergency")
SHARES = (0.55, 0.2, 0.1, 0.15)


def random_notifications(n: int, rng: np.random.Generator) -> list[engine.Subject]:
    kinds = rng.choice(len(KINDS), size=n, p=SHARES)
    lon = rng.uniform(WEST, EAST, n)
    lat = rng.uniform(SOUTH, NORTH, n)
    starts = rng.uniform(0, 7 * 24, n)
    hours = rng.uniform(1, 12, n)
    buffers = rng.choice([0, 500, 1000, 2000, 3000], n)
    subjects = []
    for i in range(n):
        kind = KINDS[kinds[i]]
        if kind == "movement":
            steps = rng.normal(0, 0.05, (3, 2)).cumsum(axis=0)
            route = [[lon[i], lat[i]], *([lon[i] + dx, lat[i] + dy] for dx, dy in steps)]
            geometry: dict[str, Any] = {"type": "LineString", "coordinates": route}
        elif kind == "activity" and i % 5 == 0:
            d = 0.01
            ring = [
                [lon[i], lat[i]],
                [lon[i] + d, lat[i]],
                [lon[i] + d, lat[i] + d],
                [lon[i], lat[i] + d],
                [lon[i], lat[i]],
            ]
            geometry = {"type": "Polygon", "coordinates": [ring]}
        else:
            geometry = {"type": "Point", "coordinates": [lon[i], lat[i]]}
        subjects.append(
            engine.Subject(
                id=f"n{i}",
                kind=kind,
                geometry=geometry,
                buffer_m=float(buffers[i]),
                starts_at=T0 + timedelta(hours=float(starts[i])),
                ends_at=T0 + timedelta(hours=float(starts[i] + hours[i])),
            )
        )
    return subjects


def random_sites(n: int, rng: np.random.Generator) -> list[engine.Protected]:
    lon, lat = rng.uniform(WEST, EAST, n), rng.uniform(SOUTH, NORTH, n)
    return [
        engine.Protected(
            f"s{i}", f"site {i}", {"type": "Point", "coordinates": [lon[i], lat[i]]}, 2000.0
        )
        for i in range(n)
    ]


def naive(
    chosen: list[engine.Subject],
    subjects: list[engine.Subject],
    metric: dict[str, Any],
    sites: list[engine.Protected],
    site_metric: list[Any],
    zone: Any,
    rules: Any,
) -> tuple[float, int, dict[str, set[tuple[str, str]]]]:
    """One shapely call per pair, in Python: (seconds, checks, conflicts)."""
    found: dict[str, set[tuple[str, str]]] = {}
    checks = 0
    began = time.perf_counter()
    for s in chosen:
        mine: set[tuple[str, str]] = set()
        g = metric[s.id]
        for site, projected in zip(sites, site_metric, strict=True):
            checks += 1
            if s.kind in rules.site_kinds and round(g.distance(projected), 1) <= (
                s.buffer_m + site.buffer_m
            ):
                mine.add(("site", site.id))
        for o in subjects:
            if o.id == s.id:
                continue
            checks += 1
            if not rules.conflicts_pair(s.kind, o.kind):
                continue
            if not (s.starts_at < o.ends_at and o.starts_at < s.ends_at):
                continue
            if round(g.distance(metric[o.id]), 1) <= s.buffer_m + o.buffer_m:
                mine.add(("notification", o.id))
        if s.kind == "activity" and g.intersects(zone):
            mine.add(("zone", "area-of-separation"))
        found[s.id] = mine
    return time.perf_counter() - began, checks, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=1_000)
    parser.add_argument("--naive", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rules = load_rules()
    rng = np.random.default_rng(12)
    subjects = random_notifications(args.notifications, rng)
    sites = random_sites(args.sites, rng)
    separation = {"type": "Polygon", "coordinates": [[list(p) for p in demo.SEPARATION_RING]]}
    zones = [engine.Zone("area-of-separation", "separation", separation)]
    n, s = len(subjects), len(sites)
    checks = n * s + n * (n - 1) // 2

    runs, result, index = [], {}, None
    for _ in range(args.repeat):
        began = time.perf_counter()
        index = engine.ConflictIndex(subjects, sites, zones, rules)
        result = index.check_all()
        runs.append(time.perf_counter() - began)
    assert index is not None
    best = min(runs)
    conflicts = sum(len(v) for v in result.values())

    # One change: the first notification moves 3 km north (an amendment).
    metric = index.metric()
    changed = subjects[0]
    lon, lat = shape(changed.geometry).representative_point().coords[0]
    moved = replace(changed, geometry={"type": "Point", "coordinates": [lon, lat + 0.027]})
    after = [moved, *subjects[1:]]
    partners_before = {c.id for c in result[changed.id] if c.with_ == "notification"}
    incremental = []
    for _ in range(args.repeat):
        began = time.perf_counter()
        known = {k: v for k, v in metric.items() if k != changed.id}
        fresh = engine.ConflictIndex(after, sites, zones, rules, metric=known)
        mine = fresh.check_ids([moved.id])
        partners = partners_before | {c.id for c in mine[moved.id] if c.with_ == "notification"}
        fresh.check_ids(sorted(partners))
        incremental.append(time.perf_counter() - began)
    began = time.perf_counter()
    engine.ConflictIndex(after, sites, zones, rules, metric={**metric}).check_all()
    full_again = time.perf_counter() - began

    # The reference, on a sample, with the geometries the engine projected.
    chosen = subjects[: args.naive]
    frame = engine.Frame.of(rules)
    site_metric = list(frame.to_metric([shape(p.geometry) for p in sites]))
    zone = frame.to_metric([shape(separation)])[0]
    seconds, naive_checks, expected = naive(
        chosen, subjects, metric, sites, site_metric, zone, rules
    )
    agree = all({(str(c.with_), c.id) for c in result[x.id]} == expected[x.id] for x in chosen)
    rate = checks / best
    naive_rate = naive_checks / seconds
    emit(
        {
            "bench": "deconfliction",
            "notifications": n,
            "sites": s,
            "checks": checks,
            "conflicts_found": conflicts,
            "full_check_s": round(best, 4),
            "checks_per_s": round(rate),
            "notifications_checked_per_s": round(n / best),
            "recheck_after_one_change_s": round(min(incremental), 5),
            "recheck_everything_after_one_change_s": round(full_again, 4),
            "naive": {
                "notifications": len(chosen),
                "checks": naive_checks,
                "seconds": round(seconds, 3),
                "checks_per_s": round(naive_rate),
                "agrees_with_engine": agree,
                "full_check_s_estimated": round(checks / naive_rate, 1),
            },
            "ratio": round(rate / naive_rate, 1),
        }
    )


if __name__ == "__main__":
    main()
