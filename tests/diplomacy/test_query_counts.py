"""The lists and the header strip cost the same statements for many agreements as for few."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.diplomacy.factories import Member, propose, sign_all
from tests.querycount import assert_constant

from fusioncell.clock import ManualClock
from fusioncell.diplomacy.obligations import open_obligations

Headers = Callable[[str], dict[str, str]]


def test_the_lists_and_the_strip_cost_the_same_statements_for_many_agreements_as_for_few(
    db: Session,
    member: Member,
    clock: ManualClock,
    client: TestClient,
    token_for: Headers,
    engine: Engine,
) -> None:
    made = [0]

    def agreements(n: int) -> None:
        for _ in range(n):
            made[0] += 1
            version = propose(db, member("supervisor.chair"), now=clock.now())
            if made[0] % 2:
                sign_all(db, member, version, now=clock.now())
        db.commit()

    agreements(2)
    bravo = token_for("bravo.liaison")
    for url in ("/api/v1/agreements", "/api/v1/milestones"):
        assert_constant(
            engine, lambda url=url: client.get(url, headers=bravo), lambda: agreements(3)
        )
    viewer = member("bravo.liaison")
    assert_constant(
        engine, lambda: open_obligations(db, viewer, clock.now()), lambda: agreements(3)
    )
    assert len(client.get("/api/v1/agreements", headers=bravo).json()) == made[0]
