"""R13: the statistics are one method for every party, so mirrored cases give mirrored
figures."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.verification.factories import HOUR, Member, file

from fusioncell.clock import ManualClock
from fusioncell.verification.actions.findings import do_draft_finding, do_issue_finding
from fusioncell.verification.actions.investigation import (
    do_answer_access,
    do_record_site_visit,
    do_request_access,
    do_task_verifier,
    do_triage_complaint,
)

Headers = Callable[[str], dict[str, str]]


def _mirrored_case(
    db: Session, member: Member, clock: ManualClock, *, filer: str, against: str, denier: str
) -> None:
    """A complaint triaged after 2 h, visited after 5 h, a denial by ``denier``, and a
    finding attributed to ``against`` after 80 h."""
    start = clock.now()
    case = file(db, member(f"{filer.lower()}.liaison"), now=start, against=against)
    chair, verifier = member("supervisor.chair"), member("verifier.lead")
    clock.advance(2 * HOUR)
    do_triage_complaint(
        db,
        chair,
        case.id,
        step_id=uuid.uuid4(),
        triage="admissible",
        reasons="In scope.",
        now=clock.now(),
    )
    do_task_verifier(db, verifier, case.id, step_id=uuid.uuid4(), now=clock.now())
    clock.advance(3 * HOUR)
    do_record_site_visit(
        db,
        verifier,
        case.id,
        step_id=uuid.uuid4(),
        visited_at=clock.now(),
        note="",
        now=clock.now(),
    )
    request = do_request_access(
        db,
        verifier,
        case.id,
        step_id=uuid.uuid4(),
        party=denier,
        place="A ridge.",
        now=clock.now(),
    )
    do_answer_access(
        db,
        member(f"{denier.lower()}.liaison"),
        case.id,
        request.id,
        step_id=uuid.uuid4(),
        answer="denied",
        now=clock.now(),
    )
    do_draft_finding(
        db,
        verifier,
        case.id,
        step_id=uuid.uuid4(),
        outcome="substantiated_attributed",
        party=against,
        summary="Seen.",
        now=clock.now(),
    )
    clock.advance(75 * HOUR)
    do_issue_finding(
        db,
        chair,
        case.id,
        step_id=uuid.uuid4(),
        outcome="substantiated_attributed",
        party=against,
        summary="Seen.",
        now=clock.now(),
    )
    clock.advance(HOUR)


def test_mirrored_cases_give_mirrored_figures_for_every_reader(
    db: Session, member: Member, clock: ManualClock, client: TestClient, token_for: Headers
) -> None:
    _mirrored_case(db, member, clock, filer="ALPHA", against="BRAVO", denier="BRAVO")
    _mirrored_case(db, member, clock, filer="BRAVO", against="ALPHA", denier="ALPHA")
    db.commit()
    seen: list[Any] = []
    for who in ("alpha.liaison", "bravo.liaison", "supervisor.chair", "verifier.lead"):
        response = client.get("/api/v1/verification/stats", headers=token_for(who))
        assert response.status_code == 200, response.text
        seen.append(response.json())
    assert all(s == seen[0] for s in seen)
    alpha, bravo = seen[0]["parties"]
    assert (alpha["party"], bravo["party"]) == ("ALPHA", "BRAVO")
    assert {k: v for k, v in alpha.items() if k != "party"} == {
        k: v for k, v in bravo.items() if k != "party"
    }
    assert (alpha["filed"], alpha["received"], alpha["access_denials"]) == (1, 1, 1)
    assert alpha["outcomes"]["substantiated_attributed"] == 1
    assert alpha["to_triage"] == {"count": 1, "median_hours": 2.0, "p90_hours": 2.0}
    assert alpha["to_site_visit"]["median_hours"] == 5.0
    assert alpha["to_finding"]["median_hours"] == 80.0
    # An asymmetric case changes one party's figures only.
    file(db, member("alpha.liaison"), now=clock.now(), against="BRAVO")
    db.commit()
    after = client.get("/api/v1/verification/stats", headers=token_for("host.observer")).json()
    assert after["parties"][0]["filed"] == 0  # the host reads no case
    chair = client.get("/api/v1/verification/stats", headers=token_for("supervisor.chair")).json()
    assert [(p["filed"], p["received"]) for p in chair["parties"]] == [(2, 1), (1, 2)]
