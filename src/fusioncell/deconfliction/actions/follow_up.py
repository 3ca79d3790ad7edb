"""What a notification's sender does after submitting it: withdraw it (cancel it once its
window has begun), note the conflicts its check lists and keep it as it is, or give a FLASH
emergency's written justification (R8). Each is an entry signed by the sender's officer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.db.transaction import atomic
from fusioncell.deconfliction import conflicts as engine
from fusioncell.deconfliction.actions.checks import recheck_after
from fusioncell.deconfliction.actions.notifications import (
    audience_of,
    check_reason,
    logged_now,
    owned_by_sender,
    refuse_unless_open,
)
from fusioncell.deconfliction.entries import NotificationEntry
from fusioncell.deconfliction.events import EventKind, emit_deconfliction
from fusioncell.deconfliction.fields import check_justification
from fusioncell.deconfliction.models import Closed, Notification
from fusioncell.deconfliction.queries.notifications import (
    conflicts_for_engine,
    directory,
    rules_in_force,
)
from fusioncell.errors import Conflict, InvalidInput
from fusioncell.ledger.record import record
from fusioncell.text import N_

_NO_CONFLICTS = N_("This notification has no conflicts to note.")
_NOT_FLASH = N_("Only a FLASH emergency is justified.")
_JUSTIFIED = N_("This notification's justification was already given.")


def do_withdraw_notification(
    db: Session, actor: Viewer, notification_id: uuid.UUID, *, reason: Any = None, now: datetime
) -> Notification:
    """Withdrawn before its window begins, cancelled once it has; either way it no longer
    stands, and the notifications it conflicted with are checked again. A second withdrawal
    returns the first."""
    why = check_reason(reason, required=False)
    with atomic(db):
        notification = owned_by_sender(db, actor, notification_id)
        if notification.closed is not None:
            return notification
        refuse_unless_open(notification, now)
        dir_ = directory(db, actor)
        released_to = dir_.released_to(notification.organisation_id)
        at = logged_now(db, now)
        closed = Closed.WITHDRAWN if at < notification.starts_at else Closed.CANCELLED
        appended = record(
            db,
            author_of(actor),
            NotificationEntry.WITHDRAWN,
            {
                "notification": str(notification.id),
                "notification_index": notification.log_index,
                "version": notification.version,
                "closed": closed.value,
                "reason": why,
                "member": str(actor.member_id),
                "released_to": released_to,
            },
            audience=audience_of(dir_, released_to),
            now=at,
        )
        notification.closed = closed.value
        notification.closed_at = appended.logged_at
        notification.closed_log_index = appended.index
        notification.closed_reason = why
        db.flush()
        emit_deconfliction(
            db,
            EventKind.NOTIFICATION,
            notification=str(notification.id),
            log_index=appended.index,
            payload={"step": closed.value},
            now=at,
        )
        recheck_after(
            db,
            [notification],
            released_to={},
            organisations={s: o.id for s, o in dir_.by_slug.items()},
            first=frozenset(),
            now=at,
        )
    return notification


def do_note_conflicts(
    db: Session, actor: Viewer, notification_id: uuid.UUID, *, note: Any, now: datetime
) -> Notification:
    """The sender keeps the notification as it is, having noted the conflicts the latest
    check lists (each named in the entry); the verdict becomes "noted". Noting them again
    changes nothing."""
    why = check_reason(note, required=True)
    with atomic(db):
        notification = owned_by_sender(db, actor, notification_id)
        refuse_unless_open(notification, now)
        rows = conflicts_for_engine(db, [notification.id])[notification.id]
        if not rows:
            raise Conflict(_NO_CONFLICTS)
        fresh = sorted(
            (r for r in rows if r.noted_log_index is None),
            key=lambda r: (engine.ORDER[r.other_kind], r.other_id),
        )
        if not fresh:
            return notification
        dir_ = directory(db, actor)
        released_to = dir_.released_to(notification.organisation_id)
        appended = record(
            db,
            author_of(actor),
            NotificationEntry.NOTED,
            {
                "notification": str(notification.id),
                "notification_index": notification.log_index,
                "version": notification.version,
                "checked_index": notification.checked_log_index,
                "conflicts": [{"with": r.other_kind, "id": r.other_id} for r in fresh],
                "note": why,
                "member": str(actor.member_id),
                "released_to": released_to,
            },
            audience=audience_of(dir_, released_to),
            now=now,
        )
        for row in fresh:
            row.noted_log_index = appended.index
        notification.conflict_status = "noted"
        emit_deconfliction(
            db,
            EventKind.NOTIFICATION,
            notification=str(notification.id),
            log_index=appended.index,
            payload={"step": "noted"},
            now=now,
        )
    return notification


def do_justify_notification(
    db: Session, actor: Viewer, notification_id: uuid.UUID, *, justification: Any, now: datetime
) -> Notification:
    """A FLASH emergency's written justification (R8), due within the rules' period; given
    late, it is still recorded, and its lateness counts."""
    rules = rules_in_force(db)
    text = check_justification(justification, rules)
    if text is None:
        raise InvalidInput(N_("A justification is text."), field="justification")
    with atomic(db):
        notification = owned_by_sender(db, actor, notification_id)
        if not notification.flash:
            raise Conflict(_NOT_FLASH)
        if notification.justified_at is not None:
            if notification.justification == text:
                return notification
            raise Conflict(_JUSTIFIED)
        dir_ = directory(db, actor)
        released_to = dir_.released_to(notification.organisation_id)
        appended = record(
            db,
            author_of(actor),
            NotificationEntry.JUSTIFIED,
            {
                "notification": str(notification.id),
                "notification_index": notification.log_index,
                "justification": text,
                "member": str(actor.member_id),
                "released_to": released_to,
            },
            audience=audience_of(dir_, released_to),
            now=now,
        )
        notification.justification = text
        notification.justified_at = appended.logged_at
        notification.justification_log_index = appended.index
        emit_deconfliction(
            db,
            EventKind.NOTIFICATION,
            notification=str(notification.id),
            log_index=appended.index,
            payload={"step": "justified"},
            now=now,
        )
    return notification
