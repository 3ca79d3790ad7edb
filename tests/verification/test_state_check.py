"""``fusioncell verify --database`` compares the track's rows with the log: a case, a step,
an escalation or a file edited behind the actions' back is named."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, delete, update
from sqlalchemy.orm import Session
from tests.helpers.verifying import verify_state
from tests.verification.factories import Member, assert_verifies, tell_story

from fusioncell.clock import ManualClock
from fusioncell.ledger.context import LedgerContext
from fusioncell.verification.models import (
    AccessRequest,
    Case,
    CaseStep,
    Escalation,
    EvidenceFile,
    Incident,
)

EDITS: dict[str, tuple[Callable[[], object], str]] = {
    "a case's state": (lambda: update(Case).values(state="dismissed"), "state"),
    "a case's outcome": (lambda: update(Case).values(outcome="not_substantiated"), "outcome"),
    "a step's signer": (
        lambda: (
            update(CaseStep)
            .where(CaseStep.kind == "verification.case.closed")
            .values(member_id=None)
        ),
        "member_id",
    ),
    "a step deleted": (
        lambda: delete(CaseStep).where(CaseStep.kind == "verification.site.visited"),
        "no row",
    ),
    "an answer": (lambda: update(AccessRequest).values(answer="granted"), "answer"),
    "an incident's party": (
        lambda: (
            update(Incident)
            .values(party_id=Case.organisation_id)
            .where(Incident.case_id == Case.id)
        ),
        "party_id",
    ),
    "an escalation": (lambda: update(Escalation).values(notify=["party_liaison"]), "notify"),
    "a file's bytes": (lambda: update(EvidenceFile).values(content=b"Other words."), "hash"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_row_edited_behind_the_log_is_named(
    db: Session,
    member: Member,
    clock: ManualClock,
    engine: Engine,
    ledger: LedgerContext,
    edit: str,
) -> None:
    tell_story(db, member, clock)
    assert_verifies(db, engine, ledger, clock.now())
    statement, named = EDITS[edit]
    with engine.begin() as connection:
        connection.execute(statement())  # type: ignore[call-overload]
    report = verify_state(engine, ledger)
    assert not report.ok
    assert named in str(report.reason), report.reason
