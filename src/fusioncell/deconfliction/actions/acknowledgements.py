"""A recipient party's acknowledgement of a notification: receipt, never approval (DESIGN
promise 3). It is the acknowledging officer's signed statement that the party received this
version of the notification, and it says nothing about whether the party agrees to it.

The parties other than the sender's owe one for each version; a party's first counts for its
deadline (R9), and its overdue acknowledgements escalate as the hotline's do
(``actions.escalation``). A retry with the same id, or a second acknowledgement of the same
version by the same party, returns the first.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.db.transaction import atomic
from fusioncell.deconfliction.entries import NotificationEntry
from fusioncell.deconfliction.events import EventKind, emit_deconfliction
from fusioncell.deconfliction.models import Acknowledgement
from fusioncell.deconfliction.policy import may_acknowledge, require
from fusioncell.deconfliction.queries.notifications import (
    ack_id_taken,
    around,
    directory,
    find_own_ack,
    first_ack,
    get_notification,
)
from fusioncell.errors import Conflict, Forbidden, IdempotencyConflict, NotFound
from fusioncell.ledger.entries import audience
from fusioncell.ledger.record import record
from fusioncell.text import N_

# What every acknowledgement says it is, in its entry and in every answer.
MEANING = N_("An acknowledgement is receipt, never approval.")

_NOT_OFFICER = N_("A party's liaison or duty officer acknowledges a notification.")
_NOT_RECIPIENT = N_("Your party is not a recipient of this notification.")
_OLD_VERSION = N_("This notification has been amended: acknowledge its current version.")
_CLOSED = N_("This notification was withdrawn: there is nothing to acknowledge.")


def do_acknowledge_notification(
    db: Session,
    actor: Viewer,
    notification_id: uuid.UUID,
    *,
    ack_id: uuid.UUID,
    version: int | None = None,
    now: datetime,
) -> Acknowledgement:
    require(actor, may_acknowledge(actor), _NOT_OFFICER)
    with atomic(db):
        notification = get_notification(db, actor, notification_id)
        if notification is None:
            raise NotFound()
        earlier = find_own_ack(db, actor.member_id, ack_id)
        if earlier is not None:
            if earlier.notification_id != notification.id or (
                version is not None and earlier.version != version
            ):
                raise IdempotencyConflict(ack_id=str(ack_id))
            return earlier
        known = around(db, [notification])
        if actor.organisation_id not in known.recipients[notification.id]:
            raise Forbidden(_NOT_RECIPIENT)
        acked = version if version is not None else notification.version
        if acked != notification.version:
            raise Conflict(_OLD_VERSION, version=notification.version)
        first = first_ack(known.acks[notification.id], actor.organisation_id, acked)
        if first is not None:
            return first
        if notification.closed is not None:
            raise Conflict(_CLOSED, state=notification.closed)
        dir_ = directory(db, actor)
        released_to = dir_.released_to(notification.organisation_id)
        object_id = ack_id if not ack_id_taken(db, ack_id) else uuid.uuid4()
        appended = record(
            db,
            author_of(actor),
            NotificationEntry.ACKNOWLEDGED,
            {
                "ack": str(object_id),
                "notification": str(notification.id),
                "notification_index": notification.log_index,
                "version": acked,
                "version_index": notification.version_log_index,
                "organisation": dir_.by_id[actor.organisation_id].slug,
                "member": str(actor.member_id),
                "meaning": MEANING,
                "released_to": released_to,
            },
            audience=audience(organisations=dir_.ids(released_to)),
            now=now,
        )
        ack = Acknowledgement(
            id=object_id,
            client_id=ack_id,
            notification_id=notification.id,
            version=acked,
            organisation_id=actor.organisation_id,
            member_id=actor.member_id,
            acked_at=appended.logged_at,
            log_index=appended.index,
        )
        db.add(ack)
        emit_deconfliction(
            db,
            EventKind.ACKNOWLEDGED,
            notification=str(notification.id),
            log_index=appended.index,
            payload={"version": acked, "organisation": dir_.by_id[actor.organisation_id].slug},
            now=now,
        )
    return ack
