"""The demo's de-escalation story, mirrored: what is declared, inspected or reported about one
party is declared, inspected or reported about the other, so both sides' compliance is on
the record the moment the demo starts.

After the hotline's half hour (``start + LEAD``), before the intelligence story:

- each party declares its baseline at T0 (the rules' freeze date), and the supervisor
  accepts both;
- the verifier's inspection finds 78 tanks in ALPHA's 0-10 km band (R2: at most 75) and
  another 6,200 personnel in BRAVO's 0-10 km band (R2: at most 6,000), each above its
  party's baseline too (R6);
- each party reports artillery of 25 km range in the other's 10-20 km band (R3: at most
  20 km), released to the reporter and the supervisor;
- one exception, "BRAVO may hold up to 80 tanks in its 0-10 km band" for two months,
  signed by ALPHA, BRAVO and the supervisor; the verifier's sensors then see 78 BRAVO tanks
  there, the same count as ALPHA's, and the candidates name the exception that covers them.

Observations are dated in the hours before the demo starts. Every step has a stable id, so
loading the story again writes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import console_of_cell, get_member_by_username, viewer_of
from fusioncell.deescalation.actions.baselines import do_accept_baseline, do_declare_baseline
from fusioncell.deescalation.actions.exceptions import do_propose_exception, do_sign_exception
from fusioncell.deescalation.actions.observations import do_record_observations
from fusioncell.ledger.entries import log_time
from fusioncell.scenario.demo import stable_id
from fusioncell.scenario.hotline_story import LEAD

# Points in each party's bands (lon, lat), and away from sector S.
ALPHA_0_10 = (35.72, 33.20)
BRAVO_0_10 = (35.95, 33.38)
ALPHA_10_20 = (35.70, 33.40)
BRAVO_10_20 = (36.02, 33.40)

BASELINES = {
    "ALPHA": [
        {"zone": "limitation-alpha-0-10", "category": "personnel", "count": 5000},
        {"zone": "limitation-alpha-0-10", "category": "tank", "count": 70},
        {"zone": "limitation-alpha-0-10", "category": "artillery", "count": 30},
        {"zone": "limitation-alpha-10-20", "category": "artillery", "count": 100},
    ],
    "BRAVO": [
        {"zone": "limitation-bravo-0-10", "category": "personnel", "count": 5000},
        {"zone": "limitation-bravo-0-10", "category": "tank", "count": 70},
        {"zone": "limitation-bravo-0-10", "category": "artillery", "count": 30},
        {"zone": "limitation-bravo-10-20", "category": "artillery", "count": 100},
    ],
}


def _viewer(db: Session, username: str) -> Viewer:
    console = console_of_cell(db)
    if console is None:
        raise LookupError("the demo cell is not set up")
    viewer = viewer_of(get_member_by_username(db, console, username))
    db.commit()
    return viewer


def _point(
    fid: str,
    where: tuple[float, float],
    *,
    party: str,
    category: str,
    count: int,
    source: str,
    observed_at: datetime,
    **more: Any,
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": list(where)},
        "properties": {
            "unit": fid,
            "party": party,
            "category": category,
            "count": count,
            "observed_at": log_time(observed_at),
            "source": source,
            **more,
        },
    }


def _collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def load_deescalation_story(db: Session, *, start: datetime) -> None:
    """The story's entries from ``start + LEAD`` on, 0.4 s apart: all within the five seconds
    before the intelligence story begins."""
    at = start + LEAD
    seen = start - timedelta(hours=3)

    def tick() -> datetime:
        nonlocal at
        at += timedelta(seconds=0.4)
        return at

    supervisor = _viewer(db, "supervisor.chair")
    verifier = _viewer(db, "verifier.lead")
    officers = {"ALPHA": _viewer(db, "alpha.liaison"), "BRAVO": _viewer(db, "bravo.liaison")}
    for party, holdings in BASELINES.items():
        baseline = stable_id("deescalation-story", f"baseline-{party}")
        do_declare_baseline(
            db,
            officers[party],
            baseline_id=baseline,
            party=party,
            holdings=holdings,
            now=tick(),
        )
        do_accept_baseline(db, supervisor, baseline_id=baseline, now=tick())
    do_record_observations(
        db,
        verifier,
        _collection(
            _point(
                "insp-alpha-tanks-1",
                ALPHA_0_10,
                party="ALPHA",
                category="tank",
                count=40,
                source="inspection",
                observed_at=seen,
            ),
            _point(
                "insp-alpha-tanks-2",
                ALPHA_0_10,
                party="ALPHA",
                category="tank",
                count=38,
                source="inspection",
                observed_at=seen,
            ),
            _point(
                "insp-bravo-men-1",
                BRAVO_0_10,
                party="BRAVO",
                category="personnel",
                count=3100,
                source="inspection",
                observed_at=seen,
            ),
            _point(
                "insp-bravo-men-2",
                BRAVO_0_10,
                party="BRAVO",
                category="personnel",
                count=3100,
                source="inspection",
                observed_at=seen,
            ),
        ),
        now=tick(),
    )
    for reporter, other, where in (
        ("ALPHA", "BRAVO", BRAVO_10_20),
        ("BRAVO", "ALPHA", ALPHA_10_20),
    ):
        do_record_observations(
            db,
            officers[reporter],
            _collection(
                _point(
                    f"report-{other.lower()}-artillery",
                    where,
                    party=other,
                    category="artillery",
                    count=6,
                    source="report",
                    grade="B2",
                    range_km=25,
                    calibre_mm=122,
                    observed_at=seen + timedelta(hours=1),
                ),
            ),
            now=tick(),
        )
    exception = stable_id("deescalation-story", "exception-bravo-tanks")
    do_propose_exception(
        db,
        supervisor,
        exception_id=exception,
        party="BRAVO",
        zone="limitation-bravo-0-10",
        category="tank",
        max_count=80,
        valid_from=start - timedelta(days=1),
        valid_until=start + timedelta(days=60),
        note="Rotation of a tank battalion, agreed by both parties",
        now=tick(),
    )
    for signer in (officers["ALPHA"], officers["BRAVO"], supervisor):
        do_sign_exception(db, signer, exception_id=exception, now=tick())
    # The verifier's sensors see the battalion: 78 tanks, as in ALPHA's band, but covered.
    do_record_observations(
        db,
        verifier,
        _collection(
            _point(
                "sensor-bravo-tanks",
                BRAVO_0_10,
                party="BRAVO",
                category="tank",
                count=78,
                source="sensor",
                observed_at=seen + timedelta(hours=2),
            ),
        ),
        now=tick(),
    )
    db.commit()
