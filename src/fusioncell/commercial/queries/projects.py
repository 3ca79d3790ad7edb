"""Projects, their milestones and shipments as the viewer may read them: a project is
released to both parties, the supervisor, the verifier and its financing organisations
(``ProjectRelease``), and its milestones and shipments go with it. Not released and not
there are the same 404."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, false, select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.commercial.models import (
    Milestone,
    MilestoneEvidence,
    Project,
    ProjectRelease,
    Shipment,
    Step,
)
from fusioncell.commercial.policy import may_read
from fusioncell.commercial.rules import COMMERCIAL_RULES, CommercialRules
from fusioncell.errors import NotFound
from fusioncell.ledger.context import ledger_context


def rules_in_force(db: Session) -> CommercialRules:
    return ledger_context(db).rules(COMMERCIAL_RULES)


def project_visible(viewer: Viewer) -> ColumnElement[bool]:
    if not may_read(viewer):
        return false()
    return exists().where(
        ProjectRelease.project_id == Project.id,
        ProjectRelease.organisation_id == viewer.organisation_id,
    )


def get_project(db: Session, viewer: Viewer, project_id: uuid.UUID) -> Project:
    found = db.scalar(select(Project).where(Project.id == project_id, project_visible(viewer)))
    if found is None:
        raise NotFound(f"no project {project_id}")
    return found


def list_projects(
    db: Session, viewer: Viewer, *, status: str | None = None, limit: int = 200
) -> Sequence[Project]:
    """The latest proposed first."""
    query = select(Project).where(project_visible(viewer))
    if status is not None:
        query = query.where(Project.status == status)
    return db.scalars(query.order_by(Project.log_index.desc()).limit(limit)).all()


def for_update(db: Session, project_id: uuid.UUID) -> Project:
    """The project again inside an action's transaction (found through the policy first)."""
    found = db.get(Project, project_id, populate_existing=True)
    if found is None:
        raise NotFound(f"no project {project_id}")
    return found


def find_own_project(db: Session, member_id: uuid.UUID, client_id: uuid.UUID) -> Project | None:
    return db.scalar(
        select(Project).where(Project.proposed_by == member_id, Project.client_id == client_id)
    )


def id_taken(db: Session, model: type[Project | Milestone | Shipment], ident: uuid.UUID) -> bool:
    return db.get(model, ident) is not None


def milestones_of(
    db: Session, viewer: Viewer, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Milestone]]:
    """Each project's milestones, by due date: one statement."""
    found: dict[uuid.UUID, list[Milestone]] = {p: [] for p in project_ids}
    if not project_ids:
        return found
    rows = db.scalars(
        select(Milestone)
        .join(Project, Project.id == Milestone.project_id)
        .where(Milestone.project_id.in_(project_ids), project_visible(viewer))
        .order_by(Milestone.due_on, Milestone.log_index)
    )
    for row in rows:
        found[row.project_id].append(row)
    return found


def get_milestone(
    db: Session, viewer: Viewer, project_id: uuid.UUID, milestone_id: uuid.UUID
) -> Milestone:
    found = db.scalar(
        select(Milestone)
        .join(Project, Project.id == Milestone.project_id)
        .where(
            Milestone.id == milestone_id,
            Milestone.project_id == project_id,
            project_visible(viewer),
        )
    )
    if found is None:
        raise NotFound(f"no milestone {milestone_id}")
    return found


def milestone_for_update(db: Session, milestone_id: uuid.UUID) -> Milestone:
    """The milestone again inside an action's transaction (found through the policy)."""
    found = db.get(Milestone, milestone_id, populate_existing=True)
    if found is None:
        raise NotFound(f"no milestone {milestone_id}")
    return found


def shipment_for_update(db: Session, shipment_id: uuid.UUID) -> Shipment:
    """The shipment again inside an action's transaction (found through the policy)."""
    found = db.get(Shipment, shipment_id, populate_existing=True)
    if found is None:
        raise NotFound(f"no shipment {shipment_id}")
    return found


def find_own_milestone(db: Session, member_id: uuid.UUID, client_id: uuid.UUID) -> Milestone | None:
    return db.scalar(
        select(Milestone).where(Milestone.added_by == member_id, Milestone.client_id == client_id)
    )


def attached_hashes(db: Session, milestone_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The files before each milestone (the milestones come from a read above)."""
    found: dict[uuid.UUID, list[str]] = {m: [] for m in milestone_ids}
    if not milestone_ids:
        return found
    for milestone_id, sha256 in db.execute(
        select(MilestoneEvidence.milestone_id, MilestoneEvidence.sha256)
        .where(MilestoneEvidence.milestone_id.in_(milestone_ids))
        .order_by(MilestoneEvidence.log_index, MilestoneEvidence.sha256)
    ):
        found[milestone_id].append(sha256)
    return found


def shipments_of(
    db: Session, viewer: Viewer, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Shipment]]:
    """Each project's shipments, by planned crossing time: one statement."""
    found: dict[uuid.UUID, list[Shipment]] = {p: [] for p in project_ids}
    if not project_ids:
        return found
    rows = db.scalars(
        select(Shipment)
        .join(Project, Project.id == Shipment.project_id)
        .where(Shipment.project_id.in_(project_ids), project_visible(viewer))
        .order_by(Shipment.planned_at, Shipment.log_index)
    )
    for row in rows:
        found[row.project_id].append(row)
    return found


def get_shipment(
    db: Session, viewer: Viewer, project_id: uuid.UUID, shipment_id: uuid.UUID
) -> Shipment:
    found = db.scalar(
        select(Shipment)
        .join(Project, Project.id == Shipment.project_id)
        .where(
            Shipment.id == shipment_id,
            Shipment.project_id == project_id,
            project_visible(viewer),
        )
    )
    if found is None:
        raise NotFound(f"no shipment {shipment_id}")
    return found


def find_own_shipment(db: Session, member_id: uuid.UUID, client_id: uuid.UUID) -> Shipment | None:
    return db.scalar(
        select(Shipment).where(Shipment.declared_by == member_id, Shipment.client_id == client_id)
    )


def find_own_step(db: Session, member_id: uuid.UUID, client_id: uuid.UUID) -> Step | None:
    return db.scalar(select(Step).where(Step.member_id == member_id, Step.client_id == client_id))
