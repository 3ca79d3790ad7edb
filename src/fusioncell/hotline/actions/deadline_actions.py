"""What the supervisor's duty officer did about a party's open deadline: a call made to the
party, the message relayed to it by another means, or a follow-up (due at a time, if given).

Each is a signed ``hotline.deadline.action`` entry and a row, so that the log shows not only
that a deadline was missed but what the supervisor did about it, and when. The entry goes to
the party concerned and the supervisor role (as an escalation does), and to the author's own
organisation, so that its author can always read what they signed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell.models import Role
from fusioncell.cell.policy import Permission, Viewer, author_of, can, can_watch_deadlines
from fusioncell.db.transaction import atomic
from fusioncell.errors import Forbidden, IdempotencyConflict, InvalidInput
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.events import emit_hotline
from fusioncell.hotline.models import DeadlineAction, DeadlineActionKind, EventKind, Message
from fusioncell.hotline.queries import get_message, owed_acknowledgements
from fusioncell.ledger.entries import audience, log_time
from fusioncell.ledger.record import record
from fusioncell.text import N_

MAX_NOTE_CHARS = 500
# A follow-up is about an open deadline: it falls due within days, not years.
FOLLOW_UP_WITHIN = timedelta(days=30)

KINDS = tuple(kind.value for kind in DeadlineActionKind)
_NOT_WATCHING = N_("Only those who watch the deadlines record what was done about them.")
_BAD_KIND = N_("The kind of action is a call, a relay or a follow-up.")
_NOTE_TOO_LONG = N_("The note may be at most 500 characters.")
_RELAY_NEEDS_NOTE = N_("Say in the note how the message was relayed.")
_FOLLOW_UP_ONLY = N_("Only a follow-up has a time.")
_FOLLOW_UP_ZONE = N_("Give the follow-up time with its time zone.")
_FOLLOW_UP_WHEN = N_("The follow-up time must be in the future, within 30 days.")
_NOT_RECIPIENT = N_("That organisation is not a party this message was sent to.")


def check_deadline_action(
    kind: str, note: str, follow_up_at: datetime | None, *, now: datetime
) -> datetime | None:
    """Refuse what the action would refuse, before any write; the follow-up time as the log
    spells it (UTC, to the millisecond), so the row reads back what the entry records."""
    if kind not in KINDS:
        raise InvalidInput(_BAD_KIND, field="kind", kinds=list(KINDS))
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(_NOTE_TOO_LONG, field="note", limit=MAX_NOTE_CHARS)
    if kind == DeadlineActionKind.RELAY and not note.strip():
        raise InvalidInput(_RELAY_NEEDS_NOTE, field="note")
    if follow_up_at is None:
        return None
    if kind != DeadlineActionKind.FOLLOW_UP:
        raise InvalidInput(_FOLLOW_UP_ONLY, field="follow_up_at")
    if follow_up_at.tzinfo is None or follow_up_at.utcoffset() is None:
        raise InvalidInput(_FOLLOW_UP_ZONE, field="follow_up_at")
    try:
        due = follow_up_at.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset: out of any range
        raise InvalidInput(_FOLLOW_UP_WHEN, field="follow_up_at") from None
    due = due.replace(microsecond=due.microsecond // 1000 * 1000)
    if not now < due <= now + FOLLOW_UP_WITHIN:
        raise InvalidInput(_FOLLOW_UP_WHEN, field="follow_up_at")
    return due


def _same_request(
    earlier: DeadlineAction,
    message_id: uuid.UUID,
    organisation_id: uuid.UUID,
    kind: str,
    note: str,
    follow_up_at: datetime | None,
) -> bool:
    return (
        earlier.message_id,
        earlier.organisation_id,
        earlier.kind,
        earlier.note,
        earlier.follow_up_at,
    ) == (message_id, organisation_id, kind, note, follow_up_at)


def do_note_deadline_action(
    db: Session,
    actor: Viewer,
    *,
    action_id: uuid.UUID,
    message_id: uuid.UUID,
    organisation_id: uuid.UUID,
    kind: str,
    note: str,
    follow_up_at: datetime | None = None,
    now: datetime,
) -> DeadlineAction:
    """Record what was done about ``organisation_id``'s deadline on a message.

    A retry with the same client id and the same content returns the first row; the same id
    with other content is a conflict. A follow-up time given again on a retry is compared as
    the first request's was kept: in UTC, to the millisecond.
    """
    if not can_watch_deadlines(actor):
        raise Forbidden(_NOT_WATCHING)
    due = check_deadline_action(kind, note, follow_up_at, now=now)
    with atomic(db):
        message = get_message(db, actor, message_id)  # 404 if not released to the actor
        earlier = db.scalar(
            select(DeadlineAction).where(
                DeadlineAction.member_id == actor.member_id,
                DeadlineAction.client_id == action_id,
            )
        )
        if earlier is not None:
            if not _same_request(earlier, message.id, organisation_id, kind, note, due):
                raise IdempotencyConflict(action_id=str(action_id))
            return earlier
        recipient = db.scalar(
            owed_acknowledgements(
                message_id=message.id, organisation_id=organisation_id, as_sent=True
            )
        )
        if recipient is None:
            raise InvalidInput(_NOT_RECIPIENT, field="organisation")
        # The client's id unless another member's action already holds it.
        object_id = action_id if db.get(DeadlineAction, action_id) is None else uuid.uuid4()
        appended = record(
            db,
            author_of(actor),
            HotlineEntry.DEADLINE_ACTION,
            {
                "action": str(object_id),
                "message": str(message.id),
                "message_index": message.log_index,
                "organisation": str(organisation_id),
                "kind": kind,
                "note": note,
                "follow_up_at": log_time(due) if due is not None else None,
                "member": str(actor.member_id),
            },
            audience=audience(
                organisations=sorted({organisation_id, actor.organisation_id}),
                roles=[Role.SUPERVISOR.value],
            ),
            now=now,
        )
        action = DeadlineAction(
            id=object_id,
            client_id=action_id,
            message_id=message.id,
            organisation_id=organisation_id,
            kind=kind,
            note=note,
            follow_up_at=due,
            member_id=actor.member_id,
            written_at=appended.logged_at,
            log_index=appended.index,
        )
        db.add(action)
        emit_hotline(
            db,
            message,
            EventKind.DEADLINE_ACTION,
            {
                "message": str(message.id),
                "organisation": str(organisation_id),
                "action": str(object_id),
                "kind": kind,
                "member": actor.username,
                "at": log_time(appended.logged_at),
                "follow_up_at": log_time(due) if due is not None else None,
            },
            log_index=appended.index,
            now=now,
        )
    return action


def list_deadline_actions(
    db: Session, viewer: Viewer, messages: Sequence[Message]
) -> dict[tuple[uuid.UUID, uuid.UUID], list[DeadlineAction]]:
    """The actions on these messages the viewer may read, by (message, party), oldest first,
    in one statement however many messages. ``messages`` come from the policy's reads
    (``get_message``, ``list_open_deadlines``); among their actions, whoever watches the
    deadlines reads every one, and a party's members those about their own organisation (the
    entry's audience)."""
    if not messages or not can(viewer, Permission.MESSAGE_READ):
        return {}
    query = select(DeadlineAction).where(
        DeadlineAction.message_id.in_(list(dict.fromkeys(m.id for m in messages)))
    )
    if not can_watch_deadlines(viewer):
        query = query.where(DeadlineAction.organisation_id == viewer.organisation_id)
    found: dict[tuple[uuid.UUID, uuid.UUID], list[DeadlineAction]] = {}
    for action in db.scalars(query.order_by(DeadlineAction.log_index)):
        found.setdefault((action.message_id, action.organisation_id), []).append(action)
    return found
