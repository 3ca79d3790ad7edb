"""The demo's intelligence, mirrored: whatever one party shares, the other shares too, so the
intelligence pages, the map's layer and the record show every kind of report from the start.

For each party (its analyst submits; the supervisor's chair relays; the other party's analyst
answers):

- an observation released to the other party directly;
- an observation released to the supervisor only, which the chair relays to the other party
  as a derived report: the place's name redacted, the coordinates coarsened to a 10 km grid,
  the source made "a party of the cell";
- an observation released to the other party, which the other party disputes with an opinion
  ("disagree", with its explanation), released to the same audience.

The story runs after the hotline's (the log's clock never runs backwards): ``start`` is its
first step. Every step is an action with a stable id, so loading it again changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import console_of_cell, get_member_by_username, viewer_of
from fusioncell.intel import stix
from fusioncell.intel.actions.reports import (
    Observation,
    do_release_report,
    do_respond_to_report,
    do_submit_observation,
)
from fusioncell.scenario.demo import stable_id
from fusioncell.scenario.geometry import ALPHA, BRAVO

# The supervisor's sanitisation of a relayed report.
RELAY = stix.Sanitisation(redact=frozenset({"name"}), grid_km=10, anonymise_source=True)


@dataclass(frozen=True)
class _Report:
    title: str
    description: str
    place: str
    latitude: float
    longitude: float
    grade: str
    # How long before the story's start it was observed.
    ago: timedelta


@dataclass(frozen=True)
class _Side:
    party: str
    other: str
    direct: _Report
    relayed: _Report
    disputed: _Report
    dispute: str


SIDES = (
    _Side(
        party=ALPHA,
        other=BRAVO,
        direct=_Report(
            "Engineering vehicles east of line B",
            "Two bulldozers and a tracked excavator digging a berm, about 2 km east of line B.",
            "Hill 1041",
            33.215,
            35.912,
            "B2",
            timedelta(hours=3),
        ),
        relayed=_Report(
            "Checkpoint moved near the southern crossing",
            "The checkpoint on the southern road moved about 300 m east overnight.",
            "Junction 12",
            32.948,
            35.901,
            "C3",
            timedelta(hours=9),
        ),
        disputed=_Report(
            "Artillery pieces in the 10 km area of limitation",
            "Four towed guns seen under nets near the village road, east of line B.",
            "Orchard road",
            33.071,
            35.958,
            "C2",
            timedelta(hours=5),
        ),
        dispute="Those are irrigation pumps under shade nets; our inspection log shows no guns.",
    ),
    _Side(
        party=BRAVO,
        other=ALPHA,
        direct=_Report(
            "Patrol boats on the reservoir west of line A",
            "Two patrol boats moving along the reservoir's eastern shore at dawn.",
            "Reservoir dam",
            33.189,
            35.748,
            "B2",
            timedelta(hours=4),
        ),
        relayed=_Report(
            "New observation post on the ridge",
            "A new observation post with a mast on the ridge west of line A.",
            "Ridge 880",
            33.301,
            35.741,
            "C3",
            timedelta(hours=8),
        ),
        disputed=_Report(
            "Tanks moved into the 10 km area of limitation",
            "Six tanks on transporters seen heading east on the valley road, west of line A.",
            "Valley road",
            33.024,
            35.762,
            "C2",
            timedelta(hours=6),
        ),
        dispute="The transporters carried bridging equipment to the depot, not tanks.",
    ),
)


def _member(db: Session, username: str) -> Viewer:
    """A demo member, as the console (which sees every member) finds them."""
    console = console_of_cell(db)
    if console is None:
        raise LookupError("the demo cell is not set up")
    return viewer_of(get_member_by_username(db, console, username))


def story_id(name: str) -> uuid.UUID:
    return stable_id("intel-story", name)


def _submit(
    db: Session,
    analyst: Viewer,
    name: str,
    report: _Report,
    release_to: list[str],
    *,
    start: datetime,
    at: datetime,
) -> None:
    do_submit_observation(
        db,
        analyst,
        report_id=story_id(name),
        observation=Observation(
            title=report.title,
            description=report.description,
            latitude=report.latitude,
            longitude=report.longitude,
            observed_at=start - report.ago,
            place=report.place,
        ),
        release_to=release_to,
        tlp="amber",
        grade=report.grade,
        now=at,
    )


def load_intel_story(db: Session, *, start: datetime) -> None:
    """Write the story's reports, releases and responses from ``start`` on, a second apart
    (a quarter of a minute in all), in time order."""
    chair = _member(db, "supervisor.chair")
    moment = start

    def next_moment() -> datetime:
        nonlocal moment
        moment += timedelta(seconds=1)
        return moment

    for side in SIDES:
        analyst = _member(db, f"{side.party.lower()}.analyst")
        key = side.party.lower()
        _submit(
            db, analyst, f"{key}/direct", side.direct, [side.other],
            start=start, at=next_moment(),
        )  # fmt: skip
        _submit(db, analyst, f"{key}/relayed", side.relayed, [], start=start, at=next_moment())
        _submit(
            db, analyst, f"{key}/disputed", side.disputed, [side.other],
            start=start, at=next_moment(),
        )  # fmt: skip
        db.commit()
    for side in SIDES:
        key = side.party.lower()
        do_release_report(
            db,
            chair,
            release_id=story_id(f"{key}/relayed/release"),
            report_id=story_id(f"{key}/relayed"),
            release_to=[side.other],
            sanitisation=RELAY,
            now=next_moment(),
        )
        db.commit()
    for side in SIDES:
        key = side.party.lower()
        do_respond_to_report(
            db,
            _member(db, f"{side.other.lower()}.analyst"),
            response_id=story_id(f"{key}/disputed/opinion"),
            report_id=story_id(f"{key}/disputed"),
            opinion="disagree",
            explanation=side.dispute,
            now=next_moment(),
        )
        db.commit()
