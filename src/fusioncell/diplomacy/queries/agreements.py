"""Agreements as the viewer may read them: the supervisor and the verifier read every
agreement, a party the agreements it is a party to (the filter is in the SQL). A sealed
comment's text is read by its own organisation until the log has revealed it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from fusioncell.cell.models import OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import console_of_cell
from fusioncell.deescalation.queries import Directory, directory
from fusioncell.diplomacy.models import (
    Agreement,
    AgreementParty,
    AgreementVersion,
    Comment,
    Commitment,
    Milestone,
    MilestoneState,
    Signature,
    Step,
)
from fusioncell.diplomacy.policy import may_read
from fusioncell.diplomacy.rules import DIPLOMACY_RULES, DiplomacyRules
from fusioncell.errors import NotFound
from fusioncell.ledger.context import ledger_context

EVERY_AGREEMENT = frozenset({OrganisationKind.SUPERVISOR, OrganisationKind.VERIFIER})


def rules_in_force(db: Session) -> DiplomacyRules:
    return ledger_context(db).rules(DIPLOMACY_RULES)


def cell_directory(db: Session) -> Directory:
    """Every organisation, as the cell's own reader (the engine's)."""
    reader = console_of_cell(db)
    if reader is None:
        return Directory({}, {})
    return directory(db, reader)


def agreement_visible(viewer: Viewer) -> ColumnElement[bool]:
    if not may_read(viewer):
        return false()
    if viewer.organisation_kind in EVERY_AGREEMENT:
        return true()
    return (
        select(AgreementParty.agreement_id)
        .where(
            AgreementParty.agreement_id == Agreement.id,
            AgreementParty.organisation_id == viewer.organisation_id,
        )
        .exists()
    )


def get_agreement(db: Session, viewer: Viewer, agreement_id: uuid.UUID) -> Agreement:
    found = db.scalar(
        select(Agreement).where(Agreement.id == agreement_id, agreement_visible(viewer))
    )
    if found is None:
        raise NotFound(f"no agreement {agreement_id}")
    return found


def list_agreements(db: Session, viewer: Viewer, *, limit: int = 200) -> Sequence[Agreement]:
    """The latest proposed first."""
    return db.scalars(
        select(Agreement)
        .where(agreement_visible(viewer))
        .order_by(Agreement.log_index.desc())
        .limit(limit)
    ).all()


def versions_of(db: Session, agreement_ids: Sequence[uuid.UUID]) -> list[AgreementVersion]:
    """The versions of agreements read above, by agreement and number."""
    if not agreement_ids:
        return []
    return list(
        db.scalars(
            select(AgreementVersion)
            .where(AgreementVersion.agreement_id.in_(agreement_ids))
            .order_by(AgreementVersion.agreement_id, AgreementVersion.number)
        )
    )


def signatures_of(db: Session, version_ids: Sequence[uuid.UUID]) -> list[Signature]:
    if not version_ids:
        return []
    return list(
        db.scalars(
            select(Signature)
            .where(Signature.version_id.in_(version_ids))
            .order_by(Signature.log_index)
        )
    )


def get_version(db: Session, viewer: Viewer, version_id: uuid.UUID) -> AgreementVersion:
    found = db.scalar(
        select(AgreementVersion)
        .join(Agreement, Agreement.id == AgreementVersion.agreement_id)
        .where(AgreementVersion.id == version_id, agreement_visible(viewer))
    )
    if found is None:
        raise NotFound(f"no agreement version {version_id}")
    return found


def find_own_version(
    db: Session, member_id: uuid.UUID, client_id: uuid.UUID
) -> AgreementVersion | None:
    return db.scalar(
        select(AgreementVersion).where(
            AgreementVersion.proposed_by == member_id, AgreementVersion.client_id == client_id
        )
    )


def id_taken(db: Session, agreement_id: uuid.UUID) -> bool:
    return (
        db.get(Agreement, agreement_id) is not None
        or db.get(AgreementVersion, agreement_id) is not None
    )


def next_number(db: Session) -> int:
    return int(db.scalar(select(func.coalesce(func.max(Agreement.number), 0))) or 0) + 1


def next_version_number(db: Session, agreement_id: uuid.UUID) -> int:
    found = db.scalar(
        select(func.max(AgreementVersion.number)).where(
            AgreementVersion.agreement_id == agreement_id
        )
    )
    return int(found or 0) + 1


def agreement_for_update(db: Session, agreement_id: uuid.UUID) -> Agreement:
    found = db.get(Agreement, agreement_id, populate_existing=True)
    assert found is not None
    return found


def commitments_of(db: Session, agreement_ids: Sequence[uuid.UUID]) -> list[Commitment]:
    if not agreement_ids:
        return []
    return list(
        db.scalars(
            select(Commitment)
            .where(Commitment.agreement_id.in_(agreement_ids))
            .order_by(Commitment.agreement_id, Commitment.key)
        )
    )


def milestones_of(db: Session, agreement_ids: Sequence[uuid.UUID]) -> list[Milestone]:
    if not agreement_ids:
        return []
    return list(
        db.scalars(
            select(Milestone)
            .where(Milestone.agreement_id.in_(agreement_ids))
            .order_by(Milestone.due_at, Milestone.key)
        )
    )


def get_milestone(db: Session, viewer: Viewer, milestone_id: uuid.UUID) -> Milestone:
    found = db.scalar(
        select(Milestone)
        .join(Agreement, Agreement.id == Milestone.agreement_id)
        .where(Milestone.id == milestone_id, agreement_visible(viewer))
    )
    if found is None:
        raise NotFound(f"no milestone {milestone_id}")
    return found


def milestone_for_update(db: Session, milestone_id: uuid.UUID) -> Milestone:
    found = db.get(Milestone, milestone_id, populate_existing=True)
    assert found is not None
    return found


def list_milestones(
    db: Session, viewer: Viewer, *, state: str | None = None, limit: int = 500
) -> Sequence[Milestone]:
    """Milestones of the agreements the viewer reads, the soonest due first."""
    query = (
        select(Milestone)
        .join(Agreement, Agreement.id == Milestone.agreement_id)
        .where(agreement_visible(viewer))
    )
    if state is not None:
        query = query.where(Milestone.state == state)
    return db.scalars(query.order_by(Milestone.due_at, Milestone.key).limit(limit)).all()


def find_own_step(db: Session, member_id: uuid.UUID, client_id: uuid.UUID) -> Step | None:
    return db.scalar(select(Step).where(Step.member_id == member_id, Step.client_id == client_id))


def steps_of(db: Session, subject_id: uuid.UUID) -> Sequence[Step]:
    return db.scalars(
        select(Step).where(Step.subject_id == subject_id).order_by(Step.log_index)
    ).all()


# -- comments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentView:
    comment: Comment
    text: str | None
    sealed: bool


def comments_of(db: Session, viewer: Viewer, milestone: Milestone) -> list[CommentView]:
    """A milestone's comments (the milestone comes from a read above): the commitment of
    each, its text only for its own organisation until the log has revealed it."""
    rows = db.scalars(
        select(Comment).where(Comment.milestone_id == milestone.id).order_by(Comment.log_index)
    ).all()
    return [
        CommentView(
            comment=c,
            text=c.text
            if c.revealed_index is not None or c.organisation_id == viewer.organisation_id
            else None,
            sealed=c.revealed_index is None,
        )
        for c in rows
    ]


def own_comment(db: Session, milestone_id: uuid.UUID, organisation_id: uuid.UUID) -> Comment | None:
    return db.scalar(
        select(Comment).where(
            Comment.milestone_id == milestone_id, Comment.organisation_id == organisation_id
        )
    )


def comments_to_reveal(db: Session, *, now: datetime) -> Sequence[Comment]:
    """Sealed comments whose window has closed by ``now``."""
    return db.scalars(
        select(Comment)
        .join(Milestone, Milestone.id == Comment.milestone_id)
        .where(Comment.revealed_index.is_(None), Milestone.comments_close_at <= now)
        .order_by(Comment.log_index)
    ).all()


def sealed_comments_of(db: Session, milestone_id: uuid.UUID) -> Sequence[Comment]:
    return db.scalars(
        select(Comment)
        .where(Comment.milestone_id == milestone_id, Comment.revealed_index.is_(None))
        .order_by(Comment.log_index)
    ).all()


def parties_of(db: Session, agreement_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        db.scalars(
            select(AgreementParty.organisation_id).where(
                AgreementParty.agreement_id == agreement_id
            )
        )
    )


# -- the header strip ---------------------------------------------------------------------


@dataclass(frozen=True)
class Owed:
    duty: str  # sign, request_verification, comment, assess
    subject: uuid.UUID
    agreement: uuid.UUID
    title: str
    deadline: datetime


def list_owed(db: Session, viewer: Viewer, *, now: datetime, limit: int = 50) -> list[Owed]:
    """What the viewer's organisation owes now, soonest first: versions awaiting its
    signature, due milestones to put to verification (the supervisor, the verifier),
    windows open for its comment (a party), assessments whose window has closed (the
    supervisor, the verifier)."""
    if not may_read(viewer):
        return []
    found: list[Owed] = []
    kind = viewer.organisation_kind
    own = viewer.organisation_id
    visible = agreement_visible(viewer)
    if kind in (OrganisationKind.PARTY, OrganisationKind.SUPERVISOR):
        signed = (
            select(Signature.version_id)
            .where(Signature.version_id == AgreementVersion.id, Signature.organisation_id == own)
            .exists()
        )
        superseded = func.coalesce(Agreement.in_force_number, 0) >= AgreementVersion.number
        for version in db.scalars(
            select(AgreementVersion)
            .join(Agreement, Agreement.id == AgreementVersion.agreement_id)
            .where(visible, ~signed, ~superseded)
            .order_by(AgreementVersion.log_index)
            .limit(limit)
        ):
            found.append(
                Owed(
                    "sign",
                    version.id,
                    version.agreement_id,
                    str(version.content["title"]),
                    version.proposed_at,
                )
            )
    base = select(Milestone).join(Agreement, Agreement.id == Milestone.agreement_id).where(visible)
    if kind in (OrganisationKind.SUPERVISOR, OrganisationKind.VERIFIER):
        for m in db.scalars(
            base.where(
                Milestone.state.in_([MilestoneState.OPEN, MilestoneState.REQUESTED]),
                Milestone.due_at <= now,
            )
            .order_by(Milestone.due_at)
            .limit(limit)
        ):
            if m.state == MilestoneState.OPEN:
                found.append(Owed("request_verification", m.id, m.agreement_id, m.title, m.due_at))
            elif m.comments_close_at is not None and m.comments_close_at <= now:
                found.append(Owed("assess", m.id, m.agreement_id, m.title, m.comments_close_at))
    if kind == OrganisationKind.PARTY:
        commented = (
            select(Comment.id)
            .where(Comment.milestone_id == Milestone.id, Comment.organisation_id == own)
            .exists()
        )
        for m in db.scalars(
            base.where(
                Milestone.state == MilestoneState.REQUESTED,
                Milestone.comments_close_at > now,
                ~commented,
            )
            .order_by(Milestone.comments_close_at)
            .limit(limit)
        ):
            assert m.comments_close_at is not None
            found.append(Owed("comment", m.id, m.agreement_id, m.title, m.comments_close_at))
    return sorted(found, key=lambda o: o.deadline)[:limit]


# -- what the engine reads ------------------------------------------------------------------


def milestones_for_engine(db: Session, *, now: datetime, since: datetime) -> Sequence[Milestone]:
    """Milestones with a missed deadline that may still escalate: due and not put to
    verification, or put to verification with the window closed and not assessed."""
    return db.scalars(
        select(Milestone)
        .where(
            Milestone.due_at >= since,
            or_(
                and_(Milestone.state == MilestoneState.OPEN, Milestone.due_at <= now),
                and_(
                    Milestone.state == MilestoneState.REQUESTED,
                    Milestone.comments_close_at <= now,
                ),
            ),
        )
        .order_by(Milestone.due_at, Milestone.id)
    ).all()


def escalations_logged(db: Session, milestone_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """The step ids of the escalations logged for these milestones."""
    if not milestone_ids:
        return set()
    return {
        client_id
        for client_id in db.scalars(
            select(Step.client_id).where(
                Step.subject_id.in_(milestone_ids),
                Step.kind == "diplomacy.deadline.escalated",
            )
        )
        if client_id is not None
    }
