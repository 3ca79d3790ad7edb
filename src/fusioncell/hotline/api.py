"""REST routes of the hotline."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.errors import InvalidInput
from fusioncell.hotline import forms
from fusioncell.hotline.actions.deadline_actions import (
    do_note_deadline_action,
    list_deadline_actions,
)
from fusioncell.hotline.actions.messages import (
    do_acknowledge_message,
    do_relay_message,
    do_send_message,
)
from fusioncell.hotline.models import DeadlineAction, Message
from fusioncell.hotline.queries import (
    MessageState,
    get_channel,
    get_message,
    list_channel_members,
    list_channels,
    list_messages,
    message_state,
    names,
)
from fusioncell.hotline.receiving import receive
from fusioncell.hotline.schemas import (
    AckIn,
    AckOut,
    ChannelOut,
    DeadlineActionIn,
    DeadlineActionOut,
    DeliveryOut,
    EscalationOut,
    MessageOut,
    RecipientOut,
    RelayMessageIn,
    SendMessageIn,
)
from fusioncell.idempotency import resolve_id
from fusioncell.ledger.entries import b64
from fusioncell.web.deps import AppClock, CurrentViewer, Db

router = APIRouter(prefix="/api/v1", tags=["hotline"])
IdempotencyKey = Annotated[str | None, Header(max_length=200)]


Names = tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]]


def message_out(
    db: Session,
    viewer: Viewer,
    message: Message,
    *,
    full: bool = True,
    known: Names | None = None,
    state: MessageState | None = None,
) -> MessageOut:
    """``known``: organisation and member names already read for a list of messages;
    ``state``: the message's state, read with the list's (``message_states``)."""
    organisations, members = known or names(db, viewer)
    out = MessageOut(
        id=message.id,
        channel_id=message.channel_id,
        sender=members.get(message.sender_id) if message.sender_id else None,
        sender_organisation=organisations[message.sender_organisation_id],
        precedence=message.precedence,
        template=None if message.form == forms.TEXT else message.form,
        text=message.text,
        fields=message.fields,
        rendered=forms.render(message.form, message.fields, message.text, viewer.language),
        title=forms.title(message.form, viewer.language),
        attachments=message.attachments,
        relay_of=message.relay_of,
        log_index=message.log_index,
        leaf_hash=b64(message.leaf_hash),
        hotline_policy=message.hotline_policy,
        sent_at=message.sent_at,
        delivered_deadline=message.delivered_deadline,
        ack_deadline=message.ack_deadline,
    )
    if not full:
        return out
    if state is None:
        state = message_state(db, viewer, message)
    delivered = {d.organisation_id: d.delivered_at for d in state.deliveries}
    acked = {a.organisation_id: a.acked_at for a in state.acks if a.counts}
    out.recipients = [
        RecipientOut(
            organisation=organisations[r.organisation_id],
            delivered_at=delivered.get(r.organisation_id),
            acknowledged_at=acked.get(r.organisation_id),
        )
        for r in state.recipients
    ]
    out.deliveries = [
        DeliveryOut(
            organisation=organisations[d.organisation_id],
            member=members.get(d.member_id),
            at=d.delivered_at,
            log_index=d.log_index,
        )
        for d in state.deliveries
    ]
    out.acks = [
        AckOut(
            id=a.id,
            organisation=organisations[a.organisation_id],
            member=members.get(a.member_id),
            at=a.acked_at,
            counts=a.counts,
            checkpoint_size=a.checkpoint_size,
            log_index=a.log_index,
        )
        for a in state.acks
    ]
    out.escalations = [
        EscalationOut(
            organisation=organisations[e.organisation_id],
            step=e.step,
            due_at=e.due_at,
            notify=e.notify,
            log_index=e.log_index,
        )
        for e in state.escalations
    ]
    return out


@router.get("/channels", response_model=list[ChannelOut])
def channels(viewer: CurrentViewer, db: Db) -> list[ChannelOut]:
    organisations, _members = names(db, viewer)
    members: dict[uuid.UUID, list[str]] = {}
    for member in list_channel_members(db, viewer):
        members.setdefault(member.channel_id, []).append(organisations[member.organisation_id])
    return [
        ChannelOut(
            id=channel.id,
            kind=channel.kind,
            name=channel.name,
            members=sorted(members.get(channel.id, [])),
        )
        for channel in list_channels(db, viewer)
    ]


@router.get("/channels/{channel_id}/messages", response_model=list[MessageOut])
def channel_messages(
    channel_id: uuid.UUID,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    precedence: Annotated[str | None, Query(max_length=16)] = None,
    unacknowledged: bool = False,
    before: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[MessageOut]:
    """Newest first. Fetching counts as delivery to the viewer's organisation."""
    get_channel(db, viewer, channel_id)
    found = list_messages(
        db,
        viewer,
        channel_id=channel_id,
        precedence=precedence,
        unacknowledged=unacknowledged,
        before=before,
        limit=limit,
    )
    states = receive(db, viewer, found, now=clock.now())
    known = names(db, viewer)
    return [message_out(db, viewer, m, known=known, state=states[m.id]) for m in found]


@router.post("/channels/{channel_id}/messages", response_model=MessageOut, status_code=201)
def send_message(
    channel_id: uuid.UUID,
    body: SendMessageIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> MessageOut:
    if body.template is None and body.fields is not None:
        raise InvalidInput("fields belong to a template: name it in 'template'")
    message = do_send_message(
        db,
        viewer,
        message_id=resolve_id(viewer, body.id, idempotency_key, scope="message"),
        channel_id=channel_id,
        precedence=body.precedence,
        form=body.template or forms.TEXT,
        text=body.text,
        fields=body.fields,
        attachments=[a.model_dump() for a in body.attachments],
        now=clock.now(),
    )
    return message_out(db, viewer, message)


@router.get("/messages/{message_id}", response_model=MessageOut)
def message(message_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock) -> MessageOut:
    found = get_message(db, viewer, message_id)
    states = receive(db, viewer, [found], now=clock.now())
    return message_out(db, viewer, found, state=states[found.id])


@router.post("/messages/{message_id}/ack", response_model=AckOut, status_code=201)
def acknowledge(
    message_id: uuid.UUID,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    body: AckIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> AckOut:
    body = body or AckIn()
    ack = do_acknowledge_message(
        db,
        viewer,
        message_id=message_id,
        ack_id=resolve_id(viewer, body.id, idempotency_key, scope=f"ack/{message_id}"),
        checkpoint_size=body.checkpoint_size,
        now=clock.now(),
    )
    organisations, members = names(db, viewer)
    return AckOut(
        id=ack.id,
        organisation=organisations[ack.organisation_id],
        member=members.get(ack.member_id),
        at=ack.acked_at,
        counts=ack.counts,
        checkpoint_size=ack.checkpoint_size,
        log_index=ack.log_index,
    )


@router.post("/messages/{message_id}/relay", response_model=MessageOut, status_code=201)
def relay(
    message_id: uuid.UUID,
    body: RelayMessageIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> MessageOut:
    relayed = do_relay_message(
        db,
        viewer,
        message_id=resolve_id(viewer, body.id, idempotency_key, scope="relay"),
        original_id=message_id,
        to_channel_id=body.channel_id,
        now=clock.now(),
    )
    return message_out(db, viewer, relayed)


def deadline_action_out(action: DeadlineAction, known: Names) -> DeadlineActionOut:
    organisations, members = known
    return DeadlineActionOut(
        id=action.id,
        message_id=action.message_id,
        organisation=organisations.get(action.organisation_id, str(action.organisation_id)),
        kind=action.kind,
        note=action.note,
        follow_up_at=action.follow_up_at,
        member=members.get(action.member_id),
        at=action.written_at,
        log_index=action.log_index,
    )


def organisation_named(given: str, known: Names) -> uuid.UUID:
    """An organisation by slug or id among those the viewer shares a channel with; any other
    name is an id no message was sent to, for the action to refuse after its permission."""
    organisations, _members = known
    try:
        return uuid.UUID(given)
    except ValueError:
        pass
    by_slug = {slug: organisation for organisation, slug in organisations.items()}
    return by_slug.get(given, uuid.UUID(int=0))


@router.post(
    "/messages/{message_id}/deadline-actions", response_model=DeadlineActionOut, status_code=201
)
def note_deadline_action(
    message_id: uuid.UUID,
    body: DeadlineActionIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> DeadlineActionOut:
    """Record what was done about a party's deadline on the message (a call, a relay by other
    means, a follow-up): whoever watches the deadlines; a signed entry."""
    known = names(db, viewer)
    action = do_note_deadline_action(
        db,
        viewer,
        action_id=resolve_id(
            viewer, body.id, idempotency_key, scope=f"deadline-action/{message_id}"
        ),
        message_id=message_id,
        organisation_id=organisation_named(body.organisation, known),
        kind=body.kind,
        note=body.note,
        follow_up_at=body.follow_up_at,
        now=clock.now(),
    )
    return deadline_action_out(action, known)


@router.get("/messages/{message_id}/deadline-actions", response_model=list[DeadlineActionOut])
def deadline_actions(
    message_id: uuid.UUID, viewer: CurrentViewer, db: Db
) -> list[DeadlineActionOut]:
    """Oldest first: every one for whoever watches the deadlines, a party's own for its
    members."""
    found = get_message(db, viewer, message_id)
    known = names(db, viewer)
    actions = list_deadline_actions(db, viewer, [found])
    return sorted(
        (deadline_action_out(a, known) for rows in actions.values() for a in rows),
        key=lambda out: out.log_index,
    )
