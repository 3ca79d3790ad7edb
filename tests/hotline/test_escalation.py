"""Escalation: a pure function of the log's contents and clock, and the engine that writes
exactly what it says, on time, and after a downtime everything that fell due meanwhile."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.hotline.factories import (
    acknowledge,
    escalations,
    flash,
    restart_under_changed_rules,
)

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.escalation import MAX_STEPS, UNDELIVERED_NOTIFY, Step, due_steps
from fusioncell.hotline.models import EventKind, Message
from fusioncell.hotline.rules import HOTLINE_RULES, PrecedenceRule, Rung
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.entries import key_id, log_time
from fusioncell.ledger.models import EntryBody, LogEntry
from fusioncell.live.models import Event
from fusioncell.scenario.demo import stable_id

BRAVO = stable_id("organisation", "BRAVO")
SENT = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
RECIPIENTS = ("party_duty_officer", "party_liaison", "supervisor_duty_officer")


# --- the pure function -------------------------------------------------------------------------

seconds = st.integers(min_value=0, max_value=4 * 3600)
notify = st.lists(st.sampled_from(RECIPIENTS), min_size=1, max_size=3, unique=True).map(tuple)


@st.composite
def rules(draw: st.DrawFn) -> PrecedenceRule:
    ladder = draw(st.lists(st.tuples(seconds, notify), min_size=1, max_size=5))
    return PrecedenceRule(
        name="FLASH",
        delivered=timedelta(seconds=draw(seconds)),
        ack=timedelta(seconds=draw(seconds)),
        ladder=tuple(
            sorted((Rung(timedelta(seconds=after), who) for after, who in ladder), key=_after)
        ),
        repeat=draw(st.one_of(st.none(), st.integers(1, 1800).map(lambda s: timedelta(seconds=s)))),
    )


def _after(rung: Rung) -> timedelta:
    return rung.after


moments = st.one_of(st.none(), seconds.map(lambda s: SENT + timedelta(seconds=s)))
nows = st.integers(min_value=0, max_value=3 * 24 * 3600).map(lambda s: SENT + timedelta(seconds=s))


@given(rule=rules(), delivered_at=moments, acked_at=moments, now=nows)
def test_steps_come_in_order_none_before_due_none_after_the_ack_and_at_most_max_steps(
    rule: PrecedenceRule,
    delivered_at: datetime | None,
    acked_at: datetime | None,
    now: datetime,
) -> None:
    steps = due_steps(
        sent_at=SENT, rule=rule, delivered_at=delivered_at, acked_at=acked_at, now=now
    )

    numbers = [s.step for s in steps]
    assert numbers == sorted(set(numbers))
    ladder = [s for s in steps if s.step > 0]
    assert [s.due_at for s in ladder] == sorted(s.due_at for s in ladder)
    assert all(s.due_at <= now for s in steps)
    assert acked_at is None or all(s.due_at < acked_at for s in steps)
    assert all(0 <= s.step <= MAX_STEPS for s in steps)
    for step in ladder:
        rung = rule.ladder[min(step.step, len(rule.ladder)) - 1]
        assert step.notify == rung.notify
    deadline = SENT + rule.delivered
    missed_delivery = delivered_at is None or delivered_at > deadline
    expect_zero = deadline <= now and missed_delivery and (acked_at is None or acked_at > deadline)
    assert (0 in numbers) == expect_zero
    if expect_zero:
        assert steps[0] == Step(0, deadline, UNDELIVERED_NOTIFY)


@given(rule=rules(), delivered_at=moments, acked_at=moments, earlier=nows, later=nows)
def test_time_only_adds_steps(
    rule: PrecedenceRule,
    delivered_at: datetime | None,
    acked_at: datetime | None,
    earlier: datetime,
    later: datetime,
) -> None:
    earlier, later = min(earlier, later), max(earlier, later)

    def at(now: datetime) -> set[Step]:
        return set(
            due_steps(
                sent_at=SENT, rule=rule, delivered_at=delivered_at, acked_at=acked_at, now=now
            )
        )

    assert at(earlier) <= at(later)


@given(rule=rules())
def test_an_unanswered_message_repeats_its_last_rung_until_max_steps_and_then_stops(
    rule: PrecedenceRule,
) -> None:
    forever = SENT + timedelta(days=3650)

    steps = due_steps(sent_at=SENT, rule=rule, delivered_at=SENT, acked_at=None, now=forever)

    expected = MAX_STEPS if rule.repeat is not None else len(rule.ladder)
    assert [s.step for s in steps] == list(range(1, expected + 1))
    if rule.repeat is not None:
        last = rule.ladder[-1]
        repeats = steps[len(rule.ladder) :]
        assert all(s.notify == last.notify for s in repeats)
        assert [s.due_at for s in repeats] == [
            SENT + last.after + rule.repeat * n for n in range(1, len(repeats) + 1)
        ]


# --- the engine, with the injected clock -------------------------------------------------------


def steps_of(db: Session, message_id: uuid.UUID) -> list[tuple[int, datetime, list[str]]]:
    return [(e.step, e.due_at, e.notify) for e in escalations(db, message_id)]


def at(app: FastAPI, clock: ManualClock, sent: datetime, offset: float) -> None:
    """Move the clock to ``offset`` seconds after ``sent`` and run the engine, twice: the
    second run must find nothing left to do."""
    clock.current = sent + timedelta(seconds=offset)
    app.state.hotline_engine.run_once()
    app.state.hotline_engine.run_once()


def test_an_unacknowledged_flash_escalates_at_two_then_five_minutes_then_every_two(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    ledger: LedgerContext,
) -> None:
    sent = clock.now()
    message_id = flash(db, member, clock).id
    duty_officers = ["party_duty_officer", "supervisor_duty_officer"]

    at(app, clock, sent, 119)
    assert steps_of(db, message_id) == []

    at(app, clock, sent, 120)
    assert steps_of(db, message_id) == [(1, sent + timedelta(minutes=2), duty_officers)]
    [first] = escalations(db, message_id)
    assert (first.organisation_id, first.written_at) == (BRAVO, clock.now())
    entry = db.get(LogEntry, first.log_index)
    assert entry is not None
    assert entry.entry_type == HotlineEntry.ESCALATION
    assert entry.author_key_id == key_id(ledger.keyring.log_signer.public_key)
    stored = db.get(EntryBody, entry.index)
    assert stored is not None
    message = db.get(Message, message_id)
    assert message is not None
    assert json.loads(stored.body) == {
        "message": str(message_id),
        "message_index": message.log_index,
        "organisation": str(BRAVO),
        "step": 1,
        "due_at": log_time(sent + timedelta(minutes=2)),
        "notify": duty_officers,
    }
    [event] = db.scalars(
        select(Event).where(
            Event.track == "hotline",
            Event.kind == EventKind.ESCALATION.value,
            Event.subject == str(message_id),
        )
    )
    assert event.payload["step"] == 1 and event.payload["notify"] == duty_officers

    at(app, clock, sent, 299)
    assert len(escalations(db, message_id)) == 1
    at(app, clock, sent, 300)
    at(app, clock, sent, 419)
    at(app, clock, sent, 420)
    at(app, clock, sent, 540)
    assert steps_of(db, message_id) == [
        (1, sent + timedelta(minutes=2), duty_officers),
        (2, sent + timedelta(minutes=5), ["party_liaison"]),
        (3, sent + timedelta(minutes=7), ["party_liaison"]),
        (4, sent + timedelta(minutes=9), ["party_liaison"]),
    ]


def test_a_flash_not_delivered_in_fifteen_seconds_tells_the_supervisor_duty_officer(
    app: FastAPI, db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    sent = clock.now()
    message_id = flash(db, member, clock, delivered=False).id

    at(app, clock, sent, 14)
    assert steps_of(db, message_id) == []
    at(app, clock, sent, 15)
    assert steps_of(db, message_id) == [
        (0, sent + timedelta(seconds=15), ["supervisor_duty_officer"])
    ]


def test_a_flash_acknowledged_within_two_minutes_never_escalates(
    app: FastAPI, db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    sent = clock.now()
    message_id = flash(db, member, clock).id
    at(app, clock, sent, 90)
    acknowledge(db, member("bravo.duty"), message_id, now=clock.now())

    at(app, clock, sent, 3600)

    assert steps_of(db, message_id) == []


def test_an_acknowledgement_stops_the_ladder_where_it_stood(
    app: FastAPI, db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    sent = clock.now()
    message_id = flash(db, member, clock).id
    at(app, clock, sent, 180)
    acknowledge(db, member("bravo.duty"), message_id, now=clock.now())

    at(app, clock, sent, 3600)

    assert [step for step, _due, _notify in steps_of(db, message_id)] == [1]


def test_a_second_members_ack_does_not_stop_what_the_first_did_not(
    app: FastAPI, db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    """Only a party's first acknowledgement counts, so the deadline is the first one's."""
    sent = clock.now()
    message_id = flash(db, member, clock).id
    at(app, clock, sent, 130)
    acknowledge(db, member("bravo.duty"), message_id, now=clock.now())
    acknowledge(db, member("bravo.liaison"), message_id, now=clock.now())

    at(app, clock, sent, 3600)

    assert [step for step, _due, _notify in steps_of(db, message_id)] == [1]


def test_after_a_downtime_one_run_writes_every_step_that_fell_due_with_its_own_due_time(
    app: FastAPI, db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    sent = clock.now()
    message_id = flash(db, member, clock, delivered=False).id

    clock.advance(600)  # the server was down for ten minutes
    app.state.hotline_engine.run_once()

    written = escalations(db, message_id)
    assert [(e.step, e.due_at - sent) for e in written] == [
        (0, timedelta(seconds=15)),
        (1, timedelta(minutes=2)),
        (2, timedelta(minutes=5)),
        (3, timedelta(minutes=7)),
        (4, timedelta(minutes=9)),
    ]
    for escalation in written:
        assert escalation.written_at == clock.now()
        entry = db.get(LogEntry, escalation.log_index)
        stored = db.get(EntryBody, escalation.log_index)
        assert entry is not None and stored is not None
        assert json.loads(stored.body)["due_at"] == log_time(escalation.due_at)
        assert entry.logged_at == clock.now()


def test_a_message_escalates_by_the_policy_it_was_sent_under_after_the_policy_changes(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    settings: Settings,
    tmp_path: Path,
) -> None:
    sent = clock.now()
    message_id = flash(db, member, clock).id
    restarted, changed = restart_under_changed_rules(
        settings,
        app.state.engine,
        clock,
        tmp_path / "faster.toml",
        {"ack_seconds = 120": "ack_seconds = 60", "after_seconds = 120": "after_seconds = 60"},
    )
    assert changed.rules(HOTLINE_RULES).rule("FLASH").ladder[0].after == timedelta(seconds=60)

    clock.current = sent + timedelta(seconds=90)
    restarted.run_once()
    assert steps_of(db, message_id) == []
    clock.current = sent + timedelta(seconds=120)
    restarted.run_once()

    assert [(s, due - sent) for s, due, _ in steps_of(db, message_id)] == [
        (1, timedelta(minutes=2))
    ]
