"""The verification lists and the header strip cost the same number of SQL statements
however many cases, files and deadlines there are."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.querycount import assert_constant
from tests.verification.factories import Member, file, to_investigation

from fusioncell.clock import ManualClock
from fusioncell.verification.actions.complaints import do_store_evidence
from fusioncell.verification.actions.investigation import do_request_access
from fusioncell.verification.obligations import open_obligations

Headers = Callable[[str], dict[str, str]]


def test_the_lists_and_the_strip_cost_the_same_statements_for_many_cases_as_for_few(
    db: Session,
    member: Member,
    clock: ManualClock,
    client: TestClient,
    token_for: Headers,
    engine: Engine,
) -> None:
    import uuid

    made = [0]

    def cases(n: int) -> None:
        alpha = member("alpha.liaison")
        for _ in range(n):
            made[0] += 1
            stored = do_store_evidence(
                db, alpha, f"Notes {made[0]}".encode(), media_type="text/plain", now=clock.now()
            )
            case = file(db, alpha, now=clock.now(), evidence=[stored.sha256])
            if made[0] % 2:
                to_investigation(db, member, case, now=clock.now())
                do_request_access(
                    db,
                    member("verifier.lead"),
                    case.id,
                    step_id=uuid.uuid4(),
                    party="BRAVO",
                    place="A hill.",
                    now=clock.now(),
                )
        db.commit()

    cases(2)
    bravo = token_for("bravo.liaison")
    for url in ("/api/v1/verification/complaints", "/api/v1/verification/triage-queue"):
        assert_constant(engine, lambda url=url: client.get(url, headers=bravo), lambda: cases(4))
    stats = "/api/v1/verification/stats"
    assert_constant(engine, lambda: client.get(stats, headers=bravo), lambda: cases(3))
    viewer = member("bravo.liaison")
    assert_constant(engine, lambda: open_obligations(db, viewer, clock.now()), lambda: cases(3))
    # Sixteen cases, every other one with an access request made to BRAVO.
    assert len(open_obligations(db, viewer, clock.now())) == 8
