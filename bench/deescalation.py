"""The compliance engine: holdings against the zone set, vectorised, and the demo's compliance
recomputed after each new observation.

- engine: ``--holdings`` (10^6) random holdings over the bands' extent, both parties, every
  category, evaluated by ``deescalation.engine.compliance`` against the demo's eight zones;
  the rate is holding x zone checks per second (the target is at least 5,000,000), best of
  ``--repeat`` runs, with the zone-membership step on its own beside it;
- reference, in the same run and over the same holdings: a naive Python loop of shapely
  ``zone.contains(Point(x, y))`` calls over ``--naive`` of them (a sample: the loop is slow),
  as a rate of checks per second; ``ratio`` is the engine's rate over the reference's;
- demo: the demo cell with its de-escalation story in a fresh SQLite database; the verifier
  records ``--observations`` new observations one at a time, and after each the viewer's
  compliance is recomputed from the database (``queries.compliance``: read, build, evaluate)
  for the verification class; p50 / p99 of that recomputation.

    python -m bench.deescalation [--holdings 1000000] [--naive 20000] [--observations 200]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point

from bench.common import latency_summary
from fusioncell.deescalation import engine
from fusioncell.deescalation.rules import load_rules
from fusioncell.geo.derive import demo_zone_features, feature_collection

T = datetime(2026, 2, 1, tzinfo=UTC)


def random_holdings(n: int, geometry: engine.Geometry, categories: int) -> engine.Observations:
    rng = np.random.default_rng(7)
    bounds = np.array([z.geometry.bounds for z in geometry.zones])
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()
    return engine.Observations(
        ids=np.array([f"o{i}" for i in range(n)], dtype=object),
        unit=np.arange(n, dtype=np.int64),
        party=rng.integers(0, 2, n, dtype=np.int64),
        category=rng.integers(0, categories, n, dtype=np.int64),
        count=rng.integers(0, 50, n, dtype=np.int64),
        calibre=rng.choice([np.nan, 105.0, 152.0], n),
        range_km=rng.choice([np.nan, 15.0, 25.0], n),
        x=rng.uniform(west, east, n),
        y=rng.uniform(south, north, n),
        t=np.full(n, engine.micros(T - timedelta(days=1)), dtype=np.int64),
        source=np.full(n, engine.SOURCES.index("inspection"), dtype=np.int64),
        parties=("ALPHA", "BRAVO"),
    )


def bench_engine(n: int, naive_n: int, repeat: int) -> dict[str, Any]:
    rules = load_rules()
    geometry = engine.Geometry.from_features(feature_collection(demo_zone_features()))
    zones = len(geometry.zones)
    holdings = random_holdings(n, geometry, len(rules.categories))
    runs, memberships = [], []
    result = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = engine.compliance(geometry, holdings, [], [], rules, at=T, source="verification")
        runs.append(time.perf_counter() - began)
        began = time.perf_counter()
        engine._memberships(geometry, holdings.x, holdings.y)
        memberships.append(time.perf_counter() - began)
    assert result is not None
    best = min(runs)
    # The reference: one shapely call per holding and zone, in Python.
    sample = range(min(naive_n, n))
    # Fresh copies: the engine's zones are prepared, and a naive loop would not prepare them.
    shapes = [shapely.from_wkb(shapely.to_wkb(zone.geometry)) for zone in geometry.zones]
    began = time.perf_counter()
    naive_hits = 0
    for i in sample:
        point = Point(float(holdings.x[i]), float(holdings.y[i]))
        for shape in shapes:
            naive_hits += bool(shape.contains(point))
    naive = time.perf_counter() - began
    naive_rate = len(sample) * zones / naive
    rate = n * zones / best
    return {
        "holdings": n,
        "zones": zones,
        "checks": n * zones,
        "seconds_best": round(best, 4),
        "seconds_all": [round(s, 4) for s in runs],
        "checks_per_second": round(rate),
        "membership_checks_per_second": round(n * zones / min(memberships)),
        "target_checks_per_second": 5_000_000,
        "meets_target": rate >= 5_000_000,
        "candidates": len(result.candidates),
        "reference": {
            "what": "Python loop of shapely contains(Point) per holding and zone, unprepared",
            "holdings": len(sample),
            "seconds": round(naive, 4),
            "checks_per_second": round(naive_rate),
        },
        "ratio": round(rate / naive_rate, 1),
    }


def bench_demo(observations: int) -> dict[str, Any]:
    from fusioncell import bootstrap  # noqa: F401  (registers the tracks)
    from fusioncell.cell.queries import console_of_cell, get_member_by_username, viewer_of
    from fusioncell.config import Settings
    from fusioncell.db import migrate
    from fusioncell.db.engine import create_db_engine, make_sessionmaker
    from fusioncell.deescalation import queries
    from fusioncell.deescalation.actions.observations import do_record_observations
    from fusioncell.ledger.context import build_ledger_context
    from fusioncell.ledger.entries import log_time
    from fusioncell.scenario.deescalation_story import ALPHA_0_10, load_deescalation_story
    from fusioncell.scenario.demo import load_demo
    from fusioncell.scenario.hotline_story import LEAD

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(database_url=url, key_dir=Path(tmp) / "keys")
        db_engine = create_db_engine(url)
        migrate.upgrade(db_engine)
        sessions = make_sessionmaker(db_engine, ledger=build_ledger_context(settings))
        start = datetime(2026, 1, 6, 8, tzinfo=UTC)
        samples: list[float] = []
        with sessions() as db:
            load_demo(db, password="bench-password-1234", now=start, hash_profile="fast-insecure")
            db.commit()
            load_deescalation_story(db, start=start)
            console = console_of_cell(db)
            assert console is not None
            verifier = viewer_of(get_member_by_username(db, console, "verifier.lead"))
            db.commit()
            now = start + LEAD + timedelta(minutes=1)
            rng = np.random.default_rng(11)
            for i in range(observations):
                now += timedelta(seconds=1)
                lon = ALPHA_0_10[0] + float(rng.uniform(-0.02, 0.02))
                lat = ALPHA_0_10[1] + float(rng.uniform(-0.02, 0.02))
                feature = {
                    "type": "Feature",
                    "id": f"bench-{i}",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {
                        "unit": f"bench-unit-{i % 20}",
                        "party": "ALPHA",
                        "category": "tank",
                        "count": int(rng.integers(0, 10)),
                        "observed_at": log_time(now - timedelta(milliseconds=500)),
                        "source": "inspection",
                    },
                }
                collection = {"type": "FeatureCollection", "features": [feature]}
                do_record_observations(db, verifier, collection, now=now)
                began = time.perf_counter()
                queries.compliance(db, verifier, at=now, source="verification")
                samples.append(time.perf_counter() - began)
                db.commit()
        db_engine.dispose()
    return {"observations": observations, "recompute": latency_summary(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--holdings", type=int, default=1_000_000)
    parser.add_argument("--naive", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--observations", type=int, default=200)
    args = parser.parse_args()
    print(
        json.dumps(
            {
                "benchmark": "deescalation",
                "engine": bench_engine(args.holdings, args.naive, args.repeat),
                "demo": bench_demo(args.observations),
            }
        )
    )


if __name__ == "__main__":
    main()
