"""The protection watch, as each app process runs it: the weekly lists, the observations
looked at, and the alerts the hotline carries, written once however often it looks and
whether or not the process restarted in between."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.deconfliction.protection_factories import NEAR_SUWAYDA, agreed_community, point

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.db.engine import make_sessionmaker
from fusioncell.deconfliction.actions.incidents import do_report_incident
from fusioncell.deconfliction.models.registry import NoStrikeList
from fusioncell.deconfliction.protection_watch import ProtectionWatch
from fusioncell.hotline.models import Message
from fusioncell.ledger.context import LedgerContext


def test_the_watch_sends_the_weeks_lists_once_and_carries_an_alert_left_uncarried(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    member: Callable[[str], Viewer],
    clock: ManualClock,
) -> None:
    place = agreed_community(db, member, now=clock.now())
    # Reported, but the process stopped before the hotline carried its alert.
    do_report_incident(
        db,
        member("hum1.coordinator"),
        incident_id=uuid.uuid4(),
        kind="threat",
        affects="community",
        target=str(place.id),
        occurred_at=clock.now(),
        description="Shots near the road",
        location=point(NEAR_SUWAYDA),
        now=clock.now(),
    )
    db.commit()
    sessions = make_sessionmaker(engine, ledger=ledger)
    watch = ProtectionWatch(sessions, clock)
    watch.run_once()
    db.rollback()
    lists = db.scalars(select(NoStrikeList)).all()
    assert len(lists) == 2 and {s.period for s in lists} == {"2026-W02"}
    carried = db.scalars(select(Message).where(Message.form == "early_warning_incident")).all()
    assert len(carried) == 2
    # Again, and after a restart (a new watch): nothing more.
    watch.run_once()
    clock.advance(60)
    ProtectionWatch(sessions, clock).run_once()
    db.rollback()
    assert len(db.scalars(select(NoStrikeList)).all()) == 2
    assert len(db.scalars(select(Message).where(Message.form.like("early_warning%"))).all()) == 2
    # A week on: the next lists.
    clock.advance(7 * 86400)
    watch.run_once()
    db.rollback()
    assert len(db.scalars(select(NoStrikeList)).all()) == 4
