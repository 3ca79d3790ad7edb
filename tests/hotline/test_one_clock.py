"""One clock for deadlines: the engine, ``fusioncell verify``, the API and the pages all time a
message from its entry's log time (the instant the tree commits to), and a delivery or an
acknowledgement by its own entry's log time.

The log's clock never runs backwards: an entry whose request read the clock before another was
logged gets that later time. Under load the engine and the verifier used to disagree about
such entries; these tests build exactly those logs, by hand and by concurrent writers, then run
the engine and ``verify`` over them.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session
from tests.helpers.verifying import verify_replays
from tests.hotline.factories import acknowledge, escalations, send

from fusioncell.cell.actions.account import do_set_language
from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.db.engine import create_db_engine, make_sessionmaker
from fusioncell.hotline.actions.escalation import do_escalate_due
from fusioncell.hotline.actions.messages import (
    do_mark_delivered,
)
from fusioncell.hotline.engine import HotlineEngine
from fusioncell.hotline.models import Escalation
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.entries import parse_leaf
from fusioncell.ledger.models import LogEntry

pytestmark = pytest.mark.long


def logged_at(db: Session, index: int) -> datetime:
    """The log time the leaf commits to, as ``verify`` reads it."""
    entry = db.get(LogEntry, index)
    assert entry is not None
    return parse_leaf(entry.leaf).logged_at


def steps_of(db: Session, message_id: uuid.UUID) -> list[tuple[int, datetime, datetime]]:
    return [(e.step, e.due_at, e.written_at) for e in escalations(db, message_id)]


# --- the shapes that made an honest log fail ---------------------------------------------------


def test_a_message_whose_log_time_was_pushed_later_escalates_from_its_log_time_and_verifies(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
    token_for: Callable[[str], dict[str, str]],
) -> None:
    """The audit's failure: the send read the clock at ``read``, but another request logged
    first at ``read`` + 3 s, so the message's entry bears the later time. The engine used to
    time step 0 from ``read`` and log it at +16 s, which ``verify`` (timing from the entry)
    called not due."""
    read = clock.now()
    do_set_language(db, member("alpha.duty"), language="ar", now=read + timedelta(seconds=3))
    message = send(db, member("alpha.liaison"), now=read)  # never delivered
    sent = logged_at(db, message.log_index)
    assert sent == read + timedelta(seconds=3)
    assert (message.sent_at, message.delivered_deadline, message.ack_deadline) == (
        sent,
        sent + timedelta(seconds=15),
        sent + timedelta(minutes=2),
    )

    clock.current = read + timedelta(seconds=16)
    app.state.hotline_engine.run_once()
    assert steps_of(db, message.id) == []
    clock.current = read + timedelta(seconds=18)
    app.state.hotline_engine.run_once()
    assert steps_of(db, message.id) == [(0, sent + timedelta(seconds=15), clock.now())]

    shown = (
        TestClient(app)
        .get(f"/api/v1/messages/{message.id}", headers=token_for("bravo.duty"))
        .json()
    )
    assert (shown["sent_at"], shown["delivered_deadline"], shown["ack_deadline"]) == (
        sent.isoformat().replace("+00:00", "Z"),
        (sent + timedelta(seconds=15)).isoformat().replace("+00:00", "Z"),
        (sent + timedelta(minutes=2)).isoformat().replace("+00:00", "Z"),
    )
    report = verify_replays(app, engine, ledger)
    assert report.ok, report.summary()


def test_an_escalation_logged_later_than_the_engines_clock_holds_every_step_due_by_its_log_time(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    """The engine's tick read the clock at +20 s, but the log had reached +130 s: its entries
    bear +130 s, so it writes what was due by then (steps 0 and 1), not only step 0, and
    ``verify`` finds nothing missing."""
    sent = clock.now()
    message = send(db, member("alpha.liaison"), now=sent)
    do_set_language(db, member("alpha.duty"), language="ar", now=sent + timedelta(seconds=130))

    do_escalate_due(db, now=sent + timedelta(seconds=20))

    later = sent + timedelta(seconds=130)
    assert steps_of(db, message.id) == [
        (0, sent + timedelta(seconds=15), later),
        (1, sent + timedelta(minutes=2), later),
    ]
    for escalation in db.scalars(select(Escalation).where(Escalation.message_id == message.id)):
        assert logged_at(db, escalation.log_index) == escalation.written_at
    report = verify_replays(app, engine, ledger)
    assert report.ok, report.summary()


def test_an_acknowledgement_logged_in_the_same_instant_after_an_escalation_leaves_it_valid(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    """Step 1 falls due at +120 s and is logged at +120 s; BRAVO's acknowledgement is logged
    right after it, in the same millisecond. An acknowledgement at the due instant stops the
    step, but this one came after the escalation in the log: ``verify`` judges the escalation
    by the log before it, as the engine decided it."""
    sent = clock.now()
    message = send(db, member("alpha.liaison"), now=sent)
    do_mark_delivered(db, member("bravo.duty"), message_ids=[message.id], now=sent)
    clock.current = sent + timedelta(minutes=2)
    app.state.hotline_engine.run_once()
    acknowledge(db, member("bravo.duty"), message.id, now=clock.now())
    clock.current = sent + timedelta(minutes=30)
    app.state.hotline_engine.run_once()

    assert [step for step, _due, _written in steps_of(db, message.id)] == [1]
    report = verify_replays(app, engine, ledger)
    assert report.ok, report.summary()


def test_an_acknowledgement_committing_while_the_engine_looks_counts_when_it_was_logged_first(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
    backend: str,
    database_url: str,
) -> None:
    """BRAVO acknowledges at +119 s; its transaction holds the log's lock, uncommitted, while
    the engine, at +125 s, looks for due steps and (on PostgreSQL) cannot see it yet. The
    engine then takes the log's lock, so the acknowledgement, logged before anything the
    engine logs, is committed and counts: step 1 (due +120 s) is not written. (On SQLite the
    engine's transaction cannot even begin until the acknowledgement's ends.)"""
    sent = clock.now()
    message = send(db, member("alpha.liaison"), now=sent)
    do_mark_delivered(db, member("bravo.duty"), message_ids=[message.id], now=sent)
    bravo = member("bravo.duty")
    sessions = make_sessionmaker(engine, ledger=ledger)
    ack_holds_the_lock, release_ack, engine_waits = (threading.Event() for _ in range(3))
    failures: list[BaseException] = []

    def hold(_session: Session) -> None:
        ack_holds_the_lock.set()
        release_ack.wait()

    def ack() -> None:
        try:
            with sessions() as ack_db:
                event.listen(ack_db, "before_commit", hold)
                acknowledge(ack_db, bravo, message.id, now=sent + timedelta(seconds=119))
        except BaseException as exc:
            failures.append(exc)
            ack_holds_the_lock.set()

    waiting_statement = "BEGIN IMMEDIATE" if backend == "sqlite" else "FOR UPDATE"

    def noticing(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if waiting_statement in statement:
            engine_waits.set()

    watched = create_db_engine(database_url)
    event.listen(watched, "before_cursor_execute", noticing)

    def escalate() -> None:
        try:
            with make_sessionmaker(watched, ledger=ledger)() as engine_db:
                do_escalate_due(engine_db, now=sent + timedelta(seconds=125))
        except BaseException as exc:
            failures.append(exc)
            engine_waits.set()

    acker = threading.Thread(target=ack)
    acker.start()
    ack_holds_the_lock.wait()
    escalator = threading.Thread(target=escalate)
    escalator.start()
    engine_waits.wait()
    release_ack.set()
    acker.join()
    escalator.join()
    watched.dispose()

    assert failures == []
    assert steps_of(db, message.id) == []
    report = verify_replays(app, engine, ledger)
    assert report.ok, report.summary()


# --- any load: concurrent writers on a shared injected clock -----------------------------------


class SteppedClock(ManualClock):
    """The injected clock, shared by threads: each thread waits for its next moment, and the
    clock moves on only when every thread is waiting, to the earliest moment one waits for.
    Whatever falls at one moment then runs at once, in threads racing for the log's lock."""

    def __init__(self, start: datetime, threads: int) -> None:
        super().__init__(start)
        self._condition = threading.Condition()
        self._running = threads
        self._waiting: list[datetime] = []

    def wait_until(self, moment: datetime) -> None:
        with self._condition:
            if moment <= self.current:
                return
            self._running -= 1
            self._waiting.append(moment)
            self._move_on()
            while self.current < moment:
                self._condition.wait()

    def leave(self) -> None:
        with self._condition:
            self._running -= 1
            self._move_on()

    def _move_on(self) -> None:
        if self._running or not self._waiting:
            return
        self.current = max(self.current, min(self._waiting))
        woken = [moment for moment in self._waiting if moment <= self.current]
        self._waiting = [moment for moment in self._waiting if moment > self.current]
        self._running += len(woken)
        self._condition.notify_all()


@dataclass(frozen=True)
class Plan:
    """One message's life, in seconds from the start. Each request reads the clock ``lag``
    seconds before it reaches the log, as a request waiting for the log's lock does, so its
    entry's log time is often pushed later than the time it read."""

    sender: str
    precedence: str
    send_at: int
    lag: float
    delivered_after: int | None
    acks: tuple[tuple[str, int, float], ...]  # (role, seconds after sending, lag)


ROLES = ("duty", "liaison")
lags = st.integers(min_value=0, max_value=6).map(lambda halves: halves / 2)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    roles = draw(st.lists(st.sampled_from(ROLES), max_size=2, unique=True))
    return Plan(
        sender=draw(st.sampled_from(["alpha", "bravo"])),
        precedence=draw(st.sampled_from(["FLASH", "IMMEDIATE"])),
        send_at=draw(st.integers(min_value=0, max_value=150)),
        lag=draw(lags),
        delivered_after=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=90))),
        acks=tuple(
            sorted(
                (
                    (role, draw(st.integers(min_value=0, max_value=420)), draw(lags))
                    for role in roles
                ),
                key=lambda ack: ack[1],
            )
        ),
    )


def live(
    sessions: Callable[[], Session],
    clock: SteppedClock,
    people: dict[str, Viewer],
    start: datetime,
    plan: Plan,
) -> None:
    recipient = "bravo" if plan.sender == "alpha" else "alpha"
    at = start + timedelta(seconds=plan.send_at)
    with sessions() as db:
        clock.wait_until(at)
        message = send(
            db,
            people[f"{plan.sender}.liaison"],
            precedence=plan.precedence,
            now=clock.now() - timedelta(seconds=plan.lag),
        )
        if plan.delivered_after is not None:
            clock.wait_until(at + timedelta(seconds=plan.delivered_after))
            do_mark_delivered(
                db, people[f"{recipient}.duty"], message_ids=[message.id], now=clock.now()
            )
        for role, after, lag in plan.acks:
            clock.wait_until(at + timedelta(seconds=after))
            acknowledge(
                db,
                people[f"{recipient}.{role}"],
                message.id,
                now=clock.now() - timedelta(seconds=lag),
            )


@pytest.fixture
def start(clock: ManualClock) -> Iterator[list[datetime]]:
    """Where the next example's traffic starts: each follows the last within the horizon, so
    the engine's first tick finishes what the last example left due."""
    yield [clock.now()]


@hypothesis_settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    messages=st.lists(plans(), min_size=1, max_size=5),
    tick=st.integers(min_value=1, max_value=20),
)
def test_verify_passes_on_a_log_written_by_concurrent_senders_acknowledgers_and_the_engine(
    messages: list[Plan],
    tick: int,
    app: FastAPI,
    engine: Engine,
    ledger: LedgerContext,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    start: list[datetime],
) -> None:
    sessions = make_sessionmaker(engine, ledger=ledger)
    people = {f"{p}.{r}": member(f"{p}.{r}") for p in ("alpha", "bravo") for r in ROLES}
    shared = SteppedClock(start[0], threads=len(messages) + 1)
    hotline = HotlineEngine(sessions, shared)
    end = start[0] + timedelta(minutes=10)
    failures: list[BaseException] = []

    def run(work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:
            failures.append(exc)
        finally:
            shared.leave()

    def ticking() -> None:
        moment = start[0]
        while moment <= end:
            shared.wait_until(moment)
            hotline.run_once()
            moment += timedelta(seconds=tick)

    threads = [threading.Thread(target=run, args=(ticking,))] + [
        threading.Thread(
            target=run, args=(lambda plan=plan: live(sessions, shared, people, start[0], plan),)
        )
        for plan in messages
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    # Long after: every ladder has run its course, and the engine writes what is left.
    shared.current = clock.current = end + timedelta(hours=2)
    hotline.run_once()
    start[0] = shared.current + timedelta(hours=1)

    report = verify_replays(app, engine, ledger)
    assert report.ok, report.summary()
