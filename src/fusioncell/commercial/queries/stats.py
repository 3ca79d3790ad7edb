"""R13: the same figures for every party, by one method, over the projects the viewer reads.
A shipment counts for the party that declared it; a milestone for the party whose project it
is. Every party is listed, with zeros where it has nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.commercial.lead_time import LeadTime
from fusioncell.commercial.models import (
    Milestone,
    MilestoneStatus,
    Project,
    Shipment,
    ShipmentState,
)
from fusioncell.commercial.queries.projects import project_visible
from fusioncell.deescalation.queries import directory

METHOD = (
    "Per party, over the projects the viewer reads: shipments it declared, those declared "
    "late (under the lead time in force when each was declared), those passed and those "
    "refused; milestones of its projects met by their due date, met late, missed, and open."
)


@dataclass(frozen=True)
class PartyStatistics:
    party: str
    shipments_declared: int
    shipments_late: int
    shipments_passed: int
    shipments_refused: int
    milestones_met: int
    milestones_late: int
    milestones_missed: int
    milestones_open: int


def statistics(db: Session, viewer: Viewer) -> list[PartyStatistics]:
    """Two statements, whatever the number of projects."""
    shipments: dict[tuple[object, str, str], int] = {}
    for party_id, state, lead, count in db.execute(
        select(Shipment.party_id, Shipment.state, Shipment.lead_time, func.count())
        .join(Project, Project.id == Shipment.project_id)
        .where(project_visible(viewer))
        .group_by(Shipment.party_id, Shipment.state, Shipment.lead_time)
    ):
        shipments[(party_id, state, lead)] = count
    milestones: dict[tuple[object, str], int] = {}
    for party_id, status, count in db.execute(
        select(Project.party_id, Milestone.status, func.count())
        .join(Project, Project.id == Milestone.project_id)
        .where(project_visible(viewer))
        .group_by(Project.party_id, Milestone.status)
    ):
        milestones[(party_id, status)] = count

    def shipped(party_id: object, *, state: str | None = None, lead: str | None = None) -> int:
        return sum(
            n
            for (p, s, lt), n in shipments.items()
            if p == party_id and state in (None, s) and lead in (None, lt)
        )

    found = []
    dir_ = directory(db, viewer)
    for slug in dir_.parties():
        party_id = dir_.by_slug[slug].id
        found.append(
            PartyStatistics(
                party=slug,
                shipments_declared=shipped(party_id),
                shipments_late=shipped(party_id, lead=LeadTime.LATE),
                shipments_passed=shipped(party_id, state=ShipmentState.PASSED),
                shipments_refused=shipped(party_id, state=ShipmentState.REFUSED),
                milestones_met=milestones.get((party_id, MilestoneStatus.MET), 0),
                milestones_late=milestones.get((party_id, MilestoneStatus.LATE), 0),
                milestones_missed=milestones.get((party_id, MilestoneStatus.MISSED), 0),
                milestones_open=milestones.get((party_id, MilestoneStatus.OPEN), 0),
            )
        )
    return found
