"""The projects' list, a project with its milestones, files and shipments, and the statistics
cost the same number of SQL statements however many there are."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.commercial.factories import Member, activate, crossing, declare, project
from tests.querycount import assert_constant

from fusioncell.clock import ManualClock
from fusioncell.commercial.actions.evidence import do_store_evidence
from fusioncell.commercial.actions.milestones import do_add_milestone, do_attach_milestone_evidence

Headers = Callable[[str], dict[str, str]]


def test_the_lists_a_project_and_the_statistics_cost_the_same_for_many_as_for_few(
    db: Session,
    member: Member,
    clock: ManualClock,
    client: TestClient,
    token_for: Headers,
    engine: Engine,
) -> None:
    alpha = member("alpha.liaison")
    crossing_id = crossing(db, member, now=clock.now())
    found = project(db, alpha, now=clock.now())
    activate(db, alpha, found, now=clock.now())
    made = [0]

    def grow(n: int) -> None:
        for _ in range(n):
            made[0] += 1
            milestone = do_add_milestone(
                db,
                alpha,
                found.id,
                milestone_id=uuid.uuid4(),
                title=f"Milestone {made[0]}",
                due_on=clock.now().date() + timedelta(days=made[0]),
                now=clock.now(),
            )
            stored = do_store_evidence(
                db,
                alpha,
                f"Metered output {made[0]}".encode(),
                media_type="text/csv",
                now=clock.now(),
            )
            do_attach_milestone_evidence(
                db,
                alpha,
                found.id,
                milestone.id,
                step_id=uuid.uuid4(),
                evidence=[stored.sha256],
                now=clock.now(),
            )
            declare(db, alpha, found, crossing_id, now=clock.now())
            project(db, member("bravo.liaison"), now=clock.now())
        db.commit()

    grow(1)
    bravo = token_for("bravo.liaison")

    def read(url: str) -> None:
        response = client.get(url, headers=bravo)
        assert response.status_code == 200, response.text

    for url in ("/api/v1/projects", f"/api/v1/projects/{found.id}", "/api/v1/projects/stats"):
        assert_constant(engine, lambda url=url: read(url), lambda: grow(2))
    shown = client.get(f"/api/v1/projects/{found.id}", headers=bravo).json()
    assert len(shown["milestones"]) == len(shown["shipments"]) == made[0] == 7
