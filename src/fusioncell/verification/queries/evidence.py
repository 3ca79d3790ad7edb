"""Evidence files as the viewer may read them: a file is released to the organisations that
stored it, and to the audience of every case it is attached to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.errors import NotFound
from fusioncell.verification.models import Case, CaseEvidence, EvidenceFile, EvidenceHolder
from fusioncell.verification.policy import may_read
from fusioncell.verification.queries.cases import case_visible


def get_evidence(db: Session, viewer: Viewer, sha256: str) -> EvidenceFile:
    """404 when the file does not exist or is not released to the viewer."""
    if not may_read(viewer):
        raise NotFound(f"no evidence {sha256}")
    held = exists().where(
        EvidenceHolder.sha256 == EvidenceFile.sha256,
        EvidenceHolder.organisation_id == viewer.organisation_id,
    )
    attached = exists().where(
        CaseEvidence.sha256 == EvidenceFile.sha256,
        CaseEvidence.case_id == Case.id,
        case_visible(viewer),
    )
    found = db.scalar(select(EvidenceFile).where(EvidenceFile.sha256 == sha256, held | attached))
    if found is None:
        raise NotFound(f"no evidence {sha256}")
    return found


def held_by(db: Session, viewer: Viewer, hashes: Sequence[str]) -> dict[str, EvidenceFile]:
    """The files among ``hashes`` the viewer's organisation stored (what it may attach)."""
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


def evidence_of(
    db: Session, viewer: Viewer, cases: Sequence[Case]
) -> dict[uuid.UUID, dict[str, EvidenceFile]]:
    """The files of each case (the cases come from a read above), by hash: one statement."""
    found: dict[uuid.UUID, dict[str, EvidenceFile]] = {c.id: {} for c in cases}
    if not cases:
        return found
    for case_id, file in db.execute(
        select(CaseEvidence.case_id, EvidenceFile)
        .join(EvidenceFile, CaseEvidence.sha256 == EvidenceFile.sha256)
        .where(CaseEvidence.case_id.in_([c.id for c in cases]))
    ):
        found[case_id][file.sha256] = file
    return found


def held_files(db: Session, viewer: Viewer, *, limit: int = 20) -> list[EvidenceFile]:
    """Files the viewer's organisation stored (what it may attach to a complaint), the latest
    first."""
    return list(
        db.scalars(
            select(EvidenceFile)
            .join(EvidenceHolder, EvidenceHolder.sha256 == EvidenceFile.sha256)
            .where(EvidenceHolder.organisation_id == viewer.organisation_id)
            .order_by(EvidenceHolder.log_index.desc())
            .limit(limit)
        )
    )
