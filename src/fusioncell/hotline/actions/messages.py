"""Sending, relaying, delivering and acknowledging hotline messages."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fusioncell.cell.models import Organisation, OrganisationKind
from fusioncell.cell.policy import Permission, Viewer, author_of, require
from fusioncell.db.transaction import atomic
from fusioncell.errors import Conflict, Forbidden, IdempotencyConflict, InvalidInput, NotFound
from fusioncell.hotline import forms
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.events import emit_hotline
from fusioncell.hotline.models import (
    Ack,
    Channel,
    ChannelMember,
    Delivery,
    EventKind,
    Message,
)
from fusioncell.hotline.queries import cell_message_id, get_channel, get_message, server_id
from fusioncell.hotline.rules import HOTLINE_RULES, HotlineRules
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.context import ledger_context
from fusioncell.ledger.entries import audience, b64, log_time
from fusioncell.ledger.models import LogCheckpoint
from fusioncell.ledger.record import ByLog, record
from fusioncell.text import N_

_SHA256 = re.compile(r"[0-9a-f]{64}")


def _channel_audience(db: Session, channel_id: uuid.UUID) -> dict[str, Any]:
    organisations = db.scalars(
        select(ChannelMember.organisation_id).where(ChannelMember.channel_id == channel_id)
    ).all()
    return audience(organisations=list(organisations))


def _check_attachments(
    attachments: list[dict[str, Any]], policy: HotlineRules
) -> list[dict[str, Any]]:
    """Attachments travel by hash: the message binds each file's SHA-256, size and name."""
    if len(attachments) > policy.max_attachments:
        raise InvalidInput(f"at most {policy.max_attachments} attachments")
    checked = []
    for item in attachments:
        digest, size, name = item.get("sha256"), item.get("size"), item.get("name")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise InvalidInput("an attachment's sha256 is 64 lower-case hex digits")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidInput("an attachment's size is a whole number of bytes")
        if size > policy.max_attachment_bytes:
            raise InvalidInput(
                f"an attachment may be at most {policy.max_attachment_bytes} bytes",
                limit=policy.max_attachment_bytes,
            )
        if not isinstance(name, str) or not 0 < len(name) <= 200:
            raise InvalidInput("an attachment needs a name of at most 200 characters")
        checked.append({"sha256": digest, "size": size, "name": name})
    return checked


def _check_content(
    form: str, text: str | None, fields: Any, policy: HotlineRules
) -> tuple[str | None, dict[str, Any] | None]:
    if form == forms.TEXT:
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput(N_("a text message needs text"))
        if len(text) > policy.max_text_chars:
            raise InvalidInput(
                N_("the text may be at most %(limit)s characters", limit=policy.max_text_chars),
                limit=policy.max_text_chars,
            )
        if fields is not None:
            raise InvalidInput(N_("give either text or a template with fields, not both"))
        return text, None
    if text is not None:
        raise InvalidInput(N_("give either text or a template with fields, not both"))
    return None, forms.check_fields(form, fields)


def _unclaimed(db: Session, model: type[Message] | type[Ack], client_id: uuid.UUID) -> uuid.UUID:
    """The object's id: the client's own choice unless another object already holds it, then
    a random one. A client-chosen id is looked up only among its author's own objects, so an id
    somebody else chose first neither blocks this request nor returns their object."""
    return client_id if db.get(model, client_id) is None else uuid.uuid4()


def _message_body(message: Message, sender: str | None) -> dict[str, Any]:
    return {
        "message": str(message.id),
        "channel": str(message.channel_id),
        "sender": sender,
        "precedence": message.precedence,
        "form": message.form,
        "text": message.text,
        "fields": message.fields,
        "attachments": message.attachments,
        "relay_of": str(message.relay_of) if message.relay_of else None,
        "hotline_policy": message.hotline_policy,
    }


def _insert_message(
    db: Session,
    *,
    message_id: uuid.UUID,
    client_id: uuid.UUID | None,
    channel: Channel,
    sender_id: uuid.UUID | None,
    sender_organisation_id: uuid.UUID,
    precedence: str,
    form: str,
    text: str | None,
    fields: dict[str, Any] | None,
    attachments: list[dict[str, Any]],
    relay_of: uuid.UUID | None,
    author: Any,
    sender_name: str | None,
    now: datetime,
) -> Message:
    policy = ledger_context(db).rules(HOTLINE_RULES)
    rule = policy.rule(precedence)
    message = Message(
        id=message_id,
        client_id=client_id,
        channel_id=channel.id,
        sender_id=sender_id,
        sender_organisation_id=sender_organisation_id,
        precedence=precedence,
        form=form,
        text=text,
        fields=fields,
        attachments=attachments,
        relay_of=relay_of,
        hotline_policy=policy.hash,
        log_index=-1,
        leaf_hash=b"",
    )
    appended = record(
        db,
        author,
        HotlineEntry.MESSAGE_SENT,
        _message_body(message, sender_name),
        audience=_channel_audience(db, channel.id),
        now=now,
    )
    message.log_index, message.leaf_hash = appended.index, appended.leaf_hash
    # Every deadline counts from the entry's log time, the instant ``fusioncell verify`` reads.
    message.sent_at = appended.logged_at
    message.delivered_deadline = appended.logged_at + rule.delivered
    message.ack_deadline = appended.logged_at + rule.ack
    db.add(message)
    db.flush()
    emit_hotline(
        db,
        message,
        EventKind.MESSAGE,
        {"message": str(message.id), "precedence": precedence, "log_index": appended.index},
        log_index=appended.index,
        now=now,
    )
    return message


def _same_request(
    earlier: Message,
    channel_id: uuid.UUID,
    precedence: str,
    form: str,
    text: str | None,
    fields: dict[str, Any] | None,
    attachments: list[dict[str, Any]],
) -> bool:
    return (
        earlier.channel_id,
        earlier.precedence,
        earlier.form,
        earlier.text,
        earlier.fields,
        earlier.attachments,
    ) == (channel_id, precedence, form, text, fields, attachments)


def _own_earlier_message(db: Session, actor: Viewer, client_id: uuid.UUID) -> Message | None:
    return db.scalar(
        select(Message).where(Message.sender_id == actor.member_id, Message.client_id == client_id)
    )


def do_send_message(
    db: Session,
    actor: Viewer,
    *,
    message_id: uuid.UUID,
    channel_id: uuid.UUID,
    precedence: str,
    form: str = forms.TEXT,
    text: str | None = None,
    fields: Any = None,
    attachments: list[dict[str, Any]] = (),  # type: ignore[assignment]
    now: datetime,
) -> Message:
    require(actor, Permission.MESSAGE_SEND)
    policy = ledger_context(db).rules(HOTLINE_RULES)
    if precedence not in policy.precedences:
        raise InvalidInput(
            f"precedence {precedence!r} is not in the policy", precedences=list(policy.precedences)
        )
    text, checked_fields = _check_content(form, text, fields, policy)
    checked_attachments = _check_attachments(list(attachments), policy)
    with atomic(db):
        channel = get_channel(db, actor, channel_id)  # 404 if not a member
        if (earlier := _own_earlier_message(db, actor, message_id)) is not None:
            if not _same_request(
                earlier, channel.id, precedence, form, text, checked_fields, checked_attachments
            ):
                raise IdempotencyConflict(message_id=str(message_id))
            return earlier
        return _insert_message(
            db,
            message_id=_unclaimed(db, Message, message_id),
            client_id=message_id,
            channel=channel,
            sender_id=actor.member_id,
            sender_organisation_id=actor.organisation_id,
            precedence=precedence,
            form=form,
            text=text,
            fields=checked_fields,
            attachments=checked_attachments,
            relay_of=None,
            author=author_of(actor),
            sender_name=actor.username,
            now=now,
        )


def do_relay_message(
    db: Session,
    actor: Viewer,
    *,
    message_id: uuid.UUID,
    original_id: uuid.UUID,
    to_channel_id: uuid.UUID,
    now: datetime,
) -> Message:
    """The supervisor carries a message into another channel; the relay references the original."""
    require(actor, Permission.MESSAGE_RELAY)
    with atomic(db):
        original = get_message(db, actor, original_id)
        channel = get_channel(db, actor, to_channel_id)
        if (earlier := _own_earlier_message(db, actor, message_id)) is not None:
            if earlier.relay_of != original.id or earlier.channel_id != channel.id:
                raise IdempotencyConflict(message_id=str(message_id))
            return earlier
        if channel.id == original.channel_id:
            raise InvalidInput("relay into another channel")
        return _insert_message(
            db,
            message_id=_unclaimed(db, Message, message_id),
            client_id=message_id,
            channel=channel,
            sender_id=actor.member_id,
            sender_organisation_id=actor.organisation_id,
            precedence=original.precedence,
            form=original.form,
            text=original.text,
            fields=original.fields,
            attachments=original.attachments,
            relay_of=original.id,
            author=author_of(actor),
            sender_name=actor.username,
            now=now,
        )


def do_send_link_test(db: Session, *, sequence: int, now: datetime) -> list[Message]:
    """The cell's scheduled link test: one per bilateral channel, signed by the log's key."""
    policy = ledger_context(db).rules(HOTLINE_RULES)
    sent = []
    with atomic(db):
        supervisor = db.scalar(
            select(Organisation).where(Organisation.kind == OrganisationKind.SUPERVISOR.value)
        )
        if supervisor is None:
            return []
        channels = db.scalars(select(Channel).where(Channel.kind == "bilateral")).all()
        for channel in channels:
            message_id = server_id(db, f"link-test/{channel.id}/{sequence}")
            if db.get(Message, message_id) is not None:
                continue
            sent.append(
                _insert_message(
                    db,
                    message_id=message_id,
                    client_id=None,
                    channel=channel,
                    sender_id=None,
                    sender_organisation_id=supervisor.id,
                    precedence=policy.link_test_precedence,
                    form="link_test",
                    text=None,
                    fields={"sequence": sequence},
                    attachments=[],
                    relay_of=None,
                    author=ByLog(),
                    sender_name=None,
                    now=now,
                )
            )
    return sent


def do_send_cell_message(
    db: Session,
    *,
    purpose: str,
    channel_id: uuid.UUID,
    precedence: str,
    form: str,
    fields: dict[str, Any],
    now: datetime,
) -> Message:
    """A message the cell itself sends for another track (the deconfliction track's early
    warnings), signed by the log's key for the supervising organisation as a link test is.

    Its id is derived from ``purpose`` and a secret of the deployment: a retry (after a
    restart, or by a second process) finds the first message, and no client can pre-empt it.
    """
    policy = ledger_context(db).rules(HOTLINE_RULES)
    if precedence not in policy.precedences:
        raise InvalidInput(
            f"precedence {precedence!r} is not in the policy", precedences=list(policy.precedences)
        )
    if form not in forms.CELL_FORMS or form == "link_test":
        raise InvalidInput(f"{form!r} is not a template another track sends")
    checked_fields = forms.check_fields(form, fields)
    with atomic(db):
        message_id = cell_message_id(db, purpose)
        if (earlier := db.get(Message, message_id)) is not None:
            return earlier
        log_clock(db, now=now)  # the lock: a message another process sent is now visible
        if (earlier := db.scalar(select(Message).where(Message.id == message_id))) is not None:
            return earlier
        channel = db.get(Channel, channel_id)
        supervisor = db.scalar(
            select(Organisation).where(Organisation.kind == OrganisationKind.SUPERVISOR.value)
        )
        if channel is None or supervisor is None:
            raise NotFound("no such channel in a cell with a supervisor")
        return _insert_message(
            db,
            message_id=message_id,
            client_id=None,
            channel=channel,
            sender_id=None,
            sender_organisation_id=supervisor.id,
            precedence=precedence,
            form=form,
            text=None,
            fields=checked_fields,
            attachments=[],
            relay_of=None,
            author=ByLog(),
            sender_name=None,
            now=now,
        )


def do_mark_delivered(
    db: Session, actor: Viewer, *, message_ids: list[uuid.UUID], now: datetime
) -> list[Delivery]:
    """A device of the actor's organisation received these messages: the first time counts.

    A delivery is the cell's own statement that it handed the message to the member's device,
    so the log's key signs it (a member without a key on the server gets one all the same),
    and its body names the member and the organisation. Streams, pages and API reads may
    record the same delivery at the same moment, in several processes: the check for an
    earlier one is made again under the log's lock, which serialises writers, so the later
    writer finds the first delivery and skips it instead of failing on the primary key.
    """
    if not message_ids:
        return []
    written = []
    with atomic(db):
        owed = []
        for message_id in message_ids:
            message = get_message(db, actor, message_id)
            if message.sender_organisation_id != actor.organisation_id and message not in owed:
                owed.append(message)
        owed = _undelivered(db, actor, owed) if owed else []
        if owed:
            log_clock(db, now=now)  # the lock: every earlier delivery is now committed
            owed = _undelivered(db, actor, owed)
        for message in owed:
            appended = record(
                db,
                ByLog(),
                HotlineEntry.MESSAGE_DELIVERED,
                {
                    "message": str(message.id),
                    "message_index": message.log_index,
                    "organisation": str(actor.organisation_id),
                    "member": str(actor.member_id),
                },
                audience=_channel_audience(db, message.channel_id),
                now=now,
            )
            delivery = Delivery(
                message_id=message.id,
                organisation_id=actor.organisation_id,
                member_id=actor.member_id,
                delivered_at=appended.logged_at,
                log_index=appended.index,
            )
            db.add(delivery)
            emit_hotline(
                db,
                message,
                EventKind.DELIVERED,
                {"message": str(message.id), "organisation": str(actor.organisation_id)},
                log_index=appended.index,
                now=now,
            )
            written.append(delivery)
    return written


def _undelivered(db: Session, actor: Viewer, messages: list[Message]) -> list[Message]:
    """The messages not yet delivered to the actor's organisation, read from the database
    (not the session's identity map, which would not see another transaction's row)."""
    delivered = set(
        db.scalars(
            select(Delivery.message_id).where(
                Delivery.organisation_id == actor.organisation_id,
                Delivery.message_id.in_([message.id for message in messages]),
            )
        )
    )
    return [message for message in messages if message.id not in delivered]


def _checkpoint_seen(db: Session, size: int | None) -> dict[str, Any] | None:
    """The checkpoint the acknowledger's client verified; the newest one if it does not say."""
    if size is None:
        checkpoint = db.scalar(select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1))
    else:
        checkpoint = db.get(LogCheckpoint, size)
        if checkpoint is None:
            raise InvalidInput(f"no checkpoint of size {size}: give one the log has signed")
    if checkpoint is None:
        return None
    return {"size": checkpoint.size, "root": b64(checkpoint.root)}


def do_acknowledge_message(
    db: Session,
    actor: Viewer,
    *,
    message_id: uuid.UUID,
    ack_id: uuid.UUID,
    checkpoint_size: int | None,
    now: datetime,
) -> Ack:
    """A human of a recipient party acknowledges receipt (receipt is not approval).

    A party's first acknowledgement stops its deadline; later ones by other members of the
    party are recorded but change nothing. The same member acknowledging twice is refused.
    """
    with atomic(db):
        message = get_message(db, actor, message_id)  # 404 if not released to the actor
        require(actor, Permission.MESSAGE_ACK)
        earlier = db.scalar(
            select(Ack).where(Ack.member_id == actor.member_id, Ack.client_id == ack_id)
        )
        if earlier is not None:
            if earlier.message_id != message.id:
                raise IdempotencyConflict(ack_id=str(ack_id))
            return earlier
        recipient = db.get(ChannelMember, (message.channel_id, actor.organisation_id))
        if (
            recipient is None
            or not recipient.acknowledges
            or message.sender_organisation_id == actor.organisation_id
        ):
            raise Forbidden("your organisation is not a recipient that acknowledges this message")
        # Under the log's lock, so two members of one party acknowledging at the same moment
        # see each other: exactly one acknowledgement is the party's first.
        log_clock(db, now=now)
        mine = db.scalar(
            select(Ack.id).where(Ack.message_id == message.id, Ack.member_id == actor.member_id)
        )
        if mine is not None:
            raise Conflict("you have already acknowledged this message", ack_id=str(mine))
        first = not db.scalar(
            select(func.count()).where(
                Ack.message_id == message.id, Ack.organisation_id == actor.organisation_id
            )
        )
        seen = _checkpoint_seen(db, checkpoint_size)
        object_id = _unclaimed(db, Ack, ack_id)
        appended = record(
            db,
            author_of(actor),
            HotlineEntry.MESSAGE_ACKNOWLEDGED,
            {
                "ack": str(object_id),
                "message": str(message.id),
                "message_index": message.log_index,
                "message_leaf_hash": b64(message.leaf_hash),
                "organisation": str(actor.organisation_id),
                "checkpoint": seen,
            },
            audience=_channel_audience(db, message.channel_id),
            now=now,
        )
        ack = Ack(
            id=object_id,
            client_id=ack_id,
            message_id=message.id,
            member_id=actor.member_id,
            organisation_id=actor.organisation_id,
            counts=first,
            acked_at=appended.logged_at,
            checkpoint_size=seen["size"] if seen else None,
            log_index=appended.index,
        )
        db.add(ack)
        emit_hotline(
            db,
            message,
            EventKind.ACKNOWLEDGED,
            {
                "message": str(message.id),
                "organisation": str(actor.organisation_id),
                "member": actor.username,
                "counts": first,
                "at": log_time(ack.acked_at),
            },
            log_index=appended.index,
            now=now,
        )
    return ack
