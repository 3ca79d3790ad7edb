"""``fusioncell verify`` replays the escalation ladder from the log's bodies and fails when the
log's escalation entries differ from what was due: one missing, one extra, one early."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.helpers.verifying import fusioncell_verify, verify_replays
from tests.hotline.factories import (
    acknowledge,
    flash,
    restart_under_changed_rules,
    send,
)

from fusioncell import bootstrap
from fusioncell.cell.actions.account import do_set_language
from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.hotline.actions.channels import bilateral_channel_id
from fusioncell.hotline.actions.messages import do_mark_delivered
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.models import Escalation, Message
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.entries import audience, log_time
from fusioncell.ledger.record import ByLog, record
from fusioncell.ledger.verify import HttpSource, verify_log
from fusioncell.scenario.demo import stable_id

ALPHA = stable_id("organisation", "ALPHA")
BRAVO = stable_id("organisation", "BRAVO")


def id_and_index(message: Message) -> tuple[uuid.UUID, int]:
    """A message's id and the index of its entry."""
    return message.id, message.log_index


def escalate_by_hand(
    db: Session,
    clock: ManualClock,
    message: tuple[uuid.UUID, int],
    *,
    step: int,
    due_after: timedelta,
    sent: Any,
    notify: list[str],
) -> int:
    """An escalation entry the engine did not write, signed by the log's key all the same."""
    with db.begin():
        appended = record(
            db,
            ByLog(),
            HotlineEntry.ESCALATION,
            {
                "message": str(message[0]),
                "message_index": message[1],
                "organisation": str(BRAVO),
                "step": step,
                "due_at": log_time(sent + due_after),
                "notify": notify,
            },
            audience=audience(organisations=[BRAVO, ALPHA], roles=["supervisor"]),
            now=clock.now(),
        )
    return appended.index


@pytest.fixture
def busy_log(
    app: FastAPI, db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> dict[str, Any]:
    """Ten minutes of the hotline: link tests (ALPHA answers, BRAVO does not), a FLASH left
    unanswered, one never delivered, one acknowledged in time twice over, all escalated by
    the engine as the clock went."""
    engine = app.state.hotline_engine
    sent = clock.now()
    engine.run_once()  # this hour's link tests
    db.rollback()
    link_test = db.scalar(
        select(Message.id).where(
            Message.form == "link_test", Message.channel_id == bilateral_channel_id(ALPHA)
        )
    )
    assert link_test is not None
    unanswered = id_and_index(flash(db, member, clock))
    undelivered = id_and_index(flash(db, member, clock, delivered=False, text="Second FLASH"))
    answered = id_and_index(flash(db, member, clock, text="Third FLASH"))
    for second in range(0, 601, 7):
        clock.current = sent + timedelta(seconds=second)
        if second == 63:
            acknowledge(db, member("bravo.duty"), answered[0], now=clock.now())
            acknowledge(db, member("bravo.liaison"), answered[0], now=clock.now())
            do_mark_delivered(db, member("alpha.duty"), message_ids=[link_test], now=clock.now())
            acknowledge(db, member("alpha.duty"), link_test, now=clock.now())
        engine.run_once()
    return {
        "sent": sent,
        "unanswered": unanswered,
        "undelivered": undelivered,
        "answered": answered,
    }


def test_a_log_escalated_by_the_engine_verifies(
    busy_log: dict[str, Any], app: FastAPI, engine: Engine, ledger: LedgerContext
) -> None:
    report = verify_replays(app, engine, ledger)

    assert report.ok, report.summary()


def test_an_escalation_of_a_step_that_was_not_due_fails_at_its_entry(
    busy_log: dict[str, Any],
    app: FastAPI,
    db: Session,
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    extra = escalate_by_hand(
        db,
        clock,
        busy_log["answered"],
        step=1,
        due_after=timedelta(minutes=2),
        sent=busy_log["sent"],
        notify=["party_duty_officer", "supervisor_duty_officer"],
    )

    report = verify_replays(app, engine, ledger)

    assert not report.ok
    assert report.failed_index == extra
    assert report.reason == (
        f"escalation step 1 of the message at entry {busy_log['answered'][1]} was not due when "
        f"logged at {log_time(clock.now())}"
    )


def test_an_escalation_logged_before_its_due_time_fails_at_its_entry(
    busy_log: dict[str, Any],
    app: FastAPI,
    db: Session,
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    early = escalate_by_hand(
        db,
        clock,
        busy_log["unanswered"],
        step=5,
        due_after=timedelta(minutes=11),
        sent=busy_log["sent"],
        notify=["party_liaison"],
    )

    report = verify_replays(app, engine, ledger)

    assert (report.ok, report.failed_index) == (False, early)
    assert "before its due time" in (report.reason or "")


def test_an_escalation_notifying_other_people_than_the_ladder_fails_at_its_entry(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    sent = clock.now()
    message = id_and_index(flash(db, member, clock))
    clock.advance(125)
    wrong = escalate_by_hand(
        db,
        clock,
        message,
        step=1,
        due_after=timedelta(minutes=2),
        sent=sent,
        notify=["party_liaison"],
    )

    report = verify_replays(app, engine, ledger)

    assert (report.ok, report.failed_index) == (False, wrong)
    assert "notifying ['party_liaison']; the policy says" in (report.reason or "")


def test_a_step_logged_twice_fails_at_the_second(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    sent = clock.now()
    message = id_and_index(flash(db, member, clock))
    clock.advance(125)
    app.state.hotline_engine.run_once()
    again = escalate_by_hand(
        db,
        clock,
        message,
        step=1,
        due_after=timedelta(minutes=2),
        sent=sent,
        notify=["party_duty_officer", "supervisor_duty_officer"],
    )

    report = verify_replays(app, engine, ledger)

    assert (report.ok, report.failed_index) == (False, again)
    assert (report.reason or "").startswith("escalation step 1 is already logged at entry ")


def test_a_step_that_fell_due_with_no_entry_fails_at_the_message(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    sent = clock.now()
    index = flash(db, member, clock).log_index
    clock.advance(600)  # the engine never ran; the log went on
    do_set_language(db, member("alpha.duty"), language="ar", now=clock.now())

    report = verify_replays(app, engine, ledger)

    assert (report.ok, report.failed_index) == (False, index)
    assert report.reason == (
        f"escalation step 1 of this FLASH message to organisation {BRAVO} fell due at "
        f"{log_time(sent + timedelta(minutes=2))}, and no entry records it"
    )


def test_a_step_due_within_the_grace_of_the_last_entry_is_not_yet_missing(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    flash(db, member, clock)
    clock.advance(123)  # step 1 fell due 3 s before the last entry: the engine's tick is slack
    do_set_language(db, member("alpha.duty"), language="ar", now=clock.now())

    assert verify_replays(app, engine, ledger).ok


def test_a_message_escalated_by_the_policy_it_bound_verifies_after_the_policy_changes(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
    settings: Settings,
    tmp_path: Path,
) -> None:
    message_id = flash(db, member, clock).id
    restarted, _changed = restart_under_changed_rules(
        settings,
        engine,
        clock,
        tmp_path / "faster.toml",
        {"after_seconds = 120": "after_seconds = 60"},
    )
    for _ in range(10):
        clock.advance(30)
        restarted.run_once()  # also adopts the new policy, and link-tests under it

    db.rollback()
    steps = db.scalars(
        select(Escalation.step).where(Escalation.message_id == message_id).order_by(Escalation.step)
    ).all()
    assert steps == [1, 2]
    assert verify_replays(app, engine, ledger).ok


def test_over_http_the_bodies_are_withheld_so_escalation_gets_no_verdict(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    ledger: LedgerContext,
) -> None:
    flash(db, member, clock)
    clock.advance(600)
    do_set_language(db, member("alpha.duty"), language="ar", now=clock.now())
    app.state.checkpointer.run_once()

    report = verify_log(
        HttpSource("http://testserver", TestClient(app, base_url="http://testserver")),
        log_key=ledger.keyring.log_signer.verifier(),
        replays=bootstrap.REPLAYS,
    )

    assert report.ok, report.summary()
    assert report.bodies_checked == 0


def test_the_command_fails_on_a_database_whose_escalations_differ(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    database_url: str,
    settings: Settings,
) -> None:
    index = flash(db, member, clock).log_index
    clock.advance(600)
    do_set_language(db, member("alpha.duty"), language="ar", now=clock.now())
    app.state.checkpointer.run_once()

    result = fusioncell_verify("--database-url", database_url, key_dir=settings.key_dir)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"FAILED at entry {index}: escalation step 1 of this FLASH message" in result.stderr


def test_an_escalation_logged_before_the_message_it_names_fails_at_its_entry(
    app: FastAPI,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    """Each escalation is judged by the log before it: a message sent later does not make an
    escalation of it valid."""
    sent = clock.now()
    message_id = uuid.uuid4()
    early = escalate_by_hand(
        db,
        clock,
        (message_id, -1),
        step=0,
        due_after=timedelta(0),
        sent=sent,
        notify=["supervisor_duty_officer"],
    )
    send(db, member("alpha.liaison"), now=clock.now(), message_id=message_id)

    report = verify_replays(app, engine, ledger)

    assert (report.ok, report.failed_index) == (False, early)
    assert report.reason == f"an escalation of message {message_id}, which no earlier entry sent"
