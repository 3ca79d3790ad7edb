"""REST routes of notifications (DESIGN R8-R10). Every read goes through
``deconfliction.queries``; every change is an action.

A notification is information, never a request for permission: its recipients acknowledge
receipt, and **an acknowledgement is receipt, never approval** (every acknowledgement's answer
says so, in the reader's language).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deconfliction.actions.acknowledgements import (
    MEANING,
    do_acknowledge_notification,
)
from fusioncell.deconfliction.actions.follow_up import (
    do_justify_notification,
    do_note_conflicts,
    do_withdraw_notification,
)
from fusioncell.deconfliction.actions.notifications import (
    do_amend_notification,
    do_submit_notification,
)
from fusioncell.deconfliction.api.notification_schemas import (
    AcknowledgeIn,
    AcknowledgementOut,
    AcknowledgementsOut,
    AmendmentOut,
    AmendNotificationIn,
    ClosedOut,
    ConflictOut,
    JustificationOut,
    JustifyNotificationIn,
    KindStatisticsOut,
    NoteConflictsIn,
    NotificationOut,
    PartyStatisticsOut,
    RecipientOut,
    SubmitNotificationIn,
    WithdrawNotificationIn,
)
from fusioncell.deconfliction.models import Acknowledgement, ConflictWith, Notification
from fusioncell.deconfliction.policy import may_read, require
from fusioncell.deconfliction.queries import notifications as queries
from fusioncell.errors import InvalidInput, NotFound
from fusioncell.i18n import translate
from fusioncell.idempotency import resolve_id
from fusioncell.web.deps import AppClock, CurrentViewer, Db

router = APIRouter(prefix="/api/v1/notifications", tags=["deconfliction"])
_READERS = "this needs the permission to read the cell's traffic"
IdempotencyKey = Annotated[str | None, Header(max_length=200)]


def notifications_out(
    db: Session, viewer: Viewer, notifications: list[Notification], *, now: datetime
) -> list[NotificationOut]:
    """Notifications as the viewer reads them; a constant number of statements."""
    known = queries.around(db, notifications)
    dir_ = queries.directory(db, viewer)
    slug = {o.id: o.slug for o in dir_.by_id.values()}
    rows = [row for n in notifications for row in known.conflicts[n.id]]
    names = queries.conflict_names(db, viewer, rows)
    meaning = translate(viewer.language, MEANING)
    found = []
    for n in notifications:
        acks = known.acks[n.id]
        recipients = []
        for organisation_id in known.recipients[n.id]:
            ack = queries.first_ack(acks, organisation_id, n.version)
            recipients.append(
                RecipientOut(
                    party=slug[organisation_id],
                    acknowledged=ack is not None,
                    acknowledged_at=ack.acked_at if ack else None,
                    log_index=ack.log_index if ack else None,
                    overdue=ack is None and now >= n.ack_deadline and n.closed is None,
                    escalations=sum(
                        1
                        for e in known.escalations[n.id]
                        if e.duty == "ack"
                        and e.version == n.version
                        and e.organisation_id == organisation_id
                    ),
                )
            )
        conflicts = []
        for row in known.conflicts[n.id]:
            key = (row.other_kind, row.other_id)
            withheld = row.other_kind == ConflictWith.NOTIFICATION and key not in names
            conflicts.append(
                ConflictOut(
                    with_=row.other_kind,
                    id=None if withheld else row.other_id,
                    name=names.get(key),
                    distance_m=row.distance_m,
                    required_m=row.required_m,
                    overlap_from=row.overlap_from,
                    overlap_until=row.overlap_until,
                    noted=row.noted_log_index is not None,
                )
            )
        justification = None
        if n.flash and n.justification_due is not None:
            justification = JustificationOut(
                due=n.justification_due,
                given_at=n.justified_at,
                text=n.justification,
                overdue=n.justified_at is None and now >= n.justification_due,
            )
        closed = None
        if n.closed is not None and n.closed_at is not None and n.closed_log_index is not None:
            closed = ClosedOut(
                state=n.closed,
                at=n.closed_at,
                reason=n.closed_reason or "",
                log_index=n.closed_log_index,
            )
        found.append(
            NotificationOut(
                id=n.id,
                log_index=n.log_index,
                version=n.version,
                version_log_index=n.version_log_index,
                kind=n.kind,
                category=n.category,
                flash=n.flash,
                sender=slug[n.organisation_id],
                geometry=n.geometry,
                buffer_m=n.buffer_m,
                starts_at=n.starts_at,
                ends_at=n.ends_at,
                description=n.description,
                participants=n.participants,
                details=n.details,
                lead_time=n.lead_time,
                required_lead_hours=n.required_lead_s / 3600,
                near_line=n.near_line,
                state=queries.state_of(n, known.recipients[n.id], acks, now=now),
                conflict_status=n.conflict_status,
                checked_log_index=n.checked_log_index,
                conflicts=conflicts,
                acknowledgements=AcknowledgementsOut(
                    meaning=meaning,
                    precedence=n.precedence,
                    version=n.version,
                    deadline=n.ack_deadline,
                    recipients=recipients,
                ),
                justification=justification,
                amendments=[
                    AmendmentOut(
                        version=m.version,
                        log_index=m.log_index,
                        amended_at=m.amended_at,
                        reason=m.reason,
                    )
                    for m in known.amendments[n.id]
                ],
                closed=closed,
            )
        )
    return found


def _one(db: Session, viewer: Viewer, notification: Notification, now: datetime) -> NotificationOut:
    db.refresh(notification)
    return notifications_out(db, viewer, [notification], now=now)[0]


@router.post("", response_model=NotificationOut, status_code=201, response_model_by_alias=True)
def submit_notification(
    body: SubmitNotificationIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> NotificationOut:
    """Notify a planned activity, a humanitarian movement or static site, or an emergency.
    Answers with its id, log index, ``lead_time`` (``on_time`` or ``late``: a late
    notification is accepted and marked late) and ``conflicts`` (empty when clear). A
    notification is distributed to its recipients at once; it asks no one's permission."""
    notification = do_submit_notification(
        db,
        viewer,
        notification_id=resolve_id(viewer, body.id, idempotency_key, scope="notification"),
        kind=body.kind,
        geometry=body.geometry,
        buffer_m=body.buffer_m,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        description=body.description,
        category=body.category,
        flash=body.flash,
        participants=body.participants,
        details=body.details,
        justification=body.justification,
        now=clock.now(),
    )
    return _one(db, viewer, notification, clock.now())


@router.get("", response_model=list[NotificationOut], response_model_by_alias=True)
def list_notifications(
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    current: Annotated[bool, Query(description="only those whose window is not over")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[NotificationOut]:
    require(viewer, may_read(viewer), _READERS)
    now = clock.now()
    found = queries.list_notifications(
        db, viewer, kind=kind, ending_after=now if current else None, limit=limit
    )
    return notifications_out(db, viewer, list(found), now=now)


@router.get("/statistics", response_model=list[PartyStatisticsOut])
def notification_statistics(
    viewer: CurrentViewer, db: Db, clock: AppClock
) -> list[PartyStatisticsOut]:
    """Per organisation, one method for every party (R13): notifications on time and late,
    FLASH justifications, acknowledgements in time, late and missed."""
    require(viewer, may_read(viewer), _READERS)
    return [
        PartyStatisticsOut(
            organisation=s.organisation,
            notifications=s.notifications,
            on_time=s.on_time,
            late=s.late,
            flash=s.flash,
            justified_in_time=s.justified_in_time,
            justified_late=s.justified_late,
            justification_owed=s.justification_owed,
            acks_owed=s.acks_owed,
            acks_in_time=s.acks_in_time,
            acks_late=s.acks_late,
            acks_missed=s.acks_missed,
            by_kind={k: KindStatisticsOut(**v) for k, v in s.by_kind.items()},
        )
        for s in queries.statistics(db, viewer, now=clock.now())
    ]


def _visible(db: Session, viewer: Viewer, notification_id: uuid.UUID) -> Notification:
    found = queries.get_notification(db, viewer, notification_id)
    if found is None:
        raise NotFound()
    return found


@router.get("/{notification_id}", response_model=NotificationOut, response_model_by_alias=True)
def get_notification(
    notification_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> NotificationOut:
    return _one(db, viewer, _visible(db, viewer, notification_id), clock.now())


@router.post("/{notification_id}/acknowledge", response_model=AcknowledgementOut, status_code=201)
def acknowledge_notification(
    notification_id: uuid.UUID,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    body: AcknowledgeIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> AcknowledgementOut:
    """Record the party's receipt of the notification's current version (or of ``version``,
    which must be the current one). **An acknowledgement is receipt, never approval**: it says
    the party received the notification, not that it agrees to it."""
    given = body or AcknowledgeIn()
    ack = do_acknowledge_notification(
        db,
        viewer,
        notification_id,
        ack_id=resolve_id(viewer, given.id, idempotency_key, scope="notification-ack"),
        version=given.version,
        now=clock.now(),
    )
    return _ack_out(db, viewer, ack)


def _ack_out(db: Session, viewer: Viewer, ack: Acknowledgement) -> AcknowledgementOut:
    slug = {o.id: o.slug for o in queries.directory(db, viewer).by_id.values()}
    return AcknowledgementOut(
        id=ack.id,
        notification=ack.notification_id,
        version=ack.version,
        organisation=slug[ack.organisation_id],
        log_index=ack.log_index,
        acknowledged_at=ack.acked_at,
        meaning=translate(viewer.language, MEANING),
    )


@router.post(
    "/{notification_id}/amend", response_model=NotificationOut, response_model_by_alias=True
)
def amend_notification(
    notification_id: uuid.UUID,
    body: AmendNotificationIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
) -> NotificationOut:
    """A new version, as a whole: distributed, acknowledged and checked again."""
    notification = do_amend_notification(
        db,
        viewer,
        notification_id,
        geometry=body.geometry,
        buffer_m=body.buffer_m,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        description=body.description,
        category=body.category,
        participants=body.participants,
        details=body.details,
        reason=body.reason,
        version=body.version,
        now=clock.now(),
    )
    return _one(db, viewer, notification, clock.now())


@router.post(
    "/{notification_id}/withdraw", response_model=NotificationOut, response_model_by_alias=True
)
def withdraw_notification(
    notification_id: uuid.UUID,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    body: WithdrawNotificationIn | None = None,
) -> NotificationOut:
    """Withdrawn before its window begins, cancelled after."""
    notification = do_withdraw_notification(
        db, viewer, notification_id, reason=(body.reason if body else None), now=clock.now()
    )
    return _one(db, viewer, notification, clock.now())


@router.post(
    "/{notification_id}/note", response_model=NotificationOut, response_model_by_alias=True
)
def note_conflicts(
    notification_id: uuid.UUID,
    body: NoteConflictsIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
) -> NotificationOut:
    """Keep the notification as it is, noting the conflicts its latest check lists."""
    notification = do_note_conflicts(db, viewer, notification_id, note=body.note, now=clock.now())
    return _one(db, viewer, notification, clock.now())


@router.post(
    "/{notification_id}/justify", response_model=NotificationOut, response_model_by_alias=True
)
def justify_notification(
    notification_id: uuid.UUID,
    body: JustifyNotificationIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
) -> NotificationOut:
    """A FLASH emergency's written justification, due within 24 hours (R8)."""
    if not body.justification.strip():
        raise InvalidInput("A justification is text.", field="justification")
    notification = do_justify_notification(
        db, viewer, notification_id, justification=body.justification, now=clock.now()
    )
    return _one(db, viewer, notification, clock.now())
