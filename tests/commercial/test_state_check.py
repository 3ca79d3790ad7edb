"""``fusioncell verify --database`` compares the commercial track's rows with the log: a
project, a release, a milestone, a file put before it, a shipment, a step or a file's bytes
edited behind the actions' back is named."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, delete, update
from sqlalchemy.orm import Session
from tests.commercial.factories import Member, assert_verifies, tell_story
from tests.helpers.verifying import verify_state

from fusioncell.clock import ManualClock
from fusioncell.commercial.models import (
    EvidenceFile,
    Milestone,
    MilestoneEvidence,
    Project,
    ProjectRelease,
    Shipment,
    Step,
)
from fusioncell.ledger.context import LedgerContext
from fusioncell.scenario.demo import stable_id

EDITS: dict[str, tuple[Callable[[], object], str]] = {
    "a project's status": (lambda: update(Project).values(status="completed"), "status"),
    "a release taken away": (
        lambda: delete(ProjectRelease).where(
            ProjectRelease.organisation_id == stable_id("organisation", "HOST")
        ),
        "releases",
    ),
    "a milestone's status": (
        lambda: update(Milestone).where(Milestone.status == "missed").values(status="met"),
        "status",
    ),
    "a file taken from a milestone": (lambda: delete(MilestoneEvidence), "files before"),
    "a shipment's lead time": (
        lambda: update(Shipment).where(Shipment.lead_time == "late").values(lead_time="on_time"),
        "lead_time",
    ),
    "a step deleted": (
        lambda: delete(Step).where(Step.kind == "commercial.shipment.refused"),
        "no row",
    ),
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
