"""The demo's commercial track, mirrored: each party runs a project with its milestones and
shipments, so the projects' pages show every step and the statistics the same figures for
both parties the moment the demo starts.

In the last hour before the demo's other stories (the cell has been set up for days, for the
disputes' story):

- the Quneitra crossing enters the registry (proposed by the verifier, signed by both parties'
  liaison officers and the supervisor), so shipments can be declared through it;
- ALPHA's southern power plant (a power project adding some 800 MW: a placeholder figure,
  commitment C5) and BRAVO's grid interconnection substation, each financed by the host
  state and made active;
- on each: contracts signed, met on the signed contract (before its due date); the site
  survey, missed (its due date passed with no report); the first unit's commissioning, due
  in a month;
- through the crossing for each: a shipment declared 48 hours ahead, inspected and passed by
  the verifier, and one declared 20 hours ahead (late: 44 hours are due), refused by the
  verifier because its cargo was not what was declared.

Every step has a stable id, so loading the story again writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import console_of_cell, get_member_by_username, viewer_of
from fusioncell.commercial.actions.evidence import do_store_evidence
from fusioncell.commercial.actions.milestones import (
    do_add_milestone,
    do_attach_milestone_evidence,
    do_decide_milestone,
)
from fusioncell.commercial.actions.projects import do_change_project_status, do_propose_project
from fusioncell.commercial.actions.shipments import (
    do_declare_shipment,
    do_inspect_shipment,
    do_pass_shipment,
    do_refuse_shipment,
)
from fusioncell.deconfliction.actions.registry import do_propose_place, do_sign_place
from fusioncell.scenario.demo import stable_id
from fusioncell.scenario.geometry import PROTECTED_SITES

# The story begins this long before the other stories (and after the disputes' last step).
STORY_LEAD = timedelta(minutes=45)
TICK = timedelta(seconds=2)
LIAISON = {"ALPHA": "alpha.liaison", "BRAVO": "bravo.liaison"}
SIGNATORIES = ("alpha.liaison", "bravo.liaison", "supervisor.chair")
CROSSING = next(site for site in PROTECTED_SITES if site.id == "quneitra-crossing")


@dataclass(frozen=True)
class Plan:
    """A party's project as the story proposes it."""

    name: str
    description: str
    sponsor: str
    cargo: str
    site: tuple[float, float]
    route: tuple[tuple[float, float], ...]


PLANS = {
    "ALPHA": Plan(
        name="Southern power plant",
        description="A combined-cycle plant adding some 800 MW to the grid (a placeholder "
        "figure), with a transmission line to the crossing.",
        sponsor="Southern power company",
        cargo="Two gas turbine sets and their transformers",
        site=(35.66, 32.98),
        route=((35.66, 32.98), (35.74, 33.06), (CROSSING.lon, CROSSING.lat)),
    ),
    "BRAVO": Plan(
        name="Grid interconnection substation",
        description="A 400 kV substation joining the two grids at the crossing, so that the "
        "plant's power can reach the other side.",
        sponsor="Northern grid operator",
        cargo="A 400 kV transformer and its switchgear",
        site=(36.02, 33.14),
        route=((36.02, 33.14), (35.93, 33.13), (CROSSING.lon, CROSSING.lat)),
    ),
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


def load_commercial_story(db: Session, *, start: datetime, set_up: datetime) -> None:
    """Tell the story from ``start``; ``set_up`` is when the cell was set up (the projects
    began then, so their first milestones are due by now)."""
    at = start

    def tick() -> datetime:
        nonlocal at
        at += TICK
        return at

    def sid(name: str) -> Any:
        return stable_id("commercial-story", name)

    verifier, chair = _viewer(db, "verifier.lead"), _viewer(db, "supervisor.chair")
    crossing = do_propose_place(
        db,
        verifier,
        place_id=sid("quneitra-crossing"),
        kind="crossing",
        name=CROSSING.name,
        geometry=_point((CROSSING.lon, CROSSING.lat)),
        now=tick(),
    )
    for username in SIGNATORIES:
        do_sign_place(db, _viewer(db, username), place_id=crossing.id, now=tick())

    began = set_up.date()
    for party, plan in PLANS.items():
        liaison = _viewer(db, LIAISON[party])
        name = party.lower()
        project = do_propose_project(
            db,
            liaison,
            project_id=sid(f"{name}-project"),
            name=plan.name,
            description=plan.description,
            party=party,
            sponsors=[plan.sponsor],
            financing=["HOST"],
            locations=[
                {"name": "Site", "geometry": _point(plan.site)},
                {
                    "name": "Line to the crossing",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [list(p) for p in plan.route],
                    },
                },
            ],
            starts_on=began,
            ends_on=began + timedelta(days=730),
            now=tick(),
        )
        do_change_project_status(
            db,
            liaison,
            project.id,
            step_id=sid(f"{name}-active"),
            status="active",
            reason="Financing agreed with the host state.",
            now=tick(),
        )
        contracts = do_add_milestone(
            db,
            liaison,
            project.id,
            milestone_id=sid(f"{name}-contracts"),
            title="Contracts signed",
            due_on=began + timedelta(days=2),
            now=tick(),
        )
        survey = do_add_milestone(
            db,
            chair,
            project.id,
            milestone_id=sid(f"{name}-survey"),
            title="Site survey report",
            due_on=began + timedelta(days=4),
            now=tick(),
        )
        do_add_milestone(
            db,
            chair,
            project.id,
            milestone_id=sid(f"{name}-commissioning"),
            title="First unit commissioned",
            due_on=began + timedelta(days=36),
            now=tick(),
        )
        contract = do_store_evidence(
            db,
            liaison,
            f"{plan.name}: engineering, procurement and construction contract, signed by "
            f"{plan.sponsor} and the contractor on {began + timedelta(days=1)}.".encode(),
            media_type="text/plain",
            now=tick(),
        )
        do_attach_milestone_evidence(
            db,
            liaison,
            project.id,
            contracts.id,
            step_id=sid(f"{name}-contracts-file"),
            evidence=[contract.sha256],
            now=tick(),
        )
        do_decide_milestone(
            db,
            verifier,
            project.id,
            contracts.id,
            step_id=sid(f"{name}-contracts-met"),
            decision="met",
            reason="The signed contract is before us.",
            achieved_on=began + timedelta(days=1),
            now=tick(),
        )
        do_decide_milestone(
            db,
            chair,
            project.id,
            survey.id,
            step_id=sid(f"{name}-survey-missed"),
            decision="missed",
            reason="No survey report by the due date.",
            now=tick(),
        )
        passed = do_declare_shipment(
            db,
            liaison,
            project.id,
            shipment_id=sid(f"{name}-shipment-passed"),
            cargo=plan.cargo,
            crossing=str(crossing.id),
            planned_at=at + timedelta(hours=48),
            now=tick(),
        )
        do_inspect_shipment(
            db,
            verifier,
            project.id,
            passed.id,
            step_id=sid(f"{name}-shipment-inspected"),
            note="Seals intact; the cargo is as declared.",
            now=tick(),
        )
        do_pass_shipment(
            db, verifier, project.id, passed.id, step_id=sid(f"{name}-shipment-pass"), now=tick()
        )
        late = do_declare_shipment(
            db,
            liaison,
            project.id,
            shipment_id=sid(f"{name}-shipment-late"),
            cargo="Cable drums and spare parts",
            crossing=str(crossing.id),
            planned_at=at + timedelta(hours=20),
            now=tick(),
        )
        do_refuse_shipment(
            db,
            verifier,
            project.id,
            late.id,
            step_id=sid(f"{name}-shipment-refused"),
            reason="Two crates held machine parts that were not declared.",
            now=tick(),
        )
    db.commit()
