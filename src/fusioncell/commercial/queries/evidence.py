"""Evidence files as the viewer may read them: a file is released to the organisations that
stored it, and to the audience of every project with a milestone it was put before."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.commercial.models import (
    EvidenceFile,
    EvidenceHolder,
    Milestone,
    MilestoneEvidence,
    Project,
)
from fusioncell.commercial.policy import may_read
from fusioncell.commercial.queries.projects import project_visible
from fusioncell.errors import NotFound


def get_evidence(db: Session, viewer: Viewer, sha256: str) -> EvidenceFile:
    """404 when the file does not exist or is not released to the viewer."""
    if not may_read(viewer):
        raise NotFound(f"no evidence {sha256}")
    held = exists().where(
        EvidenceHolder.sha256 == EvidenceFile.sha256,
        EvidenceHolder.organisation_id == viewer.organisation_id,
    )
    attached = exists().where(
        MilestoneEvidence.sha256 == EvidenceFile.sha256,
        MilestoneEvidence.milestone_id == Milestone.id,
        Milestone.project_id == Project.id,
        project_visible(viewer),
    )
    found = db.scalar(select(EvidenceFile).where(EvidenceFile.sha256 == sha256, held | attached))
    if found is None:
        raise NotFound(f"no evidence {sha256}")
    return found


def files(db: Session, hashes: Sequence[str]) -> dict[str, EvidenceFile]:
    """Files by hash, for milestones read above (their project is visible)."""
    if not hashes:
        return {}
    rows = db.scalars(select(EvidenceFile).where(EvidenceFile.sha256.in_(hashes))).all()
    return {row.sha256: row for row in rows}


def held_by(db: Session, viewer: Viewer, hashes: Sequence[str]) -> dict[str, EvidenceFile]:
    """The files among ``hashes`` the viewer's organisation stored (what it may cite)."""
    if not hashes:
        return {}
    rows = db.scalars(
        select(EvidenceFile)
        .join(EvidenceHolder, EvidenceHolder.sha256 == EvidenceFile.sha256)
        .where(
            EvidenceFile.sha256.in_(hashes),
            EvidenceHolder.organisation_id == viewer.organisation_id,
        )
    ).all()
    return {row.sha256: row for row in rows}


def find_file(db: Session, sha256: str) -> EvidenceFile | None:
    """A file by its hash, for the action storing it again (nothing is shown from it)."""
    return db.get(EvidenceFile, sha256)


def find_holder(db: Session, viewer: Viewer, sha256: str) -> EvidenceHolder | None:
    return db.get(EvidenceHolder, (sha256, viewer.organisation_id))


def held_files(db: Session, viewer: Viewer, *, limit: int = 20) -> list[EvidenceFile]:
    """Files the viewer's organisation stored (what it may cite), the latest first."""
    return list(
        db.scalars(
            select(EvidenceFile)
            .join(EvidenceHolder, EvidenceHolder.sha256 == EvidenceFile.sha256)
            .where(EvidenceHolder.organisation_id == viewer.organisation_id)
            .order_by(EvidenceHolder.log_index.desc())
            .limit(limit)
        )
    )
