"""The demo's registry, incidents and early-warning story, mirrored: every party signs every
place, each party has one denial of access attributed to it, and the one early warning goes
to both parties.

After the intelligence story (the last few seconds before the demo starts):

- HUM-1 proposes the Suwayda community (the Druze residents of Suwayda) and three sites
  there (a school, a shrine, its warehouse); ALPHA's and BRAVO's liaison officers and the
  supervisor sign each, so they are in force and on the next no-strike lists;
- BRAVO proposes the Hader community beside the line, which ALPHA and the supervisor have yet
  to sign: it shows a place awaiting signatures;
- the verifier reports two denials of its access (R12): at Majdal Shams, attributed to ALPHA,
  and at Hader, attributed to BRAVO;
- HUM-1 reports armed men threatening the road just east of Suwayda: within the rules'
  distance of the community, so the cell raises an early warning to the supervisor, HUM-1
  and both parties, and each party's hotline carries it as an IMMEDIATE message. The
  supervisor and HUM-1 acknowledge the alert, and each party's duty officer acknowledges it
  on the hotline and here.

Every step has a stable id, so loading the story again writes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import console_of_cell, get_member_by_username, viewer_of
from fusioncell.deconfliction.actions.early_warning import carry_alerts, do_acknowledge_alert
from fusioncell.deconfliction.actions.incidents import do_report_incident
from fusioncell.deconfliction.actions.registry import do_propose_place, do_sign_place
from fusioncell.hotline.actions.channels import bilateral_channel_id
from fusioncell.hotline.actions.messages import do_acknowledge_message
from fusioncell.hotline.queries import list_messages
from fusioncell.scenario.demo import stable_id

TICK = timedelta(seconds=1)

SUWAYDA = [
    [36.535, 32.690],
    [36.600, 32.688],
    [36.612, 32.720],
    [36.590, 32.748],
    [36.540, 32.742],
    [36.535, 32.690],
]
HADER = [[35.821, 33.271], [35.840, 33.271], [35.841, 33.288], [35.822, 33.289], [35.821, 33.271]]
SITES = (
    ("school", "Suwayda secondary school", (36.5752, 32.7051)),
    ("place_of_worship", "Ain al-Zaman shrine", (36.5638, 32.7094)),
    ("warehouse", "HUM-1 warehouse, Suwayda", (36.5811, 32.7196)),
)
# About 2 km east of the community's edge, on the road out of Suwayda.
ROAD_EAST_OF_SUWAYDA = (36.633, 32.718)


def _viewer(db: Session, username: str) -> Viewer:
    console = console_of_cell(db)
    if console is None:
        raise LookupError("the demo cell is not set up")
    viewer = viewer_of(get_member_by_username(db, console, username))
    db.commit()
    return viewer


def _polygon(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


def _point(where: tuple[float, float]) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(where)}


def load_protection_story(db: Session, *, start: datetime) -> None:
    """The story's entries from ``start`` on, ``TICK`` apart."""
    at = start

    def tick() -> datetime:
        nonlocal at
        at += TICK
        return at

    hum = _viewer(db, "hum1.coordinator")
    bravo = _viewer(db, "bravo.liaison")
    verifier = _viewer(db, "verifier.lead")
    signatories = [_viewer(db, u) for u in ("alpha.liaison", "bravo.liaison", "supervisor.chair")]

    suwayda = do_propose_place(
        db,
        hum,
        place_id=stable_id("protection-story", "suwayda"),
        kind="community",
        name="Suwayda",
        population="Druze residents of Suwayda",
        geometry=_polygon(SUWAYDA),
        note="The city and its southern quarters.",
        now=tick(),
    )
    places = [suwayda]
    for kind, name, where in SITES:
        places.append(
            do_propose_place(
                db,
                hum,
                place_id=stable_id("protection-story", name),
                kind=kind,
                name=name,
                geometry=_point(where),
                now=tick(),
            )
        )
    for place in places:
        for signatory in signatories:
            do_sign_place(db, signatory, place_id=place.id, now=tick())
    hader = do_propose_place(
        db,
        bravo,
        place_id=stable_id("protection-story", "hader"),
        kind="community",
        name="Hader",
        population="Druze residents of Hader",
        geometry=_polygon(HADER),
        now=tick(),
    )
    do_sign_place(db, bravo, place_id=hader.id, now=tick())

    for party, site, turned_back_at in (
        ("ALPHA", "majdal-shams", "the road into Majdal Shams"),
        ("BRAVO", "hader", "the checkpoint north of Hader"),
    ):
        do_report_incident(
            db,
            verifier,
            incident_id=stable_id("protection-story", f"denied-{party}"),
            kind="access_denied",
            affects="site",
            target=site,
            occurred_at=start - timedelta(hours=2),
            description=f"The verification team was turned back at {turned_back_at}.",
            denied="verifier",
            attributed_to=party,
            now=tick(),
        )
    reported = do_report_incident(
        db,
        hum,
        incident_id=stable_id("protection-story", "threat-suwayda"),
        kind="threat",
        affects="community",
        target=str(suwayda.id),
        occurred_at=start - timedelta(minutes=20),
        description="Armed men stopped cars on the road east of Suwayda and threatened drivers.",
        location=_point(ROAD_EAST_OF_SUWAYDA),
        evidence=[
            {
                "sha256": "5f1c0b3de0a4c1f9a26d2b8f7a0e5c4d3b2a1908f7e6d5c4b3a2918f7e6d5c4b",
                "name": "photo-road-east.jpg",
                "size": 248113,
            }
        ],
        now=tick(),
    )
    now = tick()
    carry_alerts(db, reported.alerts, now=now)
    for alert in reported.alerts:
        for username in ("supervisor.duty", "hum1.coordinator", "alpha.duty", "bravo.duty"):
            do_acknowledge_alert(db, _viewer(db, username), alert_id=alert.id, now=tick())
    _acknowledge_on_the_hotline(db, now=tick())


def _acknowledge_on_the_hotline(db: Session, *, now: datetime) -> None:
    """Each party's duty officer acknowledges the early warning its hotline carried."""
    for username in ("alpha.duty", "bravo.duty"):
        duty = _viewer(db, username)
        owed = list_messages(
            db,
            duty,
            channel_id=bilateral_channel_id(duty.organisation_id),
            precedence="IMMEDIATE",
            unacknowledged=True,
        )
        for message in [m for m in owed if m.form.startswith("early_warning_")]:
            do_acknowledge_message(
                db,
                duty,
                message_id=message.id,
                ack_id=stable_id("protection-story", f"ack-{message.id}-{username}"),
                checkpoint_size=None,
                now=now,
            )
