"""Notification actions as STYLE asks of every action: the rows, the entry (its audience and
signature), the live event, and a refused actor changing nothing; then the states a
notification goes through, amendments, withdrawals, noting and FLASH justifications."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.deconfliction.factories import (
    AWAY_FROM_SITES_WEST,
    BRAVO_FAR,
    IN_SEPARATION,
    NEAR_MAJDAL_SHAMS,
    QUNEITRA_ROUTE,
    assert_verifies,
    line,
    notify,
    point,
)

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.deconfliction.actions.acknowledgements import do_acknowledge_notification
from fusioncell.deconfliction.actions.follow_up import (
    do_justify_notification,
    do_note_conflicts,
    do_withdraw_notification,
)
from fusioncell.deconfliction.actions.notifications import do_amend_notification
from fusioncell.deconfliction.entries import NotificationEntry
from fusioncell.deconfliction.models import (
    Acknowledgement,
    ConflictRow,
    Notification,
    Recipient,
)
from fusioncell.deconfliction.queries.notifications import around, state_of
from fusioncell.errors import Conflict, Forbidden, IdempotencyConflict
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import LogAudience, LogEntry
from fusioncell.live.models import Event
from fusioncell.scenario.demo import stable_id

ORG = {s: stable_id("organisation", s) for s in ("ALPHA", "BRAVO", "SUPERVISOR", "VERIFIER")}
HUM = stable_id("organisation", "HUM-1")

Member = Callable[[str], Viewer]


def _audience(db: Session, index: int) -> set[str]:
    return set(db.scalars(select(LogAudience.value).where(LogAudience.entry_index == index)))


def _last_index(db: Session) -> int | None:
    return db.scalar(select(func.max(LogEntry.index)))


def test_a_submission_writes_its_rows_its_signed_entry_its_check_and_its_events(
    db: Session, member: Member, clock: ManualClock
) -> None:
    n = notify(db, member("alpha.liaison"), now=clock.now(), description="Engineering works")
    db.commit()
    entry = db.get(LogEntry, n.log_index)
    assert entry is not None and entry.entry_type == NotificationEntry.SUBMITTED
    # Distributed: every party, the supervisor and the verifier read it; not HUM-1.
    assert _audience(db, n.log_index) == {str(o) for o in ORG.values()}
    assert set(db.scalars(select(Recipient.organisation_id))) == {ORG["BRAVO"]}
    assert (n.kind, n.version, n.lead_time, n.near_line) == ("activity", 0, "on_time", True)
    assert n.ack_deadline == n.submitted_at + timedelta(hours=1)  # PRIORITY, the hotline's
    # The conflict check follows, signed by the log, in the same transaction.
    checked = db.get(LogEntry, n.log_index + 1)
    assert checked is not None and checked.entry_type == NotificationEntry.CHECKED
    assert n.checked_log_index == n.log_index + 1 and n.conflict_status == "clear"
    kinds = [e.kind for e in db.scalars(select(Event).where(Event.track == "deconfliction"))]
    assert kinds == ["deconfliction-notification", "deconfliction-checked"]


def test_a_humanitarian_movement_reaches_both_parties_and_hum1_but_the_parties_activity_does_not(
    db: Session, member: Member, clock: ManualClock
) -> None:
    convoy = notify(db, member("hum1.coordinator"), now=clock.now(), kind="movement")
    db.commit()
    assert _audience(db, convoy.log_index) == {str(o) for o in ORG.values()} | {str(HUM)}
    assert set(db.scalars(select(Recipient.organisation_id))) == {ORG["ALPHA"], ORG["BRAVO"]}


@pytest.mark.parametrize(
    ("username", "kind"),
    [
        ("alpha.liaison", "site"),  # a party notifies no humanitarian site
        ("hum1.coordinator", "activity"),  # HUM-1 notifies no military activity
        ("alpha.duty", "activity"),  # a duty officer does not speak for the party
        ("supervisor.chair", "movement"),
        ("verifier.lead", "emergency"),
        ("host.observer", "movement"),
        ("cell.admin", "movement"),
    ],
)
def test_an_organisation_that_may_not_send_that_kind_is_refused_and_nothing_is_written(
    db: Session, member: Member, clock: ManualClock, username: str, kind: str
) -> None:
    actor = member(username)
    before = _last_index(db)
    with pytest.raises(Forbidden):
        notify(db, actor, now=clock.now(), kind=kind)
    db.rollback()
    assert _last_index(db) == before
    assert db.scalars(select(Notification)).all() == []


def test_a_retry_with_the_same_id_returns_the_first_and_another_body_is_a_conflict(
    db: Session, member: Member, clock: ManualClock
) -> None:
    alpha = member("alpha.liaison")
    chosen = uuid.uuid4()
    first = notify(db, alpha, now=clock.now(), notification_id=chosen)
    db.commit()
    before = _last_index(db)
    again = notify(db, alpha, now=clock.now(), notification_id=chosen)
    assert again.id == first.id == chosen and _last_index(db) == before
    with pytest.raises(IdempotencyConflict):
        notify(db, alpha, now=clock.now(), notification_id=chosen, description="Other")
    db.rollback()
    # Another member choosing the same id gets a notification of their own.
    other = notify(db, member("bravo.liaison"), now=clock.now(), notification_id=chosen)
    assert other.id != chosen
    assert db.scalar(select(func.count()).select_from(Notification)) == 2


def test_an_acknowledgement_is_the_recipients_signed_receipt_and_a_retry_returns_it(
    db: Session, member: Member, clock: ManualClock
) -> None:
    n = notify(db, member("alpha.liaison"), now=clock.now())
    db.commit()
    chosen = uuid.uuid4()
    ack = do_acknowledge_notification(
        db, member("bravo.duty"), n.id, ack_id=chosen, now=clock.now()
    )
    entry = db.get(LogEntry, ack.log_index)
    assert entry is not None and entry.entry_type == NotificationEntry.ACKNOWLEDGED
    assert (ack.id, ack.organisation_id, ack.version) == (chosen, ORG["BRAVO"], 0)
    assert _audience(db, ack.log_index) == {str(o) for o in ORG.values()}
    before = _last_index(db)
    assert (
        do_acknowledge_notification(
            db, member("bravo.duty"), n.id, ack_id=chosen, now=clock.now()
        ).id
        == chosen
    )
    # A second officer of the same party: the party's first acknowledgement stands.
    assert (
        do_acknowledge_notification(
            db, member("bravo.liaison"), n.id, ack_id=uuid.uuid4(), now=clock.now()
        ).id
        == chosen
    )
    assert _last_index(db) == before
    frames = db.scalars(select(Event).where(Event.kind == "deconfliction-acknowledged")).all()
    assert [f.payload["organisation"] for f in frames] == ["BRAVO"]


@pytest.mark.parametrize(
    "username", ["alpha.liaison", "alpha.duty", "supervisor.chair", "verifier.lead"]
)
def test_an_acknowledgement_by_a_party_that_is_not_a_recipient_is_refused(
    db: Session, member: Member, clock: ManualClock, username: str
) -> None:
    n = notify(db, member("alpha.liaison"), now=clock.now())
    db.commit()
    before = _last_index(db)
    with pytest.raises(Forbidden):
        do_acknowledge_notification(
            db, member(username), n.id, ack_id=uuid.uuid4(), now=clock.now()
        )
    db.rollback()
    assert _last_index(db) == before
    assert db.scalars(select(Acknowledgement)).all() == []


def _state(db: Session, n: Notification, clock: ManualClock) -> str:
    db.refresh(n)
    known = around(db, [n])
    return state_of(n, known.recipients[n.id], known.acks[n.id], now=clock.now())


def test_a_notification_goes_distributed_acknowledged_clear_active_completed(
    db: Session, member: Member, clock: ManualClock
) -> None:
    n = notify(db, member("hum1.coordinator"), now=clock.now(), kind="movement", hours=2)
    db.commit()
    assert _state(db, n, clock) == "distributed"
    do_acknowledge_notification(
        db, member("alpha.duty"), n.id, ack_id=uuid.uuid4(), now=clock.now()
    )
    assert _state(db, n, clock) == "distributed"  # BRAVO still owes its receipt
    clock.advance(2 * 3600)
    assert _state(db, n, clock) == "ack_overdue"
    do_acknowledge_notification(
        db, member("bravo.duty"), n.id, ack_id=uuid.uuid4(), now=clock.now()
    )
    assert _state(db, n, clock) == "clear"
    clock.current = n.starts_at
    assert _state(db, n, clock) == "active"
    clock.current = n.ends_at
    assert _state(db, n, clock) == "completed"


def test_a_conflict_flagged_is_amended_away_acknowledged_again_and_the_amendment_keeps_its_lead(
    db: Session, member: Member, clock: ManualClock, engine: Engine, ledger: LedgerContext
) -> None:
    alpha = member("alpha.liaison")
    n = notify(
        db,
        alpha,
        now=clock.now(),
        geometry=point(NEAR_MAJDAL_SHAMS),
        buffer_m=500,
        ahead=timedelta(hours=73),
        category="engineering",
    )
    db.commit()
    [row] = db.scalars(select(ConflictRow)).all()
    assert (row.other_kind, row.other_id, row.required_m) == ("site", "majdal-shams", 2500.0)
    assert 1150 < row.distance_m < 1350
    do_acknowledge_notification(
        db, member("bravo.duty"), n.id, ack_id=uuid.uuid4(), now=clock.now()
    )
    assert _state(db, n, clock) == "conflict_flagged"
    clock.advance(2 * 3600)  # 71 hours ahead now: judged afresh, it would be late
    do_amend_notification(
        db,
        alpha,
        n.id,
        geometry=point(AWAY_FROM_SITES_WEST),
        buffer_m=500,
        starts_at=n.starts_at,
        ends_at=n.ends_at,
        description="Engineering works, moved away from Majdal Shams",
        reason="inside the site's buffer",
        now=clock.now(),
    )
    db.commit()
    assert (n.version, n.conflict_status, n.lead_time) == (1, "clear", "on_time")
    assert db.scalars(select(ConflictRow)).all() == []
    # The amendment is to be acknowledged again.
    assert _state(db, n, clock) == "distributed"
    do_acknowledge_notification(
        db, member("bravo.duty"), n.id, ack_id=uuid.uuid4(), now=clock.now()
    )
    assert _state(db, n, clock) == "amended"
    # Moving the window earlier is judged from the amendment's time: late now.
    do_amend_notification(
        db,
        alpha,
        n.id,
        geometry=point(AWAY_FROM_SITES_WEST),
        starts_at=n.starts_at - timedelta(hours=1),
        ends_at=n.ends_at,
        description="Engineering works, an hour earlier",
        now=clock.now(),
    )
    assert n.lead_time == "late"
    db.commit()
    assert_verifies(db, engine, ledger, clock.now())


def test_conflicts_between_notifications_are_symmetric_and_rechecked_on_withdrawal(
    db: Session, member: Member, clock: ManualClock, engine: Engine, ledger: LedgerContext
) -> None:
    medevac = notify(
        db,
        member("bravo.liaison"),
        now=clock.now(),
        kind="emergency",
        geometry=line(QUNEITRA_ROUTE),
        buffer_m=1000,
        ahead=timedelta(hours=30),
    )
    training = notify(
        db,
        member("alpha.liaison"),
        now=clock.now(),
        geometry=point((35.79, 33.14)),
        buffer_m=1500,
        ahead=timedelta(hours=29),
        hours=3,
    )
    db.commit()
    db.refresh(medevac)
    conflicts = {
        (c.notification_id, c.other_kind, c.other_id)
        for c in db.scalars(select(ConflictRow).where(ConflictRow.other_kind == "notification"))
    }
    assert conflicts == {
        (medevac.id, "notification", str(training.id)),
        (training.id, "notification", str(medevac.id)),
    }
    assert medevac.conflict_status == training.conflict_status == "flagged"
    do_withdraw_notification(
        db, member("alpha.liaison"), training.id, reason="postponed", now=clock.now()
    )
    db.commit()
    db.refresh(medevac)
    assert training.closed == "withdrawn"
    assert medevac.conflict_status == "clear"
    assert _state(db, training, clock) == "withdrawn"
    with pytest.raises(Conflict):
        do_amend_notification(
            db,
            member("alpha.liaison"),
            training.id,
            geometry=point(BRAVO_FAR),
            starts_at=training.starts_at,
            ends_at=training.ends_at,
            description="again",
            now=clock.now(),
        )
    db.rollback()
    assert_verifies(db, engine, ledger, clock.now())


def test_military_activity_in_the_area_of_separation_conflicts_with_the_zone_and_can_be_noted(
    db: Session, member: Member, clock: ManualClock, engine: Engine, ledger: LedgerContext
) -> None:
    alpha = member("alpha.liaison")
    n = notify(db, alpha, now=clock.now(), geometry=point(IN_SEPARATION), buffer_m=0)
    db.commit()
    [row] = db.scalars(select(ConflictRow)).all()
    assert (row.other_kind, row.other_id, row.distance_m) == ("zone", "area-of-separation", 0.0)
    with pytest.raises(Forbidden):
        do_note_conflicts(db, member("bravo.liaison"), n.id, note="not yours", now=clock.now())
    db.rollback()
    do_note_conflicts(db, alpha, n.id, note="a UN-escorted demining team", now=clock.now())
    db.commit()
    db.refresh(row)
    assert n.conflict_status == "noted" and row.noted_log_index is not None
    assert_verifies(db, engine, ledger, clock.now())


def test_an_amendment_after_completion_is_refused_and_writes_nothing(
    db: Session, member: Member, clock: ManualClock
) -> None:
    alpha = member("alpha.liaison")
    n = notify(db, alpha, now=clock.now(), hours=1)
    db.commit()
    clock.current = n.ends_at + timedelta(minutes=1)
    before = _last_index(db)
    with pytest.raises(Conflict):
        do_amend_notification(
            db,
            alpha,
            n.id,
            geometry=point(AWAY_FROM_SITES_WEST),
            starts_at=clock.now() + timedelta(hours=80),
            ends_at=clock.now() + timedelta(hours=81),
            description="too late",
            now=clock.now(),
        )
    db.rollback()
    assert _last_index(db) == before
    assert _state(db, n, clock) == "completed"


def test_a_flash_emergency_is_on_time_owes_a_justification_and_records_it(
    db: Session, member: Member, clock: ManualClock, engine: Engine, ledger: LedgerContext
) -> None:
    bravo = member("bravo.liaison")
    n = notify(
        db,
        bravo,
        now=clock.now(),
        kind="emergency",
        flash=True,
        category="medevac",
        geometry=line(QUNEITRA_ROUTE),
        ahead=timedelta(minutes=5),
    )
    db.commit()
    assert (n.lead_time, n.precedence, n.required_lead_s) == ("on_time", "FLASH", 0)
    assert n.justification_due == n.submitted_at + timedelta(hours=24)
    assert n.ack_deadline == n.submitted_at + timedelta(minutes=2)
    with pytest.raises(Forbidden):
        do_justify_notification(
            db, member("alpha.liaison"), n.id, justification="x", now=clock.now()
        )
    db.rollback()
    clock.advance(3600)
    do_justify_notification(
        db, bravo, n.id, justification="A child with burns needed surgery", now=clock.now()
    )
    db.commit()
    assert n.justified_at is not None and n.justification_log_index is not None
    # The same non-FLASH emergency, notified 5 minutes ahead, is late.
    late = notify(
        db,
        bravo,
        now=clock.now(),
        kind="emergency",
        geometry=line(QUNEITRA_ROUTE),
        ahead=timedelta(minutes=5),
    )
    assert (late.lead_time, late.required_lead_s) == ("late", 24 * 3600)
    db.commit()
    assert_verifies(db, engine, ledger, clock.now())
