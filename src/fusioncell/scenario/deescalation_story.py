"""The demo's de-escalation story, mirrored: what is declared, inspected or reported about one
party is declared, inspected or reported about the other, so both sides' compliance is on
the record the moment the demo starts.

After the hotline's half hour (``start + LEAD``), before the intelligence story:

- each party declares its baseline at T0 (the rules' freeze date), and the supervisor
  accepts both;
- the verifier's scheduled inspections (R7) of each side: its side of the area of separation
  4 days ago, its 10-20 km band 13 days ago (100 artillery pieces, its baseline: due again
  in two days) and its 20-25 km band 16 days ago (overdue by a day), none before the freeze;
- one inspection finds 78 tanks in ALPHA's 0-10 km band (R2: at most 75) and another 6,200
  personnel in BRAVO's 0-10 km band (R2: at most 6,000), each above its party's baseline
  too (R6): the counted holdings are the reports' inspection observations;
- each party reports artillery of 25 km range in the other's 10-20 km band (R3: at most
  20 km), released to the reporter and the supervisor;
- each party then requests an inspection of the other's 10-20 km band, and the verifier is
  denied access there by that party (R12: an incident attributed to it); each also requests
  an inspection of the other's 0-10 km band, still open, due within 48 hours;
- one exception, "BRAVO may hold up to 80 tanks in its 0-10 km band" for two months,
  signed by ALPHA, BRAVO and the supervisor; the verifier's sensors then see 78 BRAVO tanks
  there, the same count as ALPHA's, and the candidates name the exception that covers them.

Findings and reports are dated in the hours before the demo starts, scheduled inspections
days before it (never before the freeze). Every step has a stable id, so loading the story
again writes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import console_of_cell, get_member_by_username, viewer_of
from fusioncell.deescalation.actions.baselines import do_accept_baseline, do_declare_baseline
from fusioncell.deescalation.actions.exceptions import do_propose_exception, do_sign_exception
from fusioncell.deescalation.actions.inspections import do_report_inspection, do_request_inspection
from fusioncell.deescalation.actions.observations import do_record_observations
from fusioncell.deescalation.queries import rules_in_force
from fusioncell.ledger.entries import log_time
from fusioncell.scenario.demo import stable_id
from fusioncell.scenario.hotline_story import LEAD

# Points in each party's bands (lon, lat), and away from sector S.
ALPHA_0_10 = (35.72, 33.20)
BRAVO_0_10 = (35.95, 33.38)
ALPHA_10_20 = (35.70, 33.40)
BRAVO_10_20 = (36.02, 33.40)

# The story's steps are this far apart, all within the five seconds before the intelligence
# story begins.
TICK = timedelta(seconds=0.15)
# Scheduled inspections of each side, how long before the story's start: (zone's band or the
# area of separation, days ago, artillery counted).
SCHEDULED = (
    ("area-of-separation", 4, 0),
    ("10-20", 13, 100),
    ("20-25", 16, 0),
)
POINTS_10_20 = {"ALPHA": ALPHA_10_20, "BRAVO": BRAVO_10_20}

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


def _zone(band: str, side: str) -> str:
    return band if band == "area-of-separation" else f"limitation-{side.lower()}-{band}"


def load_deescalation_story(db: Session, *, start: datetime) -> None:
    """The story's entries from ``start + LEAD`` on, ``TICK`` apart."""
    at = start + LEAD
    seen = start - timedelta(hours=3)
    freeze = rules_in_force(db).freeze_at

    def tick() -> datetime:
        nonlocal at
        at += TICK
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
    for side in ("ALPHA", "BRAVO"):
        for band, days, artillery in SCHEDULED:
            zone = _zone(band, side)
            when = max(start - timedelta(days=days), freeze)
            counted = (
                _collection(
                    _point(
                        f"insp-{side.lower()}-{band}-artillery",
                        POINTS_10_20[side],
                        party=side,
                        category="artillery",
                        count=artillery,
                        source="inspection",
                        observed_at=when,
                        calibre_mm=122,
                        range_km=18,
                    )
                )
                if artillery
                else None
            )
            do_report_inspection(
                db,
                verifier,
                report_id=stable_id("deescalation-story", f"inspection-{side}-{band}"),
                zone=zone,
                side=side,
                inspected_at=when,
                outcome="completed",
                holdings=counted,
                now=tick(),
            )
    # The inspections that find holdings above the limits, one per party.
    for side, zone, where, category, counts in (
        ("ALPHA", "limitation-alpha-0-10", ALPHA_0_10, "tank", (40, 38)),
        ("BRAVO", "limitation-bravo-0-10", BRAVO_0_10, "personnel", (3100, 3100)),
    ):
        name = "tanks" if category == "tank" else "men"
        do_report_inspection(
            db,
            verifier,
            report_id=stable_id("deescalation-story", f"inspection-{side}-0-10"),
            zone=zone,
            side=side,
            inspected_at=seen,
            outcome="completed",
            note="Counted on site by two teams",
            holdings=_collection(
                *(
                    _point(
                        f"insp-{side.lower()}-{name}-{n}",
                        where,
                        party=side,
                        category=category,
                        count=count,
                        source="inspection",
                        observed_at=seen,
                    )
                    for n, count in enumerate(counts, start=1)
                )
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
    # Each party asks for an inspection where it reported artillery; the other party turns
    # the verifier back (R12). Each also asks for one of the other's 0-10 km band: still open.
    for requester, other in (("ALPHA", "BRAVO"), ("BRAVO", "ALPHA")):
        asked = do_request_inspection(
            db,
            officers[requester],
            request_id=stable_id("deescalation-story", f"request-{requester}-10-20"),
            zone=f"limitation-{other.lower()}-10-20",
            side=other,
            reason=f"Artillery of 25 km range reported in {other}'s 10-20 km band",
            now=tick(),
        )
        denied_at = tick()
        do_report_inspection(
            db,
            verifier,
            report_id=stable_id("deescalation-story", f"denied-{requester}-10-20"),
            zone=asked.zone,
            side=other,
            inspected_at=denied_at,
            outcome="access_denied",
            request_id=asked.id,
            denied_by=other,
            note="The team was turned back at the band's checkpoint",
            now=denied_at,
        )
    for requester, other in (("ALPHA", "BRAVO"), ("BRAVO", "ALPHA")):
        do_request_inspection(
            db,
            officers[requester],
            request_id=stable_id("deescalation-story", f"request-{requester}-0-10"),
            zone=f"limitation-{other.lower()}-0-10",
            side=other,
            reason=f"Verify the tanks in {other}'s 0-10 km band",
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
