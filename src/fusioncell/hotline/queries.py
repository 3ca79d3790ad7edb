"""Reads of the hotline through the access policy: a viewer sees the channels their
organisation belongs to (the supervisor belongs to all), and nothing else."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Select, case, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from fusioncell.cell.models import Member, Organisation
from fusioncell.cell.policy import Permission, Viewer, can, can_watch_deadlines
from fusioncell.errors import Forbidden, NotFound
from fusioncell.hotline.models import (
    Ack,
    Channel,
    ChannelMember,
    Delivery,
    Escalation,
    Message,
)
from fusioncell.hotline.recipients import owed_acknowledgements as owed_by_rule
from fusioncell.hotline.rules import PRECEDENCES
from fusioncell.ledger.context import ledger_context


def _visible_channel_ids(viewer: Viewer) -> Select[uuid.UUID]:
    return select(ChannelMember.channel_id).where(
        ChannelMember.organisation_id == viewer.organisation_id
    )


def _may_read(viewer: Viewer) -> bool:
    return can(viewer, Permission.MESSAGE_READ)


_OWED_MESSAGE = aliased(Message, name="owed_message")
_OWED_MEMBER = aliased(ChannelMember, name="owed_member")
_OWED_ACK = aliased(Ack, name="owed_ack")


def owed_acknowledgements(
    *,
    message_id: uuid.UUID | None = None,
    message_ids: Select[uuid.UUID] | None = None,
    organisation_id: uuid.UUID | None = None,
    as_sent: bool = False,
) -> Select[uuid.UUID, uuid.UUID]:
    """Who owes which message an acknowledgement, in SQL: the rule of
    ``hotline.recipients.owed_acknowledgements`` for the tables, one ``(message_id,
    organisation_id)`` row per acknowledgement owed (an organisation's first acknowledgement
    counts). ``as_sent``: as owed before anyone acknowledged, that is the message's
    recipients. ``message_ids``: a select of the messages wanted. Not a read by itself: the
    reads below put it inside their own policy filter. Its tables are aliased, so it never
    correlates with the query it is placed in (use it once per statement: the aliases are made
    once, at import, because an alias's columns cost a third of a message's POST to set up)."""
    message, member, ack = _OWED_MESSAGE, _OWED_MEMBER, _OWED_ACK
    query = (
        select(message.id.label("message_id"), member.organisation_id.label("organisation_id"))
        .join(member, member.channel_id == message.channel_id)
        .where(
            member.acknowledges.is_(True),
            member.organisation_id != message.sender_organisation_id,
        )
    )
    if not as_sent:
        acknowledged = select(ack.id).where(
            ack.message_id == message.id,
            ack.organisation_id == member.organisation_id,
            ack.counts.is_(True),
        )
        query = query.where(~acknowledged.exists())
    if message_id is not None:
        query = query.where(message.id == message_id)
    if message_ids is not None:
        query = query.where(message.id.in_(message_ids))
    if organisation_id is not None:
        query = query.where(member.organisation_id == organisation_id)
    return query


def list_channels(db: Session, viewer: Viewer) -> Sequence[Channel]:
    if not _may_read(viewer):
        return []
    return db.scalars(
        select(Channel)
        .where(Channel.id.in_(_visible_channel_ids(viewer)))
        .order_by(Channel.kind, Channel.name)
    ).all()


def get_channel(db: Session, viewer: Viewer, channel_id: uuid.UUID) -> Channel:
    channel = None
    if _may_read(viewer):
        channel = db.scalar(
            select(Channel).where(
                Channel.id == channel_id, Channel.id.in_(_visible_channel_ids(viewer))
            )
        )
    if channel is None:
        raise NotFound(f"no channel {channel_id}")
    return channel


def channel_members(db: Session, viewer: Viewer, channel_id: uuid.UUID) -> Sequence[ChannelMember]:
    """The organisations in a channel the viewer may see; none for any other channel."""
    if not _may_read(viewer):
        return []
    return db.scalars(
        select(ChannelMember).where(
            ChannelMember.channel_id == channel_id,
            ChannelMember.channel_id.in_(_visible_channel_ids(viewer)),
        )
    ).all()


def list_channel_members(db: Session, viewer: Viewer) -> Sequence[ChannelMember]:
    """The organisations of every channel the viewer may see, in one read (a list of
    channels names each one's members)."""
    if not _may_read(viewer):
        return []
    return db.scalars(
        select(ChannelMember)
        .where(ChannelMember.channel_id.in_(_visible_channel_ids(viewer)))
        .order_by(ChannelMember.channel_id, ChannelMember.organisation_id)
    ).all()


def get_message(db: Session, viewer: Viewer, message_id: uuid.UUID) -> Message:
    message = None
    if _may_read(viewer):
        message = db.scalar(
            select(Message).where(
                Message.id == message_id, Message.channel_id.in_(_visible_channel_ids(viewer))
            )
        )
    if message is None:
        raise NotFound(f"no message {message_id}")
    return message


def list_messages(
    db: Session,
    viewer: Viewer,
    *,
    channel_id: uuid.UUID | None = None,
    precedence: str | None = None,
    unacknowledged: bool = False,
    before: uuid.UUID | None = None,
    limit: int = 100,
) -> Sequence[Message]:
    """Newest first. ``unacknowledged``: messages the viewer's organisation still owes an ack.
    ``before``: only messages older than this one, which must be one the viewer may see
    (else ``NotFound``)."""
    if not _may_read(viewer):
        return []
    query = select(Message).where(Message.channel_id.in_(_visible_channel_ids(viewer)))
    if channel_id is not None:
        query = query.where(Message.channel_id == channel_id)
    if precedence is not None:
        query = query.where(Message.precedence == precedence)
    if unacknowledged:
        owed = owed_acknowledgements(organisation_id=viewer.organisation_id).subquery()
        query = query.where(Message.id.in_(select(owed.c.message_id)))
    if before is not None:
        # The cursor goes through the policy too: a message the viewer may not see is
        # "no message", exactly as one that never existed, so a cursor cannot probe ids.
        pivot = get_message(db, viewer, before)
        query = query.where(Message.log_index < pivot.log_index)
    return db.scalars(query.order_by(Message.log_index.desc()).limit(min(limit, 500))).all()


@dataclass(frozen=True)
class MessageState:
    deliveries: Sequence[Delivery]
    acks: Sequence[Ack]
    escalations: Sequence[Escalation]
    recipients: Sequence[ChannelMember]
    # The recipients' organisations that still owe an acknowledgement.
    owing: frozenset[uuid.UUID]


def message_states(
    db: Session, viewer: Viewer, messages: Sequence[Message]
) -> dict[uuid.UUID, MessageState]:
    """Deliveries, acks, escalations and recipients of each message, in four statements
    whatever the number of messages (a page renders them all at once). A message the viewer
    may not see gets an empty state: the check is inside each statement, so it costs none."""
    if not messages:
        return {}
    visible = select(Message.id).where(
        Message.id.in_(list(dict.fromkeys(m.id for m in messages))),
        Message.channel_id.in_(_visible_channel_ids(viewer)),
    )
    if not _may_read(viewer):
        visible = visible.where(false())
    deliveries = _by_message(
        db.scalars(
            select(Delivery).where(Delivery.message_id.in_(visible)).order_by(Delivery.log_index)
        )
    )
    acks = _by_message(
        db.scalars(select(Ack).where(Ack.message_id.in_(visible)).order_by(Ack.log_index))
    )
    escalations = _by_message(
        db.scalars(
            select(Escalation)
            .where(Escalation.message_id.in_(visible))
            .order_by(Escalation.log_index)
        )
    )
    sent_to = owed_acknowledgements(message_ids=visible, as_sent=True).subquery()
    recipients: dict[uuid.UUID, list[ChannelMember]] = {}
    for message_id, member in db.execute(
        select(sent_to.c.message_id, ChannelMember)
        .join(Message, Message.id == sent_to.c.message_id)
        .join(
            ChannelMember,
            (ChannelMember.channel_id == Message.channel_id)
            & (ChannelMember.organisation_id == sent_to.c.organisation_id),
        )
        .order_by(ChannelMember.organisation_id)
    ):
        recipients.setdefault(message_id, []).append(member)
    states = {}
    for message in messages:
        members = recipients.get(message.id, [])
        message_acks = acks.get(message.id, [])
        states[message.id] = MessageState(
            deliveries=deliveries.get(message.id, []),
            acks=message_acks,
            escalations=escalations.get(message.id, []),
            recipients=members,
            owing=owed_by_rule(
                ((m.organisation_id, m.acknowledges) for m in members),
                message.sender_organisation_id,
                (a.organisation_id for a in message_acks if a.counts),
            ),
        )
    return states


_Row = TypeVar("_Row", Delivery, Ack, Escalation)


def _by_message(rows: Iterable[_Row]) -> dict[uuid.UUID, list[_Row]]:
    grouped: dict[uuid.UUID, list[_Row]] = {}
    for row in rows:
        grouped.setdefault(row.message_id, []).append(row)
    return grouped


def message_state(db: Session, viewer: Viewer, message: Message) -> MessageState:
    """One message's state, as ``message_states`` reads a page's."""
    return message_states(db, viewer, [message])[message.id]


def names(db: Session, viewer: Viewer) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]]:
    """Organisation slugs and usernames by id, for rendering: the viewer's own organisation
    and those it shares a channel with, which are all a hotline object it may see can name."""
    known = Organisation.id == viewer.organisation_id
    if _may_read(viewer):
        shared = select(ChannelMember.organisation_id).where(
            ChannelMember.channel_id.in_(_visible_channel_ids(viewer))
        )
        known = or_(known, Organisation.id.in_(shared))
    organisations = dict(db.execute(select(Organisation.id, Organisation.slug).where(known)).all())
    members = dict(
        db.execute(
            select(Member.id, Member.username).where(Member.organisation_id.in_(organisations))
        ).all()
    )
    return organisations, members


def unacknowledged_messages(db: Session, viewer: Viewer, *, limit: int = 500) -> Sequence[Message]:
    """Messages some recipient party has not yet acknowledged, earliest deadline first."""
    if not _may_read(viewer):
        return []
    owing = owed_acknowledgements().subquery()
    return db.scalars(
        select(Message)
        .where(
            Message.channel_id.in_(_visible_channel_ids(viewer)),
            Message.id.in_(select(owing.c.message_id)),
        )
        .order_by(Message.ack_deadline)
        .limit(limit)
    ).all()


def list_open_deadlines(db: Session, viewer: Viewer, *, limit: int = 500) -> Sequence[Message]:
    """The supervisor's watch: every message some party has not yet acknowledged, across the
    cell; refused (403) to whoever the policy does not let watch the deadlines."""
    if not can_watch_deadlines(viewer):
        raise Forbidden("the deadlines are the supervisor's page")
    return unacknowledged_messages(db, viewer, limit=limit)


def recipients_for_engine(
    db: Session, message_ids: Select[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The escalation engine's read, with no viewer (the cell itself escalates): for each of
    the messages selected, the organisations it was sent to, which owe or owed it an
    acknowledgement. One statement, however many messages."""
    recipients = owed_acknowledgements(message_ids=message_ids, as_sent=True).subquery()
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for message_id, organisation in db.execute(
        select(recipients.c.message_id, recipients.c.organisation_id)
    ):
        found.setdefault(message_id, []).append(organisation)
    return found


@dataclass(frozen=True)
class OpenObligation:
    """A message the viewer's organisation owes an acknowledgement, with the escalation steps
    reached for that organisation and the number owed in its channel."""

    message: Message
    steps: int
    open_in_channel: int
    open_in_all: int


def list_open_obligations(
    db: Session, viewer: Viewer, *, limit: int = 50
) -> Sequence[OpenObligation]:
    """What the viewer's organisation still owes, most urgent first: FLASH before IMMEDIATE
    before PRIORITY before ROUTINE, then by acknowledgement deadline. One statement, the
    counts included (windows are counted before the limit), for every page's header."""
    if not _may_read(viewer):
        return []
    owed = owed_acknowledgements(organisation_id=viewer.organisation_id).subquery()
    rank = case(
        *((Message.precedence == name, place) for place, name in enumerate(PRECEDENCES)),
        else_=len(PRECEDENCES),
    )
    steps = (
        select(func.count(Escalation.step))
        .where(
            Escalation.message_id == Message.id,
            Escalation.organisation_id == viewer.organisation_id,
            Escalation.step > 0,
        )
        .scalar_subquery()
    )
    rows = db.execute(
        select(
            Message,
            steps,
            func.count().over(partition_by=Message.channel_id),
            func.count().over(),
        )
        .where(
            Message.channel_id.in_(_visible_channel_ids(viewer)),
            Message.id.in_(select(owed.c.message_id)),
        )
        .order_by(rank, Message.ack_deadline, Message.log_index)
        .limit(min(limit, 500))
    ).all()
    return [
        OpenObligation(message=row[0], steps=row[1], open_in_channel=row[2], open_in_all=row[3])
        for row in rows
    ]


def server_id(db: Session, purpose: str) -> uuid.UUID:
    """An id the cell makes for itself (link tests, the messages it sends for other tracks):
    derived from a secret of the deployment, so the same in every app process, but not
    guessable, and so not pre-emptable by a client."""
    secret = ledger_context(db).keyring.log_signer.private_key().private_bytes_raw()
    key = hashlib.sha256(b"fusioncell/server-ids/v1\n" + secret).digest()
    digest = hmac.new(key, purpose.encode(), hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def cell_message_id(db: Session, purpose: str) -> uuid.UUID:
    """The id of the message the cell sends for another track for ``purpose``
    (``do_send_cell_message``)."""
    return server_id(db, f"cell-message/{purpose}")


def counting_acks_of_cell_messages(db: Session, purposes: Iterable[str]) -> dict[str, list[Ack]]:
    """The acknowledgements that count (each organisation's first) of the messages the cell
    sent for another track, by the purpose each was sent for: how another track reads a
    receipt given in the hotline inbox. Not filtered for a viewer: the caller shows only
    what its own policy lets the viewer read of the receipt (who acknowledged, and when)."""
    by_id = {cell_message_id(db, purpose): purpose for purpose in purposes}
    found: dict[str, list[Ack]] = {purpose: [] for purpose in by_id.values()}
    if by_id:
        rows = db.scalars(
            select(Ack)
            .where(Ack.message_id.in_(list(by_id)), Ack.counts.is_(True))
            .order_by(Ack.log_index)
        )
        for ack in rows:
            found[by_id[ack.message_id]].append(ack)
    return found
