"""Overdue acknowledgements and FLASH justifications escalate as the hotline's deadlines do,
by the ladder each notification binds; what fell due while the server was down is written
when it starts again; the header strip shows what the member's party owes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.deconfliction.factories import QUNEITRA_ROUTE, assert_verifies, line, notify

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.db.engine import make_sessionmaker
from fusioncell.deconfliction.actions.acknowledgements import do_acknowledge_notification
from fusioncell.deconfliction.actions.escalation import do_escalate_due_notifications
from fusioncell.deconfliction.actions.follow_up import do_justify_notification
from fusioncell.deconfliction.engine import NotificationEngine
from fusioncell.deconfliction.models import NotificationEscalation
from fusioncell.deconfliction.obligations import open_obligations
from fusioncell.ledger.context import LedgerContext
from fusioncell.scenario.demo import stable_id

Member = Callable[[str], Viewer]
BRAVO = stable_id("organisation", "BRAVO")
ALPHA = stable_id("organisation", "ALPHA")


def _steps(db: Session) -> list[tuple[str, uuid.UUID, int, list[str]]]:
    db.commit()  # a fresh snapshot: the engine wrote in its own session
    return [
        (e.duty, e.organisation_id, e.step, e.notify)
        for e in db.scalars(
            select(NotificationEscalation).order_by(NotificationEscalation.log_index)
        )
    ]


def test_an_overdue_acknowledgement_climbs_the_hotline_ladder_and_stops_once_acknowledged(
    db: Session, member: Member, clock: ManualClock, engine: Engine, ledger: LedgerContext
) -> None:
    n = notify(db, member("alpha.liaison"), now=clock.now())  # PRIORITY: 1 h, then 3 h
    db.commit()
    clock.advance(3599)
    assert do_escalate_due_notifications(db, now=clock.now()) == []
    clock.advance(1)
    do_escalate_due_notifications(db, now=clock.now())
    assert _steps(db) == [("ack", BRAVO, 1, ["party_duty_officer"])]
    [owed] = open_obligations(db, member("bravo.duty"), clock.now())
    assert (owed.steps, owed.kind, owed.group) == (1, "priority", "deconfliction")
    assert owed.act_url == f"/deconfliction/notifications/{n.id}/acknowledge"
    assert open_obligations(db, member("alpha.duty"), clock.now()) == []
    do_acknowledge_notification(
        db, member("bravo.duty"), n.id, ack_id=uuid.uuid4(), now=clock.now()
    )
    clock.advance(5 * 3600)
    assert do_escalate_due_notifications(db, now=clock.now()) == []
    assert open_obligations(db, member("bravo.duty"), clock.now()) == []
    assert_verifies(db, engine, ledger, clock.now())


def test_overdue_acknowledgements_escalate_after_a_restart(
    app: FastAPI,
    db: Session,
    member: Member,
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    convoy = notify(db, member("hum1.coordinator"), now=clock.now(), kind="movement")
    db.commit()
    # The server is down for four hours: nothing escalates meanwhile.
    clock.advance(4 * 3600)
    assert _steps(db) == []
    # A new process starts: its engine's first tick writes every step that fell due.
    restarted = NotificationEngine(make_sessionmaker(engine, ledger=ledger), clock)
    restarted.run_once()
    steps = _steps(db)
    assert {(org, step) for _, org, step, _ in steps} == {
        (ALPHA, 1),
        (ALPHA, 2),
        (BRAVO, 1),
        (BRAVO, 2),
    }
    assert {tuple(notify) for _, _, step, notify in steps if step == 2} == {
        ("party_liaison", "supervisor_duty_officer")
    }
    # Run again: nothing is written twice.
    restarted.run_once()
    assert len(_steps(db)) == 4
    # And the app's own engine is the same worker.
    assert isinstance(app.state.deconfliction_engine, NotificationEngine)
    assert convoy.id is not None
    assert_verifies(db, engine, ledger, clock.now())


def test_a_flash_emergency_is_acknowledged_in_minutes_and_its_justification_escalates(
    db: Session, member: Member, clock: ManualClock, engine: Engine, ledger: LedgerContext
) -> None:
    alpha = member("alpha.liaison")
    n = notify(
        db,
        alpha,
        now=clock.now(),
        kind="emergency",
        flash=True,
        category="medevac",
        geometry=line(QUNEITRA_ROUTE),
        ahead=timedelta(minutes=2),
    )
    db.commit()
    clock.advance(121)
    do_escalate_due_notifications(db, now=clock.now())
    assert _steps(db) == [("ack", BRAVO, 1, ["party_duty_officer", "supervisor_duty_officer"])]
    [owed] = open_obligations(db, member("bravo.duty"), clock.now())
    assert owed.alerts and owed.kind == "flash"
    do_acknowledge_notification(
        db, member("bravo.duty"), n.id, ack_id=uuid.uuid4(), now=clock.now()
    )
    # ALPHA owes its justification, on its own strip.
    [justification] = open_obligations(db, alpha, clock.now())
    assert justification.kind == "justification"
    assert justification.deadline == n.submitted_at + timedelta(hours=24)
    clock.current = n.submitted_at + timedelta(hours=24)
    do_escalate_due_notifications(db, now=clock.now())
    assert _steps(db)[-1] == (
        "justification",
        ALPHA,
        1,
        ["party_liaison", "supervisor_duty_officer"],
    )
    do_justify_notification(db, alpha, n.id, justification="Burns; surgery", now=clock.now())
    clock.advance(6 * 3600)
    assert do_escalate_due_notifications(db, now=clock.now()) == []
    assert open_obligations(db, alpha, clock.now()) == []
    assert_verifies(db, engine, ledger, clock.now())


def test_a_place_coming_into_force_is_checked_against_the_notifications_that_stand(
    db: Session, member: Member, clock: ManualClock, engine: Engine, ledger: LedgerContext
) -> None:
    from tests.deconfliction.protection_factories import agree, site

    from fusioncell.deconfliction.models import ConflictRow

    alpha = member("alpha.liaison")
    n = notify(db, alpha, now=clock.now())  # AWAY_FROM_SITES_WEST, a 2 km buffer
    db.commit()
    worker = NotificationEngine(make_sessionmaker(engine, ledger=ledger), clock)
    worker.run_once()  # start-up: everything checked, nothing changed
    db.commit()
    assert db.scalars(select(ConflictRow)).all() == []
    # A school 1.1 km away comes into force: the engine checks again and flags it.
    school = agree(
        db,
        member,
        site(db, member("hum1.coordinator"), now=clock.now(), kind="school", where=(35.70, 33.21)),
        now=clock.now(),
    )
    db.commit()
    clock.advance(1)
    worker.run_once()
    db.commit()
    [row] = db.scalars(select(ConflictRow)).all()
    assert (row.other_kind, row.other_id) == ("site", str(school.id))
    db.refresh(n)
    assert n.conflict_status == "flagged"
    # Nothing changed since: the next tick records nothing.
    count = len(db.scalars(select(ConflictRow)).all())
    worker.run_once()
    assert len(db.scalars(select(ConflictRow)).all()) == count
    assert_verifies(db, engine, ledger, clock.now())
