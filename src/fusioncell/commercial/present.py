"""Projects as the API shows them, from rows read through the policy: a project's
milestones, their files and its shipments in a constant number of statements."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.commercial.models import EvidenceFile, Milestone, Project, Shipment
from fusioncell.commercial.queries import evidence as evidence_queries
from fusioncell.commercial.queries import projects as queries
from fusioncell.commercial.schemas import (
    EvidenceOut,
    MilestoneOut,
    ProjectDetailOut,
    ProjectOut,
    ShipmentOut,
)
from fusioncell.deescalation.queries import Directory, directory

URL = "/api/v1/projects"


def evidence_out(file: EvidenceFile) -> EvidenceOut:
    return EvidenceOut(
        sha256=file.sha256,
        size=file.size,
        type=file.media_type,
        url=f"{URL}/evidence/{file.sha256}",
    )


def _project(dir_: Directory, project: Project) -> dict[str, object]:
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "party": dir_.by_id[project.party_id].slug,
        "proposed_by_organisation": dir_.by_id[project.organisation_id].slug,
        "sponsors": list(project.sponsors),
        "financing": list(project.financing),
        "locations": {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "geometry": p["geometry"], "properties": {"name": p["name"]}}
                for p in project.locations
            ],
        },
        "starts_on": project.starts_on,
        "ends_on": project.ends_on,
        "status": project.status,
        "released_to": list(project.released_to),
        "proposed_at": project.proposed_at,
        "status_changed_at": project.status_changed_at,
        "log_index": project.log_index,
    }


def projects_out(db: Session, viewer: Viewer, projects: list[Project]) -> list[ProjectOut]:
    dir_ = directory(db, viewer)
    return [ProjectOut.model_validate(_project(dir_, p)) for p in projects]


def shipment_out(dir_: Directory, shipment: Shipment) -> ShipmentOut:
    return ShipmentOut(
        id=shipment.id,
        project=shipment.project_id,
        party=dir_.by_id[shipment.party_id].slug,
        cargo=shipment.cargo,
        crossing=shipment.crossing_id,
        crossing_name=shipment.crossing_name,
        planned_at=shipment.planned_at,
        declared_at=shipment.declared_at,
        required_lead_seconds=shipment.required_lead_s,
        lead_time=shipment.lead_time,
        state=shipment.state,
        inspection_note=shipment.inspection_note,
        inspected_at=shipment.inspected_at,
        reason=shipment.reason,
        decided_at=shipment.decided_at,
        log_index=shipment.log_index,
    )


def _milestone(milestone: Milestone, files: list[EvidenceFile]) -> MilestoneOut:
    return MilestoneOut(
        id=milestone.id,
        title=milestone.title,
        due_on=milestone.due_on,
        status=milestone.status,
        achieved_on=milestone.achieved_on,
        reason=milestone.reason,
        decided_at=milestone.decided_at,
        log_index=milestone.log_index,
        decision_index=milestone.decision_index,
        evidence=[evidence_out(f) for f in files],
    )


def project_detail(db: Session, viewer: Viewer, project: Project) -> ProjectDetailOut:
    dir_ = directory(db, viewer)
    milestones = queries.milestones_of(db, viewer, [project.id])[project.id]
    attached = queries.attached_hashes(db, [m.id for m in milestones])
    files = evidence_queries.files(db, sorted({h for hs in attached.values() for h in hs}))
    shipments = queries.shipments_of(db, viewer, [project.id])[project.id]
    return ProjectDetailOut.model_validate(
        {
            **_project(dir_, project),
            "milestones": [_milestone(m, [files[h] for h in attached[m.id]]) for m in milestones],
            "shipments": [shipment_out(dir_, s) for s in shipments],
        }
    )
