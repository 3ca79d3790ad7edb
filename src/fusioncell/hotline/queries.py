"""Reads of the hotline through the access policy: a viewer sees the channels their
organisation belongs to (the supervisor belongs to all), and nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from fusioncell.cell.models import Member, Organisation, Role
from fusioncell.cell.policy import Permission, Viewer, can, can_watch_deadlines
from fusioncell.errors import Forbidden, NotFound
from fusioncell.hotline.models import (
    Ack,
    Channel,
    ChannelMember,
    Delivery,
    Escalation,
    EventKind,
    HotlineEvent,
    Message,
)


def _visible_channel_ids(viewer: Viewer) -> Select[uuid.UUID]:
    return select(ChannelMember.channel_id).where(
        ChannelMember.organisation_id == viewer.organisation_id
    )


def _may_read(viewer: Viewer) -> bool:
    return can(viewer, Permission.MESSAGE_READ)


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
        owed = select(ChannelMember.channel_id).where(
            ChannelMember.organisation_id == viewer.organisation_id,
            ChannelMember.acknowledges.is_(True),
        )
        acked = select(Ack.message_id).where(
            Ack.organisation_id == viewer.organisation_id, Ack.counts.is_(True)
        )
        query = query.where(
            Message.channel_id.in_(owed),
            Message.sender_organisation_id != viewer.organisation_id,
            Message.id.not_in(acked),
        )
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


def message_state(db: Session, viewer: Viewer, message: Message) -> MessageState:
    """Deliveries, acks, escalations and recipients of a message; all empty unless the viewer
    may see the message (the check is in each query, so it costs no extra statement)."""
    visible = select(Message.id).where(
        Message.id == message.id, Message.channel_id.in_(_visible_channel_ids(viewer))
    )
    if not _may_read(viewer):
        visible = visible.where(false())
    return MessageState(
        deliveries=db.scalars(
            select(Delivery).where(Delivery.message_id.in_(visible)).order_by(Delivery.log_index)
        ).all(),
        acks=db.scalars(
            select(Ack).where(Ack.message_id.in_(visible)).order_by(Ack.log_index)
        ).all(),
        escalations=db.scalars(
            select(Escalation)
            .where(Escalation.message_id.in_(visible))
            .order_by(Escalation.log_index)
        ).all(),
        recipients=db.scalars(
            select(ChannelMember).where(
                ChannelMember.channel_id == message.channel_id,
                ChannelMember.acknowledges.is_(True),
                ChannelMember.organisation_id != message.sender_organisation_id,
                visible.exists(),
            )
        ).all(),
    )


def names(db: Session, viewer: Viewer) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]]:
    """Organisation slugs and usernames by id, for rendering: the viewer's own organisation
    and those it shares a channel with, which are all a hotline object it may see can name."""
    known = Organisation.id == viewer.organisation_id
    if _may_read(viewer):
        shared = select(ChannelMember.organisation_id).where(
            ChannelMember.channel_id.in_(_visible_channel_ids(viewer))
        )
        known = or_(known, Organisation.id.in_(shared))
    organisations = {o.id: o.slug for o in db.scalars(select(Organisation).where(known))}
    members = {
        m.id: m.username
        for m in db.scalars(select(Member).where(Member.organisation_id.in_(organisations)))
    }
    return organisations, members


def events_since(
    db: Session, viewer: Viewer, after: int, *, limit: int = 1000
) -> Sequence[HotlineEvent]:
    """The events a viewer may see after the given id, in order (for SSE replay)."""
    if not _may_read(viewer):
        return []
    query = select(HotlineEvent).where(
        HotlineEvent.id > after, HotlineEvent.channel_id.in_(_visible_channel_ids(viewer))
    )
    if Role.SUPERVISOR not in viewer.roles:
        query = query.where(_concerns(viewer))
    return db.scalars(query.order_by(HotlineEvent.id).limit(limit)).all()


def _concerns(viewer: Viewer) -> ColumnElement[bool]:
    """An escalation event reaches exactly its log entry's audience: the organisation that
    owes the acknowledgement, the sender's organisation and the supervisor role (tested by
    the caller). Every other event reaches the whole channel."""
    organisation = str(viewer.organisation_id)
    sent_by_viewer = (
        select(Message.id)
        .where(
            Message.id == HotlineEvent.message_id,
            Message.sender_organisation_id == viewer.organisation_id,
        )
        .exists()
    )
    return or_(
        HotlineEvent.kind != EventKind.ESCALATION.value,
        HotlineEvent.payload["organisation"].as_string() == organisation,
        sent_by_viewer,
    )


def unacknowledged_messages(db: Session, viewer: Viewer, *, limit: int = 500) -> Sequence[Message]:
    """Messages some recipient party has not yet acknowledged, earliest deadline first."""
    if not _may_read(viewer):
        return []
    owing = (
        select(Message.id)
        .join(ChannelMember, ChannelMember.channel_id == Message.channel_id)
        .where(
            ChannelMember.acknowledges.is_(True),
            ChannelMember.organisation_id != Message.sender_organisation_id,
            ~select(Ack.id)
            .where(
                Ack.message_id == Message.id,
                Ack.organisation_id == ChannelMember.organisation_id,
                Ack.counts.is_(True),
            )
            .exists(),
        )
    )
    return db.scalars(
        select(Message)
        .where(Message.channel_id.in_(_visible_channel_ids(viewer)), Message.id.in_(owing))
        .order_by(Message.ack_deadline)
        .limit(limit)
    ).all()


def list_open_deadlines(db: Session, viewer: Viewer, *, limit: int = 500) -> Sequence[Message]:
    """The supervisor's watch: every message some party has not yet acknowledged, across the
    cell; refused (403) to whoever the policy does not let watch the deadlines."""
    if not can_watch_deadlines(viewer):
        raise Forbidden("the deadlines are the supervisor's page")
    return unacknowledged_messages(db, viewer, limit=limit)
