"""Hotline actions: each writes its rows, one signed entry and one event in one transaction,
and a refused actor changes nothing at all."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from tests.helpers.tables import refused, table_counts
from tests.hotline.factories import FLASH_TEXT, acknowledge, send

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.errors import (
    Conflict,
    FusioncellError,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
)
from fusioncell.errors import Forbidden as ForbiddenError
from fusioncell.hotline import forms
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID, bilateral_channel_id
from fusioncell.hotline.actions.messages import (
    do_mark_delivered,
    do_relay_message,
    do_send_message,
)
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.models import (
    Ack,
    Delivery,
    Escalation,
    EventKind,
    Message,
)
from fusioncell.hotline.rules import HOTLINE_RULES
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.entries import (
    b64,
    body_hash,
    key_id,
    parse_leaf,
    signing_message,
)
from fusioncell.ledger.keys import verify_signature
from fusioncell.ledger.models import EntryBody, LogCheckpoint, LogEntry, LogKey
from fusioncell.live.models import Event
from fusioncell.scenario.demo import stable_id

ALPHA = stable_id("organisation", "ALPHA")
BRAVO = stable_id("organisation", "BRAVO")
SUPERVISOR = stable_id("organisation", "SUPERVISOR")
AREA = {
    "type": "Polygon",
    "coordinates": [[[35.80, 33.10], [35.90, 33.10], [35.90, 33.20], [35.80, 33.10]]],
}
POINT = {"type": "Point", "coordinates": [35.85, 33.15]}
# One valid message per template, spelled as a client might (the server trims text fields).
TEMPLATES: dict[str, dict[str, Any]] = {
    "activity_notification": {
        "activity": " Convoy of four trucks ",
        "starts_at": "2026-01-06T09:00:00Z",
        "ends_at": "2026-01-06T11:00:00+00:00",
        "area": AREA,
    },
    "clarification_request": {"subject": "The convoy", "question": "Which crossing?"},
    "incident_alert": {
        "occurred_at": "2026-01-06T07:55:00Z",
        "description": "Shots heard near the crossing",
        "location": POINT,
    },
    "medevac_request": {
        "patients": 2,
        "urgency": "urgent",
        "crossing": "Crossing A",
        "location": POINT,
    },
    "link_test": {"sequence": 7},
}


# --- helpers -----------------------------------------------------------------------------------


def last_entry(db: Session) -> tuple[LogEntry, dict[str, Any]]:
    db.rollback()
    entry = db.scalar(select(LogEntry).order_by(LogEntry.index.desc()).limit(1))
    assert entry is not None
    return entry, body_of(db, entry.index)


def body_of(db: Session, index: int) -> dict[str, Any]:
    stored = db.get(EntryBody, index)
    assert stored is not None
    body: dict[str, Any] = json.loads(stored.body)
    return body


def custodial_key(db: Session, viewer: Viewer) -> str:
    found = db.scalar(
        select(LogKey.key_id).where(LogKey.member_id == viewer.member_id, LogKey.custodial)
    )
    assert found is not None
    return found


def assert_verifies(db: Session, ledger: LedgerContext, entry: LogEntry) -> None:
    """The entry's signature holds under its author's key and its header commits to its body."""
    leaf = parse_leaf(entry.leaf)
    if entry.author_key_id == key_id(ledger.keyring.log_signer.public_key):
        public = ledger.keyring.log_signer.public_key
    else:
        row = db.get(LogKey, entry.author_key_id)
        assert row is not None
        public = row.public_key
    assert verify_signature(public, signing_message(entry.entry_type, leaf.header), entry.signature)
    stored = db.get(EntryBody, entry.index)
    assert stored is not None
    assert body_hash(stored.salt, json.loads(stored.body)) == leaf.header["body"]
    assert leaf.header["policy"] == ledger.policy_hash


@dataclass(frozen=True)
class HotlineEvent:
    """A hotline event on the live bus, with its scope and subject read back as ids."""

    kind: str
    channel_id: uuid.UUID
    message_id: uuid.UUID
    payload: dict[str, Any]
    log_index: int


def events(db: Session, kind: EventKind | None = None) -> list[HotlineEvent]:
    db.rollback()
    query = select(Event).where(Event.track == "hotline").order_by(Event.id)
    if kind is not None:
        query = query.where(Event.kind == kind.value)
    return [
        HotlineEvent(e.kind, uuid.UUID(e.scope), uuid.UUID(str(e.subject)), e.payload, e.log_index)
        for e in db.scalars(query)
    ]


def checkpoint(db: Session, clock: ManualClock) -> int:
    signed = do_sign_checkpoint(db, now=clock.now())
    assert signed is not None
    return int(signed.size)


# --- sending -----------------------------------------------------------------------------------


def test_a_text_message_is_a_row_an_entry_signed_by_its_sender_and_an_event(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock, ledger: LedgerContext
) -> None:
    liaison = member("alpha.liaison")
    message_id = uuid.uuid4()

    message = send(db, liaison, now=clock.now(), message_id=message_id)

    db.rollback()
    row = db.get(Message, message_id)
    assert row is not None
    assert (row.channel_id, row.sender_id, row.sender_organisation_id) == (
        CELL_CHANNEL_ID,
        liaison.member_id,
        ALPHA,
    )
    assert (row.precedence, row.form, row.text, row.fields) == (
        "FLASH",
        forms.TEXT,
        FLASH_TEXT,
        None,
    )
    rule = ledger.rules(HOTLINE_RULES).rule("FLASH")
    assert row.sent_at == clock.now()
    assert row.delivered_deadline == clock.now() + rule.delivered
    assert row.ack_deadline == clock.now() + rule.ack
    assert row.hotline_policy == ledger.rules(HOTLINE_RULES).hash

    entry, body = last_entry(db)
    assert (entry.index, entry.leaf_hash) == (message.log_index, message.leaf_hash)
    assert entry.entry_type == HotlineEntry.MESSAGE_SENT
    assert entry.author_key_id == custodial_key(db, liaison)
    assert entry.custodial is True
    assert body == {
        "message": str(message_id),
        "channel": str(CELL_CHANNEL_ID),
        "sender": "alpha.liaison",
        "precedence": "FLASH",
        "form": "text",
        "text": FLASH_TEXT,
        "fields": None,
        "attachments": [],
        "relay_of": None,
        "hotline_policy": ledger.rules(HOTLINE_RULES).hash,
    }
    assert_verifies(db, ledger, entry)

    [event] = events(db)
    assert (event.kind, event.channel_id, event.message_id) == (
        EventKind.MESSAGE,
        CELL_CHANNEL_ID,
        message_id,
    )
    assert event.payload == {
        "message": str(message_id),
        "precedence": "FLASH",
        "log_index": entry.index,
    }
    assert event.log_index == entry.index


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_each_template_is_stored_as_its_checked_fields_and_renders_in_every_language(
    template: str,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    ledger: LedgerContext,
) -> None:
    duty = member("alpha.duty")
    message_id = uuid.uuid4()

    do_send_message(
        db,
        duty,
        message_id=message_id,
        channel_id=bilateral_channel_id(ALPHA),
        precedence="IMMEDIATE",
        form=template,
        fields=TEMPLATES[template],
        now=clock.now(),
    )

    db.rollback()
    row = db.get(Message, message_id)
    assert row is not None and row.form == template and row.text is None
    expected = forms.check_fields(template, TEMPLATES[template])
    assert row.fields == expected
    if template == "activity_notification":
        assert row.fields["activity"] == "Convoy of four trucks"
    entry, body = last_entry(db)
    assert entry.entry_type == HotlineEntry.MESSAGE_SENT
    assert entry.author_key_id == custodial_key(db, duty)
    assert (body["form"], body["fields"], body["text"]) == (template, expected, None)
    assert_verifies(db, ledger, entry)
    [event] = events(db, EventKind.MESSAGE)
    assert event.message_id == message_id
    for language in ("en", "ar", "he"):
        assert forms.render(template, row.fields, None, language).strip()
        assert forms.title(template, language).strip()


def test_a_retry_with_the_same_id_returns_the_first_message_and_appends_nothing(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    liaison = member("alpha.liaison")
    message_id = uuid.uuid4()
    first = send(db, liaison, now=clock.now(), message_id=message_id)
    first_index = first.log_index
    before = table_counts(db)
    clock.advance(5)

    again = send(db, liaison, now=clock.now(), message_id=message_id)

    assert (again.id, again.log_index) == (message_id, first_index)
    assert table_counts(db) == before


def test_the_same_id_with_different_content_is_a_conflict_and_appends_nothing(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    liaison = member("alpha.liaison")
    message_id = uuid.uuid4()
    send(db, liaison, now=clock.now(), message_id=message_id)

    with refused(db, IdempotencyConflict):
        send(db, liaison, now=clock.now(), message_id=message_id, text="Something else")
    with refused(db, IdempotencyConflict):
        send(db, liaison, now=clock.now(), message_id=message_id, precedence="ROUTINE")
    with refused(db, IdempotencyConflict):
        send(
            db,
            liaison,
            now=clock.now(),
            message_id=message_id,
            attachments=[{"sha256": "ab" * 32, "size": 10, "name": "route.png"}],
        )


@pytest.mark.parametrize(
    ("username", "channel", "error"),
    [
        ("alpha.analyst", "cell", ForbiddenError),  # may read, may not send
        ("host.observer", "cell", ForbiddenError),  # in the cell channel, read only
        ("alpha.liaison", "BRAVO", NotFound),  # not a member of BRAVO's channel
        ("verifier.lead", "ALPHA", NotFound),  # the verifier is only in the cell channel
    ],
)
def test_a_member_who_may_not_send_there_changes_nothing(
    username: str,
    channel: str,
    error: type[FusioncellError],
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
) -> None:
    sender = member(username)
    channel_id = (
        CELL_CHANNEL_ID
        if channel == "cell"
        else bilateral_channel_id(stable_id("organisation", channel))
    )

    with refused(db, error):
        send(db, sender, now=clock.now(), channel_id=channel_id)


# --- relaying ----------------------------------------------------------------------------------


def test_the_supervisor_relays_a_message_into_another_channel_and_the_entry_references_it(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock, ledger: LedgerContext
) -> None:
    original = send(
        db, member("alpha.liaison"), now=clock.now(), channel_id=bilateral_channel_id(ALPHA)
    )
    original_id = original.id
    chair = member("supervisor.chair")
    relay_id = uuid.uuid4()
    clock.advance(30)

    do_relay_message(
        db,
        chair,
        message_id=relay_id,
        original_id=original_id,
        to_channel_id=bilateral_channel_id(BRAVO),
        now=clock.now(),
    )

    db.rollback()
    relayed = db.get(Message, relay_id)
    assert relayed is not None
    assert (relayed.relay_of, relayed.channel_id, relayed.sender_id) == (
        original_id,
        bilateral_channel_id(BRAVO),
        chair.member_id,
    )
    assert (relayed.precedence, relayed.text) == ("FLASH", FLASH_TEXT)
    assert relayed.sender_organisation_id == SUPERVISOR
    entry, body = last_entry(db)
    assert entry.entry_type == HotlineEntry.MESSAGE_SENT
    assert entry.author_key_id == custodial_key(db, chair)
    assert body["relay_of"] == str(original_id)
    assert (body["sender"], body["channel"]) == (
        "supervisor.chair",
        str(bilateral_channel_id(BRAVO)),
    )
    assert_verifies(db, ledger, entry)
    relay_event = events(db, EventKind.MESSAGE)[-1]
    assert (relay_event.message_id, relay_event.channel_id) == (
        relay_id,
        bilateral_channel_id(BRAVO),
    )


def test_a_party_cannot_relay_and_the_supervisor_cannot_relay_into_the_same_channel(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    original = send(db, member("alpha.liaison"), now=clock.now())
    original_id = original.id
    liaison, chair = member("alpha.liaison"), member("supervisor.chair")

    def relay(actor: Viewer, to: uuid.UUID) -> object:
        return do_relay_message(
            db,
            actor,
            message_id=uuid.uuid4(),
            original_id=original_id,
            to_channel_id=to,
            now=clock.now(),
        )

    with refused(db, ForbiddenError):
        relay(liaison, bilateral_channel_id(ALPHA))
    with refused(db, InvalidInput):
        relay(chair, CELL_CHANNEL_ID)


# --- delivery ----------------------------------------------------------------------------------


def test_the_first_device_of_each_organisation_to_receive_a_message_is_its_delivery(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock, ledger: LedgerContext
) -> None:
    message = send(db, member("alpha.liaison"), now=clock.now())
    message_id, message_index = message.id, message.log_index
    duty = member("bravo.duty")
    clock.advance(3)

    do_mark_delivered(db, duty, message_ids=[message_id], now=clock.now())

    db.rollback()
    [delivery] = db.scalars(select(Delivery).where(Delivery.message_id == message_id))
    assert (delivery.organisation_id, delivery.member_id, delivery.delivered_at) == (
        BRAVO,
        duty.member_id,
        clock.now(),
    )
    entry, body = last_entry(db)
    assert delivery.log_index == entry.index
    assert entry.entry_type == HotlineEntry.MESSAGE_DELIVERED
    # The cell's own statement that it handed the message over: the log's key signs it.
    assert entry.author_key_id == key_id(ledger.keyring.log_signer.public_key)
    assert body == {
        "message": str(message_id),
        "message_index": message_index,
        "organisation": str(BRAVO),
        "member": str(duty.member_id),
    }
    assert_verifies(db, ledger, entry)
    [event] = events(db, EventKind.DELIVERED)
    assert (event.message_id, event.payload) == (
        message_id,
        {"message": str(message_id), "organisation": str(BRAVO)},
    )

    before = table_counts(db)
    clock.advance(3)
    assert (
        do_mark_delivered(db, member("bravo.liaison"), message_ids=[message_id], now=clock.now())
        == []
    )
    assert (
        do_mark_delivered(db, member("alpha.duty"), message_ids=[message_id], now=clock.now()) == []
    )
    assert table_counts(db) == before


def test_a_member_whose_custodial_key_is_gone_still_gets_a_delivery_record(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock, ledger: LedgerContext
) -> None:
    message = send(db, member("alpha.liaison"), now=clock.now())
    message_id = message.id
    duty = member("bravo.duty")
    # The server no longer holds the member's key (a deployment restored without it).
    db.execute(
        update(LogKey)
        .where(LogKey.member_id == duty.member_id, LogKey.custodial)
        .values(sealed_seed=None)
    )
    db.commit()

    [delivery] = do_mark_delivered(db, duty, message_ids=[message_id], now=clock.now())

    db.rollback()
    entry, body = last_entry(db)
    assert (delivery.member_id, delivery.log_index) == (duty.member_id, entry.index)
    assert entry.author_key_id == key_id(ledger.keyring.log_signer.public_key)
    assert body["member"] == str(duty.member_id)
    assert_verifies(db, ledger, entry)


def test_a_member_cannot_mark_delivered_a_message_they_cannot_see(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    message = send(
        db, member("bravo.liaison"), now=clock.now(), channel_id=bilateral_channel_id(BRAVO)
    )
    message_id = message.id
    alpha, humanitarian = member("alpha.duty"), member("hum1.coordinator")

    for outsider in (alpha, humanitarian):
        with refused(db, NotFound):
            do_mark_delivered(db, outsider, message_ids=[message_id], now=clock.now())


# --- acknowledgement ---------------------------------------------------------------------------


def test_an_ack_carries_the_message_index_its_leaf_hash_and_the_checkpoint_seen(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock, ledger: LedgerContext
) -> None:
    message = send(db, member("alpha.liaison"), now=clock.now())
    message_id, message_index, leaf = message.id, message.log_index, message.leaf_hash
    size = checkpoint(db, clock)
    duty = member("bravo.duty")
    ack_id = uuid.uuid4()
    clock.advance(40)

    ack = acknowledge(db, duty, message_id, now=clock.now(), ack_id=ack_id, checkpoint_size=size)

    db.rollback()
    row = db.get(Ack, ack_id)
    assert row is not None
    assert (row.message_id, row.member_id, row.organisation_id) == (
        message_id,
        duty.member_id,
        BRAVO,
    )
    assert (row.counts, row.acked_at, row.checkpoint_size) == (True, clock.now(), size)
    entry, body = last_entry(db)
    assert ack.log_index == entry.index
    assert entry.entry_type == HotlineEntry.MESSAGE_ACKNOWLEDGED
    assert entry.author_key_id == custodial_key(db, duty)
    root = db.get(LogCheckpoint, size)
    assert root is not None
    assert body == {
        "ack": str(ack_id),
        "message": str(message_id),
        "message_index": message_index,
        "message_leaf_hash": b64(leaf),
        "organisation": str(BRAVO),
        "checkpoint": {"size": size, "root": b64(root.root)},
    }
    assert_verifies(db, ledger, entry)
    [event] = events(db, EventKind.ACKNOWLEDGED)
    assert event.message_id == message_id
    assert event.payload["counts"] is True
    assert event.payload["member"] == "bravo.duty"


def test_without_a_size_the_ack_cites_the_newest_checkpoint_and_an_unknown_size_is_refused(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    message = send(db, member("alpha.liaison"), now=clock.now())
    message_id = message.id
    size = checkpoint(db, clock)
    duty = member("bravo.duty")

    with refused(db, InvalidInput):
        acknowledge(db, duty, message_id, now=clock.now(), checkpoint_size=size + 50)
    acknowledge(db, duty, message_id, now=clock.now())

    _entry, body = last_entry(db)
    assert body["checkpoint"]["size"] == size


def test_a_partys_first_ack_counts_and_a_second_members_is_recorded_without_counting(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock, ledger: LedgerContext
) -> None:
    message = send(db, member("alpha.liaison"), now=clock.now())
    message_id = message.id
    first_at = clock.now()
    acknowledge(db, member("bravo.duty"), message_id, now=clock.now())
    clock.advance(10)

    second = acknowledge(db, member("bravo.liaison"), message_id, now=clock.now())

    db.rollback()
    assert second.counts is False
    entry, body = last_entry(db)
    assert entry.entry_type == HotlineEntry.MESSAGE_ACKNOWLEDGED
    assert entry.author_key_id == custodial_key(db, member("bravo.liaison"))
    assert body["organisation"] == str(BRAVO)
    assert_verifies(db, ledger, entry)
    acks = list(db.scalars(select(Ack).where(Ack.message_id == message_id).order_by(Ack.log_index)))
    assert [(a.counts, a.acked_at) for a in acks] == [(True, first_at), (False, clock.now())]
    assert [e.payload["counts"] for e in events(db, EventKind.ACKNOWLEDGED)] == [True, False]


def test_the_same_member_acknowledging_twice_is_a_conflict_and_a_retry_returns_the_first(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    message = send(db, member("alpha.liaison"), now=clock.now())
    message_id = message.id
    duty = member("bravo.duty")
    ack_id = uuid.uuid4()
    first = acknowledge(db, duty, message_id, now=clock.now(), ack_id=ack_id)
    first_index = first.log_index

    with refused(db, Conflict) as raised:
        acknowledge(db, duty, message_id, now=clock.now())
    error = raised.value
    assert error.status == 409 and not isinstance(error, IdempotencyConflict)
    before = table_counts(db)
    assert (
        acknowledge(db, duty, message_id, now=clock.now(), ack_id=ack_id).log_index == first_index
    )
    assert table_counts(db) == before


@pytest.mark.parametrize(
    ("username", "error"),
    [
        ("alpha.duty", ForbiddenError),  # the sender's own party
        ("host.observer", ForbiddenError),  # an observer in the channel
        ("supervisor.duty", ForbiddenError),  # the supervisor receives but does not acknowledge
        ("hum1.coordinator", NotFound),  # not in the channel: the message does not exist for them
    ],
)
def test_a_member_who_is_not_a_recipient_cannot_acknowledge(
    username: str,
    error: type[FusioncellError],
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
) -> None:
    message = send(db, member("alpha.liaison"), now=clock.now())
    message_id = message.id
    actor = member(username)

    with refused(db, error):
        acknowledge(db, actor, message_id, now=clock.now())


def test_a_member_cannot_acknowledge_a_message_they_cannot_see(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    message = send(
        db, member("supervisor.chair"), now=clock.now(), channel_id=bilateral_channel_id(BRAVO)
    )
    message_id = message.id
    alpha = member("alpha.duty")

    with refused(db, NotFound):
        acknowledge(db, alpha, message_id, now=clock.now())
    with refused(db, NotFound):
        acknowledge(db, alpha, uuid.uuid4(), now=clock.now())


# --- link tests --------------------------------------------------------------------------------


def link_tests(db: Session) -> list[Message]:
    db.rollback()
    return list(
        db.scalars(select(Message).where(Message.form == "link_test").order_by(Message.log_index))
    )


def test_the_engine_sends_one_link_test_per_bilateral_channel_per_interval(
    app: FastAPI, db: Session, demo: None, clock: ManualClock, ledger: LedgerContext
) -> None:
    engine = app.state.hotline_engine
    every = ledger.rules(HOTLINE_RULES).link_test_every.total_seconds()

    engine.run_once()
    clock.advance(every / 2)
    engine.run_once()

    first = link_tests(db)
    assert sorted(m.channel_id for m in first) == sorted(
        [bilateral_channel_id(ALPHA), bilateral_channel_id(BRAVO)]
    )
    sequence = int(first[0].sent_at.timestamp() // every)
    for message in first:
        assert (message.sender_id, message.sender_organisation_id) == (None, SUPERVISOR)
        assert (message.precedence, message.fields) == (
            ledger.rules(HOTLINE_RULES).link_test_precedence,
            {"sequence": sequence},
        )
        entry = db.get(LogEntry, message.log_index)
        assert entry is not None
        assert entry.entry_type == HotlineEntry.MESSAGE_SENT
        assert entry.author_key_id == key_id(ledger.keyring.log_signer.public_key)
        body = body_of(db, entry.index)
        assert (body["sender"], body["form"], body["fields"]) == (
            None,
            "link_test",
            {"sequence": sequence},
        )
        assert_verifies(db, ledger, entry)
    assert {e.message_id for e in events(db, EventKind.MESSAGE)} == {m.id for m in first}

    clock.advance(every / 2)
    engine.run_once()

    later = link_tests(db)[len(first) :]
    assert len(later) == 2
    assert {m.fields["sequence"] for m in later if m.fields} == {sequence + 1}


def test_a_missed_link_test_escalates_like_an_immediate_message(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    ledger: LedgerContext,
) -> None:
    engine = app.state.hotline_engine
    engine.run_once()
    tests = {m.channel_id: m for m in link_tests(db)}
    alpha_test, bravo_test = tests[bilateral_channel_id(ALPHA)], tests[bilateral_channel_id(BRAVO)]
    alpha_id, bravo_id = alpha_test.id, bravo_test.id
    duty = member("alpha.duty")
    do_mark_delivered(db, duty, message_ids=[alpha_id], now=clock.now())
    acknowledge(db, duty, alpha_id, now=clock.now())  # ALPHA answers its link test; BRAVO does not
    rule = ledger.rules(HOTLINE_RULES).rule(ledger.rules(HOTLINE_RULES).link_test_precedence)

    clock.advance(rule.ack.total_seconds())
    engine.run_once()

    db.rollback()
    escalated = list(db.scalars(select(Escalation).order_by(Escalation.log_index)))
    assert {e.message_id for e in escalated} == {bravo_id}
    assert [(e.organisation_id, e.step) for e in escalated] == [(BRAVO, 0), (BRAVO, 1)]
    assert escalated[1].notify == list(rule.ladder[0].notify)
    assert escalated[1].due_at == bravo_test.sent_at + rule.ladder[0].after
    for escalation in escalated:
        entry = db.get(LogEntry, escalation.log_index)
        assert entry is not None and entry.entry_type == HotlineEntry.ESCALATION
        assert entry.author_key_id == key_id(ledger.keyring.log_signer.public_key)
        assert_verifies(db, ledger, entry)
