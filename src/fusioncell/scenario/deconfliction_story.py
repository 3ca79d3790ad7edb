"""The demo's notifications, mirrored: each party notifies one planned activity and one FLASH
medical evacuation, and the other acknowledges each; the humanitarian organisation notifies a
convoy that both acknowledge.

In the last seconds before the demo starts (after the registry's story):

- HUM-1 notifies a convoy from the Daraa warehouse to the Suwayda hospital, 48 hours ahead
  (on time), with its route, vehicles, markings, contact and cargo; ALPHA's and BRAVO's duty
  officers acknowledge receipt;
- ALPHA notifies engineering works beside Majdal Shams 72 hours ahead (on time; within 10 km
  of line A): inside the site's buffer, so the check flags the conflict; BRAVO acknowledges
  receipt; ALPHA amends the works to a place 5 km away, the check finds it clear, and BRAVO
  acknowledges the amendment;
- BRAVO notifies live-fire training in its 20-25 km band, north of sector S, 72 hours ahead:
  clear; ALPHA acknowledges receipt;
- each party notifies a FLASH medical evacuation through the Quneitra crossing, at once: on
  time as FLASH, its written justification due within 24 hours; the other party's duty
  officer acknowledges it within the two minutes FLASH gives.

Every step has a stable id, so loading the story again writes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import console_of_cell, get_member_by_username, viewer_of
from fusioncell.deconfliction.actions.acknowledgements import do_acknowledge_notification
from fusioncell.deconfliction.actions.notifications import (
    do_amend_notification,
    do_submit_notification,
)
from fusioncell.scenario.demo import stable_id
from fusioncell.scenario.geometry import PROTECTED_SITES

TICK = timedelta(seconds=0.5)
# A margin over each lead time, so the notification is on time whatever the seconds the
# stories before it take.
MARGIN = timedelta(hours=1)

SITE = {s.id: (s.lon, s.lat) for s in PROTECTED_SITES}
# The convoy's road, Daraa warehouse to Suwayda hospital (lon, lat).
CONVOY_ROUTE = [SITE["daraa-warehouse"], (36.22, 32.64), (36.40, 32.68), SITE["suwayda-hospital"]]
# Engineering works 1.2 km south-west of Majdal Shams, then moved 5 km west of it.
WORKS = (35.757, 33.259)
WORKS_MOVED = (35.714, 33.262)
# BRAVO's 20-25 km band, north of sector S.
TRAINING = (36.10, 33.42)
# Through the Quneitra crossing, from each side to hospital on the other.
MEDEVAC = {
    "ALPHA": [(35.74, 33.14), SITE["quneitra-crossing"], (35.93, 33.11)],
    "BRAVO": [(35.93, 33.11), SITE["quneitra-crossing"], (35.74, 33.14)],
}


def _viewer(db: Session, username: str) -> Viewer:
    console = console_of_cell(db)
    if console is None:
        raise LookupError("the demo cell is not set up")
    viewer = viewer_of(get_member_by_username(db, console, username))
    db.commit()
    return viewer


def _point(where: tuple[float, float]) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(where)}


def _line(points: list[tuple[float, float]]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [list(p) for p in points]}


def load_deconfliction_story(db: Session, *, start: datetime) -> None:
    at = start

    def tick() -> datetime:
        nonlocal at
        at += TICK
        return at

    def sid(name: str) -> Any:
        return stable_id("deconfliction-story", name)

    hum = _viewer(db, "hum1.coordinator")
    liaison = {"ALPHA": _viewer(db, "alpha.liaison"), "BRAVO": _viewer(db, "bravo.liaison")}
    duty = {"ALPHA": _viewer(db, "alpha.duty"), "BRAVO": _viewer(db, "bravo.duty")}

    convoy_start = start + timedelta(hours=48) + MARGIN
    convoy = do_submit_notification(
        db,
        hum,
        notification_id=sid("convoy"),
        kind="movement",
        category="convoy",
        geometry=_line(CONVOY_ROUTE),
        buffer_m=1000,
        starts_at=convoy_start,
        ends_at=convoy_start + timedelta(hours=8),
        description="Food and medical supplies from the Daraa warehouse to Suwayda hospital",
        participants=["HUM-1 convoy team 3"],
        details={
            "vehicles": 12,
            "markings": "White trucks, HUM-1 flags and roof panels",
            "contact": "Convoy leader, satellite phone +000 555 0103",
            "cargo": "Wheat flour, insulin, surgical kits",
        },
        now=tick(),
    )
    for party in ("ALPHA", "BRAVO"):
        do_acknowledge_notification(
            db, duty[party], convoy.id, ack_id=sid(f"convoy-ack-{party}"), now=tick()
        )

    works_start = start + timedelta(hours=72) + MARGIN
    works = do_submit_notification(
        db,
        liaison["ALPHA"],
        notification_id=sid("works"),
        kind="activity",
        category="engineering",
        geometry=_point(WORKS),
        buffer_m=500,
        starts_at=works_start,
        ends_at=works_start + timedelta(hours=10),
        description="Engineering works: repairing a culvert on the road south-west of Majdal Shams",
        participants=["Engineer platoon, 20 personnel, 2 excavators"],
        now=tick(),
    )
    do_acknowledge_notification(db, duty["BRAVO"], works.id, ack_id=sid("works-ack"), now=tick())
    do_amend_notification(
        db,
        liaison["ALPHA"],
        works.id,
        version=0,
        category="engineering",
        geometry=_point(WORKS_MOVED),
        buffer_m=500,
        starts_at=works_start,
        ends_at=works_start + timedelta(hours=10),
        description="Engineering works: repairing a culvert 5 km west of Majdal Shams",
        participants=["Engineer platoon, 20 personnel, 2 excavators"],
        reason="The first place was inside Majdal Shams's protective buffer.",
        now=tick(),
    )
    do_acknowledge_notification(
        db, duty["BRAVO"], works.id, ack_id=sid("works-ack-amended"), now=tick()
    )

    training_start = start + timedelta(hours=72) + MARGIN
    training = do_submit_notification(
        db,
        liaison["BRAVO"],
        notification_id=sid("training"),
        kind="activity",
        category="live_fire",
        geometry=_point(TRAINING),
        buffer_m=3000,
        starts_at=training_start,
        ends_at=training_start + timedelta(hours=6),
        description="Live-fire training, small arms, in the 20-25 km band north of sector S",
        participants=["Infantry company, 120 personnel"],
        now=tick(),
    )
    do_acknowledge_notification(
        db, duty["ALPHA"], training.id, ack_id=sid("training-ack"), now=tick()
    )

    for party, other in (("ALPHA", "BRAVO"), ("BRAVO", "ALPHA")):
        now = tick()
        medevac = do_submit_notification(
            db,
            liaison[party],
            notification_id=sid(f"medevac-{party}"),
            kind="emergency",
            category="medevac",
            flash=True,
            geometry=_line(MEDEVAC[party]),
            buffer_m=500,
            starts_at=now + timedelta(minutes=10),
            ends_at=now + timedelta(hours=2),
            description=(
                f"Medical evacuation of a wounded civilian through the Quneitra crossing, "
                f"{party} ambulance with a red crescent escort"
            ),
            details={"patients": 1, "vehicles": 2, "markings": "Ambulances, blue lights"},
            now=now,
        )
        do_acknowledge_notification(
            db, duty[other], medevac.id, ack_id=sid(f"medevac-{party}-ack"), now=tick()
        )
