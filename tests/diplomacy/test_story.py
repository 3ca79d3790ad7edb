"""The whole story through the actions: every diplomacy entry type, the rows it leaves, and
``fusioncell verify`` (replay and state check) over the result."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.diplomacy.factories import tell_story
from tests.helpers.verifying import sql, verify_database, verify_state

from fusioncell import bootstrap
from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.diplomacy.entries import DiplomacyEntry
from fusioncell.diplomacy.models import Comment, Milestone, MilestoneState
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import LogEntry


def test_the_story_logs_every_entry_type_and_verifies(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
    member: Callable[[str], Viewer],
) -> None:
    tell_story(db, member, clock)
    logged = set(db.scalars(select(LogEntry.entry_type)))
    assert {e.value for e in DiplomacyEntry} <= logged
    states = sorted(m.state for m in db.scalars(select(Milestone)))
    assert states == sorted([MilestoneState.ASSESSED, MilestoneState.OPEN, MilestoneState.WAIVED])
    assert all(c.revealed_index is not None for c in db.scalars(select(Comment)))
    db.commit()
    do_sign_checkpoint(db, now=clock.now())
    report = verify_database(engine, ledger, replays=bootstrap.REPLAYS)
    assert report.ok, report
    assert verify_state(engine, ledger).ok


def test_verify_database_names_an_assessment_or_a_signature_edited_behind_the_log(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
    member: Callable[[str], Viewer],
) -> None:
    tell_story(db, member, clock)
    db.commit()
    do_sign_checkpoint(db, now=clock.now())
    assert verify_state(engine, ledger).ok
    sql(engine, "UPDATE diplomacy_milestones SET outcome = 'met' WHERE outcome = 'breached'")
    report = verify_state(engine, ledger)
    assert not report.ok and "outcome is 'met'" in str(report.reason)
    sql(engine, "UPDATE diplomacy_milestones SET outcome = 'breached' WHERE outcome = 'met'")
    sql(
        engine,
        "DELETE FROM diplomacy_signatures WHERE log_index = "
        "(SELECT MAX(log_index) FROM diplomacy_signatures)",
    )
    report = verify_state(engine, ledger)
    assert not report.ok and "diplomacy_signatures has no row" in str(report.reason)
