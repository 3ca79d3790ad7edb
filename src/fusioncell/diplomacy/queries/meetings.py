"""Meetings as the viewer may read them: the supervisor and the verifier read every
meeting, a party the meetings it participates in (the filter is in the SQL)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, false, func, select, true
from sqlalchemy.orm import Session

from fusioncell.cell.models import OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.diplomacy.models import (
    Meeting,
    MeetingParticipant,
    MinutesComment,
    MinutesSignature,
)
from fusioncell.diplomacy.policy import may_read
from fusioncell.errors import NotFound

EVERY_MEETING = frozenset({OrganisationKind.SUPERVISOR, OrganisationKind.VERIFIER})


def meeting_visible(viewer: Viewer) -> ColumnElement[bool]:
    if not may_read(viewer):
        return false()
    if viewer.organisation_kind in EVERY_MEETING:
        return true()
    return (
        select(MeetingParticipant.meeting_id)
        .where(
            MeetingParticipant.meeting_id == Meeting.id,
            MeetingParticipant.organisation_id == viewer.organisation_id,
        )
        .exists()
    )


def get_meeting(db: Session, viewer: Viewer, meeting_id: uuid.UUID) -> Meeting:
    found = db.scalar(select(Meeting).where(Meeting.id == meeting_id, meeting_visible(viewer)))
    if found is None:
        raise NotFound(f"no meeting {meeting_id}")
    return found


def list_meetings(db: Session, viewer: Viewer, *, limit: int = 200) -> Sequence[Meeting]:
    return db.scalars(
        select(Meeting)
        .where(meeting_visible(viewer))
        .order_by(Meeting.log_index.desc())
        .limit(limit)
    ).all()


def find_own_meeting(db: Session, member_id: uuid.UUID, client_id: uuid.UUID) -> Meeting | None:
    return db.scalar(
        select(Meeting).where(Meeting.requested_by == member_id, Meeting.client_id == client_id)
    )


def meeting_id_taken(db: Session, meeting_id: uuid.UUID) -> bool:
    return db.get(Meeting, meeting_id) is not None


def next_meeting_number(db: Session) -> int:
    return int(db.scalar(select(func.coalesce(func.max(Meeting.number), 0))) or 0) + 1


def meeting_for_update(db: Session, meeting_id: uuid.UUID) -> Meeting:
    found = db.get(Meeting, meeting_id, populate_existing=True)
    assert found is not None
    return found


def minutes_comments_of(db: Session, meeting_id: uuid.UUID) -> Sequence[MinutesComment]:
    return db.scalars(
        select(MinutesComment)
        .where(MinutesComment.meeting_id == meeting_id)
        .order_by(MinutesComment.log_index)
    ).all()


def minutes_signatures_of(db: Session, meeting_id: uuid.UUID) -> Sequence[MinutesSignature]:
    return db.scalars(
        select(MinutesSignature)
        .where(MinutesSignature.meeting_id == meeting_id)
        .order_by(MinutesSignature.log_index)
    ).all()


def minutes_comment_taken(db: Session, comment_id: uuid.UUID) -> MinutesComment | None:
    return db.get(MinutesComment, comment_id)
