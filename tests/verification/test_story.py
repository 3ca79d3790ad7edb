"""A complaint from filing to a closed case, every step signed, and ``fusioncell verify``
agreeing with the database and recomputing every state and deadline."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.verification.factories import Member, assert_verifies, tell_story

from fusioncell.clock import ManualClock
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import LogEntry
from fusioncell.verification.entries import VerificationEntry
from fusioncell.verification.models import CaseState


def test_the_whole_workflow_writes_every_entry_type_and_verifies(
    db: Session, member: Member, clock: ManualClock, engine: Engine, ledger: LedgerContext
) -> None:
    case = tell_story(db, member, clock)
    assert case.state == CaseState.CLOSED
    kinds = set(db.scalars(select(LogEntry.entry_type)))
    db.commit()
    assert {k.value for k in VerificationEntry} <= kinds
    assert_verifies(db, engine, ledger, clock.now())
