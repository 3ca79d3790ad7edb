"""The hotline's state check: on a database copy, every channel, message, delivery,
acknowledgement, escalation and deadline action row must be what its entry's body says, and every such entry must
have its row; ``fusioncell verify`` names the first difference and the entry it belongs to."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.orm import Session
from tests.helpers.verifying import tamper, verify_state
from tests.hotline.factories import FLASH_TEXT, acknowledge, send

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID, bilateral_channel_id
from fusioncell.hotline.actions.deadline_actions import do_note_deadline_action
from fusioncell.hotline.actions.messages import (
    do_mark_delivered,
    do_relay_message,
)
from fusioncell.hotline.models import (
    Ack,
    ChannelMember,
    DeadlineAction,
    Delivery,
    Escalation,
    Message,
)
from fusioncell.hotline.state_check import HotlineStateCheck
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.entries import known_entry_types
from fusioncell.ledger.models import LogAudience, LogEntry
from fusioncell.scenario.demo import stable_id

ALPHA = stable_id("organisation", "ALPHA")
BRAVO = stable_id("organisation", "BRAVO")
HUM = stable_id("organisation", "HUM-1")
BRAVO_DUTY = stable_id("member", "bravo.duty")
BRAVO_LIAISON = stable_id("member", "bravo.liaison")


@dataclass(frozen=True)
class Traffic:
    flash: uuid.UUID
    undelivered: uuid.UUID
    clarification: uuid.UUID
    relay: uuid.UUID
    deadline_action: uuid.UUID


@pytest.fixture
def traffic(
    app: FastAPI, db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> Traffic:
    """A minute of the hotline through its real actions: link tests, a FLASH delivered and
    acknowledged twice (the second does not count), a template message, a relay, and a FLASH
    nobody received, escalated by the engine."""
    app.state.hotline_engine.run_once()  # the link tests
    clock.advance(1)
    flash = send(db, member("alpha.liaison"), now=clock.now()).id
    clarification = send(
        db,
        member("bravo.liaison"),
        now=clock.now(),
        channel_id=bilateral_channel_id(BRAVO),
        precedence="ROUTINE",
        text=None,
        form="clarification_request",
        fields={"subject": "The convoy", "question": "Which crossing?"},
    ).id
    undelivered = send(db, member("alpha.liaison"), now=clock.now(), text="Second FLASH").id
    clock.advance(2)
    do_mark_delivered(db, member("bravo.duty"), message_ids=[flash], now=clock.now())
    acknowledge(db, member("bravo.duty"), flash, now=clock.now())
    clock.advance(1)
    acknowledge(db, member("bravo.liaison"), flash, now=clock.now())
    relay = do_relay_message(
        db,
        member("supervisor.chair"),
        message_id=uuid.uuid4(),
        original_id=clarification,
        to_channel_id=bilateral_channel_id(ALPHA),
        now=clock.now(),
    ).id
    clock.advance(60)
    app.state.hotline_engine.run_once()  # the undelivered FLASH escalates
    followed = do_note_deadline_action(
        db,
        member("supervisor.duty"),
        action_id=uuid.uuid4(),
        message_id=undelivered,
        organisation_id=BRAVO,
        kind="follow_up",
        note="Calling BRAVO's duty line again at the hour",
        follow_up_at=clock.now() + timedelta(minutes=30),
        now=clock.now(),
    ).id
    app.state.checkpointer.run_once()
    return Traffic(flash, undelivered, clarification, relay, followed)


def index_of(engine: Engine, column: Any, *where: Any) -> int:
    with engine.connect() as connection:
        found = connection.scalar(select(column).where(*where))
    assert found is not None
    return int(found)


def test_an_honest_hotline_database_verifies_with_its_rows_and_audiences(
    traffic: Traffic, engine: Engine, ledger: LedgerContext
) -> None:
    report = verify_state(engine, ledger)

    assert report.ok, report.summary()
    with engine.connect() as connection:
        escalations = connection.scalar(select(Escalation.log_index))
        link_tests = connection.scalars(select(Message.id).where(Message.form == "link_test"))
        assert escalations is not None and len(list(link_tests)) == 2


def test_an_edited_message_text_fails_at_the_message_entry(
    traffic: Traffic, engine: Engine, ledger: LedgerContext
) -> None:
    target = index_of(engine, Message.log_index, Message.id == traffic.flash)
    tamper(engine, update(Message).where(Message.id == traffic.flash).values(text="Stand down"))

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        target,
        f"hotline_messages row {traffic.flash}: text is 'Stand down', but the entry records "
        f"{FLASH_TEXT!r}",
    )


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("precedence", "ROUTINE", "'ROUTINE'"),
        ("sender_id", BRAVO_LIAISON, f"'{BRAVO_LIAISON}'"),
        ("sender_organisation_id", BRAVO, f"'{BRAVO}'"),
        ("channel_id", bilateral_channel_id(ALPHA), f"'{bilateral_channel_id(ALPHA)}'"),
        ("attachments", [{"name": "x", "sha256": "0" * 64, "size": 1}], None),
    ],
)
def test_each_served_field_of_a_message_is_checked(
    traffic: Traffic, engine: Engine, ledger: LedgerContext, column: str, value: Any, shown: Any
) -> None:
    target = index_of(engine, Message.log_index, Message.id == traffic.flash)
    tamper(engine, update(Message).where(Message.id == traffic.flash).values({column: value}))

    report = verify_state(engine, ledger)

    assert report.failed_index == target
    assert report.reason is not None
    assert report.reason.startswith(f"hotline_messages row {traffic.flash}: {column} is ")
    if shown is not None:
        assert report.reason.startswith(
            f"hotline_messages row {traffic.flash}: {column} is {shown}"
        )


def test_edited_template_fields_and_a_moved_deadline_are_caught(
    traffic: Traffic, engine: Engine, ledger: LedgerContext
) -> None:
    target = index_of(engine, Message.log_index, Message.id == traffic.clarification)
    fields = {"subject": "The convoy", "question": "Which crossing? None, stay home."}
    tamper(engine, update(Message).where(Message.id == traffic.clarification).values(fields=fields))
    assert verify_state(engine, ledger).failed_index == target

    tamper(
        engine,
        update(Message)
        .where(Message.id == traffic.clarification)
        .values(fields={"subject": "The convoy", "question": "Which crossing?"}),
    )
    assert verify_state(engine, ledger).ok
    with engine.connect() as connection:
        deadline = connection.scalar(
            select(Message.ack_deadline).where(Message.id == traffic.clarification)
        )
    tamper(
        engine,
        update(Message)
        .where(Message.id == traffic.clarification)
        .values(ack_deadline=deadline + timedelta(days=1)),
    )
    report = verify_state(engine, ledger)
    assert report.failed_index == target
    assert report.reason is not None and "ack_deadline" in report.reason


def test_a_deleted_delivery_row_fails_at_its_delivery_entry(
    traffic: Traffic, engine: Engine, ledger: LedgerContext
) -> None:
    target = index_of(engine, Delivery.log_index, Delivery.message_id == traffic.flash)
    tamper(engine, delete(Delivery).where(Delivery.message_id == traffic.flash))

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        target,
        "hotline_deliveries has no row for this hotline.message.delivered entry",
    )


def test_a_delivery_row_without_its_entry_fails(
    traffic: Traffic, engine: Engine, ledger: LedgerContext, clock: ManualClock
) -> None:
    # Claimed at the index of an entry that is no delivery, as a forger needs some index.
    borrowed = index_of(engine, LogEntry.index, LogEntry.entry_type == "log.policy.adopted")
    tamper(
        engine,
        insert(Delivery).values(
            message_id=traffic.undelivered,
            organisation_id=BRAVO,
            member_id=BRAVO_DUTY,
            delivered_at=clock.now(),
            log_index=borrowed,
        ),
    )

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        None,
        f"hotline_deliveries row {traffic.undelivered}/{BRAVO} (log_index {borrowed}) has no "
        "entry in the log",
    )


def test_an_acknowledgement_moved_to_another_member_fails_at_its_entry(
    traffic: Traffic, engine: Engine, ledger: LedgerContext
) -> None:
    first = Ack.message_id == traffic.flash, Ack.member_id == BRAVO_DUTY
    target = index_of(engine, Ack.log_index, *first)
    with engine.connect() as connection:
        ack_id = connection.scalar(select(Ack.id).where(*first))
    other = stable_id("member", "bravo.analyst")
    tamper(engine, update(Ack).where(*first).values(member_id=other))

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        target,
        f"hotline_acks row {ack_id}: member_id is '{other}', but the entry records '{BRAVO_DUTY}'",
    )


def test_a_second_acknowledgement_made_to_count_fails_at_its_entry(
    traffic: Traffic, engine: Engine, ledger: LedgerContext
) -> None:
    second = Ack.message_id == traffic.flash, Ack.member_id == BRAVO_LIAISON
    target = index_of(engine, Ack.log_index, *second)
    tamper(engine, update(Ack).where(*second).values(counts=True))

    report = verify_state(engine, ledger)

    assert report.failed_index == target
    assert report.reason is not None and ": counts is True, but the entry records False" in (
        report.reason
    )


def test_a_deleted_escalation_fails_at_its_entry(
    traffic: Traffic, engine: Engine, ledger: LedgerContext
) -> None:
    target = index_of(engine, Escalation.log_index, Escalation.message_id == traffic.undelivered)
    tamper(engine, delete(Escalation).where(Escalation.log_index == target))

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        target,
        "hotline_escalations has no row for this hotline.escalation entry",
    )


def test_channel_membership_is_checked_against_the_channel_entry(
    traffic: Traffic, engine: Engine, ledger: LedgerContext
) -> None:
    opened = index_of(engine, LogEntry.index, LogEntry.entry_type == "hotline.channel.opened")
    tamper(
        engine,
        update(ChannelMember)
        .where(ChannelMember.channel_id == CELL_CHANNEL_ID, ChannelMember.organisation_id == BRAVO)
        .values(acknowledges=False),
    )
    assert verify_state(engine, ledger).failed_index == opened

    tamper(
        engine,
        update(ChannelMember)
        .where(ChannelMember.channel_id == CELL_CHANNEL_ID, ChannelMember.organisation_id == BRAVO)
        .values(acknowledges=True),
    )
    tamper(
        engine,
        insert(ChannelMember).values(
            channel_id=CELL_CHANNEL_ID, organisation_id=HUM, acknowledges=False
        ),
    )
    report = verify_state(engine, ledger)
    assert (report.failed_index, report.reason) == (
        None,
        f"hotline_channel_members row {CELL_CHANNEL_ID}/{HUM} has no entry in the log",
    )


def test_an_audience_row_added_to_a_message_entry_fails_at_the_message(
    traffic: Traffic, engine: Engine, ledger: LedgerContext
) -> None:
    target = index_of(engine, Message.log_index, Message.id == traffic.flash)
    tamper(
        engine, insert(LogAudience).values(entry_index=target, kind="organisation", value=str(HUM))
    )

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        target,
        f"log_audiences grants organisation '{HUM}' a body the log gives no such audience",
    )


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("note", "Nobody was called", "'Nobody was called'"),
        ("kind", "call", "'call'"),
        ("organisation_id", ALPHA, f"'{ALPHA}'"),
        ("member_id", stable_id("member", "supervisor.chair"), None),
        ("follow_up_at", None, "None"),
    ],
)
def test_an_edited_deadline_action_fails_at_its_entry(
    traffic: Traffic, engine: Engine, ledger: LedgerContext, column: str, value: Any, shown: Any
) -> None:
    where = DeadlineAction.id == traffic.deadline_action
    target = index_of(engine, DeadlineAction.log_index, where)
    tamper(engine, update(DeadlineAction).where(where).values({column: value}))

    report = verify_state(engine, ledger)

    assert report.failed_index == target
    prefix = f"hotline_deadline_actions row {traffic.deadline_action}: {column} is "
    assert report.reason is not None and report.reason.startswith(prefix + (shown or ""))


def test_a_deleted_deadline_action_fails_at_its_entry_and_a_forged_one_has_none(
    traffic: Traffic, engine: Engine, ledger: LedgerContext, clock: ManualClock
) -> None:
    where = DeadlineAction.id == traffic.deadline_action
    target = index_of(engine, DeadlineAction.log_index, where)
    with engine.connect() as connection:
        row = connection.execute(select(DeadlineAction.__table__).where(where)).one()
    tamper(engine, delete(DeadlineAction).where(where))

    report = verify_state(engine, ledger)
    assert (report.failed_index, report.reason) == (
        target,
        "hotline_deadline_actions has no row for this hotline.deadline.action entry",
    )

    # Put back, and a second one claimed at an entry that is no deadline action.
    tamper(engine, insert(DeadlineAction).values(**row._asdict()))
    assert verify_state(engine, ledger).ok
    borrowed = index_of(engine, LogEntry.index, LogEntry.entry_type == "log.policy.adopted")
    forged = uuid.uuid4()
    tamper(
        engine,
        insert(DeadlineAction).values(
            **{**row._asdict(), "id": forged, "client_id": forged, "log_index": borrowed}
        ),
    )
    report = verify_state(engine, ledger)
    assert (report.failed_index, report.reason) == (
        None,
        f"hotline_deadline_actions row {forged} (log_index {borrowed}) has no entry in the log",
    )


def test_a_deadline_action_shown_to_another_party_fails_at_its_entry(
    traffic: Traffic, engine: Engine, ledger: LedgerContext
) -> None:
    target = index_of(
        engine, DeadlineAction.log_index, DeadlineAction.id == traffic.deadline_action
    )
    tamper(
        engine,
        insert(LogAudience).values(entry_index=target, kind="organisation", value=str(ALPHA)),
    )

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        target,
        f"log_audiences grants organisation '{ALPHA}' a body the log gives no such audience",
    )


def test_the_hotline_check_answers_for_exactly_the_hotline_entry_types() -> None:
    hotline = {kind for kind in known_entry_types() if kind.startswith("hotline.")}

    assert HotlineStateCheck.entry_types == hotline
