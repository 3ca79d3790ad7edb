"""What the supervisor's duty officer did about a party's deadline (a call, a relay by other
means, a follow-up): a row, a signed entry for the party and the supervisor, a live event; refused
to anyone who does not watch the deadlines, and to bad input, with nothing written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.helpers.tables import refused
from tests.helpers.verifying import verify_state
from tests.hotline.factories import flash, send
from tests.hotline.test_actions import (
    assert_verifies,
    checkpoint,
    custodial_key,
    events,
    last_entry,
)

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.errors import Forbidden, IdempotencyConflict, InvalidInput, NotFound
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID
from fusioncell.hotline.actions.deadline_actions import (
    do_note_deadline_action,
    list_deadline_actions,
)
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.models import DeadlineAction, EventKind, Message
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import LogAudience
from fusioncell.scenario.demo import stable_id

ALPHA = stable_id("organisation", "ALPHA")
BRAVO = stable_id("organisation", "BRAVO")
SUPERVISOR = stable_id("organisation", "SUPERVISOR")
HOST = stable_id("organisation", "HOST")
HUM = stable_id("organisation", "HUM-1")


def note(
    db: Session,
    actor: Viewer,
    message: Message,
    *,
    now: datetime,
    action_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID = BRAVO,
    kind: str = "call",
    text: str = "Called BRAVO's duty line; they will acknowledge within minutes.",
    follow_up_at: datetime | None = None,
) -> DeadlineAction:
    return do_note_deadline_action(
        db,
        actor,
        action_id=action_id or uuid.uuid4(),
        message_id=message.id,
        organisation_id=organisation_id,
        kind=kind,
        note=text,
        follow_up_at=follow_up_at,
        now=now,
    )


def audience_of(db: Session, index: int) -> set[tuple[str, str]]:
    db.rollback()
    return {
        (row.kind, row.value)
        for row in db.scalars(select(LogAudience).where(LogAudience.entry_index == index))
    }


def test_a_call_noted_by_the_supervisors_duty_officer_is_a_row_a_signed_entry_and_an_event(
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    ledger: LedgerContext,
    engine: Engine,
) -> None:
    message = flash(db, member, clock)
    clock.advance(150)  # past the FLASH acknowledgement deadline
    duty = member("supervisor.duty")
    action_id = uuid.uuid4()

    action = note(db, duty, message, now=clock.now(), action_id=action_id)

    db.rollback()
    row = db.get(DeadlineAction, action_id)
    assert row is not None and row.id == action.id
    assert (row.message_id, row.organisation_id, row.kind, row.member_id) == (
        message.id,
        BRAVO,
        "call",
        duty.member_id,
    )
    assert row.note == "Called BRAVO's duty line; they will acknowledge within minutes."
    assert (row.follow_up_at, row.written_at) == (None, clock.now())

    entry, body = last_entry(db)
    assert (entry.index, entry.entry_type) == (row.log_index, HotlineEntry.DEADLINE_ACTION)
    assert entry.author_key_id == custodial_key(db, duty)
    assert body == {
        "action": str(action_id),
        "message": str(message.id),
        "message_index": message.log_index,
        "organisation": str(BRAVO),
        "kind": "call",
        "note": "Called BRAVO's duty line; they will acknowledge within minutes.",
        "follow_up_at": None,
        "member": str(duty.member_id),
    }
    assert_verifies(db, ledger, entry)
    # The party concerned, the author's organisation and the supervisor role read it.
    assert audience_of(db, entry.index) == {
        ("organisation", str(BRAVO)),
        ("organisation", str(SUPERVISOR)),
        ("role", "supervisor"),
    }

    [event] = events(db, EventKind.DEADLINE_ACTION)
    assert (event.channel_id, event.message_id, event.log_index) == (
        CELL_CHANNEL_ID,
        message.id,
        entry.index,
    )
    assert event.payload == {
        "message": str(message.id),
        "organisation": str(BRAVO),
        "action": str(action_id),
        "kind": "call",
        "member": "supervisor.duty",
        "at": body_time(clock.now()),
        "follow_up_at": None,
    }
    checkpoint(db, clock)
    report = verify_state(engine, ledger)
    assert report.ok, report.summary()


def body_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_a_follow_up_keeps_its_time_in_utc_to_the_millisecond_and_verifies(
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    ledger: LedgerContext,
    engine: Engine,
) -> None:
    message = flash(db, member, clock)
    given = (clock.now() + timedelta(minutes=30, microseconds=123_456)).astimezone(
        timezone(timedelta(hours=3))
    )

    action = note(
        db,
        member("supervisor.chair"),
        message,
        now=clock.now(),
        kind="follow_up",
        text="",
        follow_up_at=given,
    )

    expected = (clock.now() + timedelta(minutes=30, microseconds=123_000)).astimezone(UTC)
    db.rollback()
    row = db.get(DeadlineAction, action.id)
    assert row is not None and row.follow_up_at == expected and row.note == ""
    _entry, body = last_entry(db)
    assert body["follow_up_at"] == body_time(expected)
    checkpoint(db, clock)
    assert verify_state(engine, ledger).ok


def test_a_relay_says_how_and_a_note_of_500_characters_in_any_script_is_kept_whole(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    message = flash(db, member, clock)
    long_note = "تم الاتصال " + "ש" * 485 + "📞🕑🙂🙂"  # 500 characters, far more bytes
    assert len(long_note) == 500

    action = note(db, member("supervisor.duty"), message, now=clock.now(), text=long_note)
    relay = note(
        db, member("supervisor.duty"), message, now=clock.now(), kind="relay", text="By radio"
    )

    db.rollback()
    assert db.get(DeadlineAction, action.id).note == long_note  # type: ignore[union-attr]
    assert db.get(DeadlineAction, relay.id).kind == "relay"  # type: ignore[union-attr]


@pytest.mark.parametrize("username", ["bravo.duty", "alpha.liaison", "verifier.lead"])
def test_a_party_member_or_anyone_else_who_does_not_watch_the_deadlines_is_refused(
    username: str, db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    message = flash(db, member, clock)

    with refused(db, Forbidden):
        note(db, member(username), message, now=clock.now())


def _hour_ago(clock: ManualClock) -> dict[str, Any]:
    return {"kind": "follow_up", "follow_up_at": clock.now() - timedelta(hours=1)}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda clock: {"kind": "email"}, "kind"),
        (lambda clock: {"kind": "CALL"}, "kind"),
        (lambda clock: {"text": "x" * 501}, "note"),
        (lambda clock: {"text": "🙂" * 501}, "note"),
        (lambda clock: {"kind": "relay", "text": "  \n "}, "note"),
        (
            lambda clock: {"kind": "call", "follow_up_at": clock.now() + timedelta(hours=1)},
            "follow_up_at",
        ),
        (
            lambda clock: {
                "kind": "follow_up",
                "follow_up_at": (clock.now() + timedelta(hours=1)).replace(tzinfo=None),
            },
            "follow_up_at",
        ),
        (_hour_ago, "follow_up_at"),
        (lambda clock: {"kind": "follow_up", "follow_up_at": clock.now()}, "follow_up_at"),
        (
            lambda clock: {"kind": "follow_up", "follow_up_at": clock.now() + timedelta(days=31)},
            "follow_up_at",
        ),
        (
            lambda clock: {
                "kind": "follow_up",
                "follow_up_at": datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-14))),
            },
            "follow_up_at",
        ),
        # The sender, an organisation that only receives the channel, one outside it, and the
        # supervisor (in every channel, owing nothing) are no party concerned.
        (lambda clock: {"organisation_id": ALPHA}, "organisation"),
        (lambda clock: {"organisation_id": HOST}, "organisation"),
        (lambda clock: {"organisation_id": HUM}, "organisation"),
        (lambda clock: {"organisation_id": SUPERVISOR}, "organisation"),
        (lambda clock: {"organisation_id": uuid.UUID(int=0)}, "organisation"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    change: Callable[[ManualClock], dict[str, Any]],
    field: str,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
) -> None:
    message = flash(db, member, clock)

    with refused(db, InvalidInput) as raised:
        note(db, member("supervisor.duty"), message, now=clock.now(), **change(clock))

    assert raised.value.extensions["field"] == field


def test_a_message_the_log_does_not_hold_is_not_found(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    ghost = Message(id=uuid.uuid4())

    with refused(db, NotFound):
        note(db, member("supervisor.duty"), ghost, now=clock.now())


def test_a_retry_returns_the_first_action_and_other_content_under_its_id_is_a_conflict(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    message = flash(db, member, clock)
    duty, chair = member("supervisor.duty"), member("supervisor.chair")
    action_id = uuid.uuid4()
    due = clock.now() + timedelta(hours=1)
    first = note(
        db, duty, message, now=clock.now(), action_id=action_id, kind="follow_up", follow_up_at=due
    )

    clock.advance(5)
    again = note(
        db, duty, message, now=clock.now(), action_id=action_id, kind="follow_up", follow_up_at=due
    )
    assert (again.id, again.log_index) == (first.id, first.log_index)
    with refused(db, IdempotencyConflict):
        note(db, duty, message, now=clock.now(), action_id=action_id, kind="call")
    with refused(db, IdempotencyConflict):
        note(
            db,
            duty,
            message,
            now=clock.now(),
            action_id=action_id,
            kind="follow_up",
            follow_up_at=due + timedelta(minutes=1),
        )
    # Another member's id is their own: neither returned nor blocking.
    theirs = note(db, chair, message, now=clock.now(), action_id=action_id)
    assert theirs.id != first.id and theirs.member_id == chair.member_id
    db.rollback()
    assert len(db.scalars(select(DeadlineAction)).all()) == 2
    assert len(events(db, EventKind.DEADLINE_ACTION)) == 2


def test_the_supervisor_reads_every_action_and_a_party_only_those_about_itself(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    # The chair's message in the cell channel: both parties owe it an acknowledgement.
    message = send(db, member("supervisor.chair"), now=clock.now(), precedence="IMMEDIATE")
    other = flash(db, member, clock)
    duty = member("supervisor.duty")
    to_alpha = note(db, duty, message, now=clock.now(), organisation_id=ALPHA)
    to_bravo = note(db, duty, message, now=clock.now(), organisation_id=BRAVO)
    on_other = note(db, duty, other, now=clock.now(), organisation_id=BRAVO)

    def seen(username: str) -> dict[tuple[uuid.UUID, uuid.UUID], list[uuid.UUID]]:
        found = list_deadline_actions(db, member(username), [message, other])
        return {key: [a.id for a in actions] for key, actions in found.items()}

    assert seen("supervisor.chair") == {
        (message.id, ALPHA): [to_alpha.id],
        (message.id, BRAVO): [to_bravo.id],
        (other.id, BRAVO): [on_other.id],
    }
    assert seen("bravo.duty") == {
        (message.id, BRAVO): [to_bravo.id],
        (other.id, BRAVO): [on_other.id],
    }
    assert seen("alpha.duty") == {(message.id, ALPHA): [to_alpha.id]}
    assert seen("cell.admin") == {}
