"""The workflow through ``/api/v1/verification``: a complaint from filing to a verified
remedy and a closed case, both parties commenting; every refusal the issue lists is
problem+json with nothing written; every write is idempotent by the client's id."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.helpers.problems import assert_problem
from tests.verification.factories import HOUR, Member, assert_verifies, point

from fusioncell.clock import ManualClock
from fusioncell.ledger.context import LedgerContext

Headers = Callable[[str], dict[str, str]]
URL = "/api/v1/verification"


class Api:
    def __init__(self, client: TestClient, token_for: Headers, clock: ManualClock) -> None:
        self.client, self.clock = client, clock
        self._issue = token_for
        self._tokens: dict[str, tuple[dict[str, str], datetime]] = {}

    def token_for(self, who: str) -> dict[str, str]:
        """A token per member, kept while it is fresh (issuing one writes an entry)."""
        kept = self._tokens.get(who)
        if kept is None or self.clock.now() - kept[1] > timedelta(minutes=30):
            kept = self._tokens[who] = (self._issue(who), self.clock.now())
        return kept[0]

    def post(self, path: str, who: str, body: dict[str, Any], status: int = 200) -> Any:
        response = self.client.post(f"{URL}{path}", json=body, headers=self.token_for(who))
        assert response.status_code == status, response.text
        return response.json()

    def get(self, path: str, who: str) -> Any:
        response = self.client.get(f"{URL}{path}", headers=self.token_for(who))
        assert response.status_code == 200, response.text
        return response.json()

    def complaint(self, who: str = "alpha.liaison", **more: Any) -> dict[str, Any]:
        body = {
            "id": str(uuid.uuid4()),
            "allegation": "Armed personnel in the area of separation.",
            "against": "BRAVO",
            "rule": "R1",
            "location": point(),
            "occurred_at": (self.clock.now() - timedelta(hours=3)).isoformat(),
            **more,
        }
        found: dict[str, Any] = self.post("/complaints", who, body, 201)
        return found

    def step(self, case: str, path: str, who: str, **body: Any) -> Any:
        return self.post(f"/complaints/{case}/{path}", who, {"id": str(uuid.uuid4()), **body})


@pytest.fixture
def api(client: TestClient, token_for: Headers, clock: ManualClock) -> Api:
    return Api(client, token_for, clock)


def _investigating(api: Api) -> str:
    case = api.complaint()["id"]
    api.step(case, "triage", "supervisor.chair", triage="admissible", reasons="R1, placed.")
    api.step(case, "tasking", "verifier.lead")
    return str(case)


def _drafted(
    api: Api, outcome: str = "substantiated_attributed", party: str | None = "BRAVO"
) -> str:
    case = _investigating(api)
    api.step(case, "site-visits", "verifier.lead", visited_at=api.clock.now().isoformat())
    api.step(case, "draft-finding", "verifier.lead", outcome=outcome, party=party, summary="Seen.")
    return case


def test_a_complaint_goes_from_filing_to_a_verified_remedy_with_both_parties_commenting(
    api: Api, db: Session, engine: Engine, ledger: LedgerContext, clock: ManualClock
) -> None:
    filed = api.complaint()
    case = filed["id"]
    assert (filed["state"], filed["against"], filed["filed_by"]) == ("filed", "BRAVO", "ALPHA")
    assert [c["id"] for c in api.get("/triage-queue", "supervisor.chair")] == [case]
    api.step(case, "triage", "supervisor.chair", triage="admissible", reasons="R1, placed.")
    tasked = api.step(case, "tasking", "verifier.lead")
    assert tasked["state"] == "investigating"
    assert [d["duty"] for d in tasked["deadlines"]] == ["triage", "site_visit"]
    api.step(
        case, "site-visits", "verifier.lead", visited_at=clock.now().isoformat(), note="At it."
    )
    asked = api.step(case, "access-requests", "verifier.lead", place="The northern position.")
    [request] = asked["access_requests"]
    assert (request["party"], request["answer"]) == ("BRAVO", None)
    answered = api.step(
        case, f"access-requests/{request['id']}/answer", "bravo.liaison", answer="granted"
    )
    assert answered["access_requests"][0]["answer"] == "granted"
    drafted = api.step(
        case,
        "draft-finding",
        "supervisor.chair",
        outcome="substantiated_attributed",
        party="BRAVO",
        summary="BRAVO's personnel were there.",
    )
    assert drafted["comments_close_at"] == (
        clock.now().replace(microsecond=0) + timedelta(hours=72)
    ).isoformat().replace("+00:00", "Z")
    api.post(f"/complaints/{case}/comments", "alpha.liaison", {"comment": "Agreed."}, 201)
    api.post(f"/complaints/{case}/comments", "bravo.liaison", {"comment": "Disputed."}, 201)
    clock.advance(72 * HOUR)
    issued = api.step(
        case,
        "finding",
        "verifier.lead",
        outcome="substantiated_attributed",
        party="BRAVO",
        summary="BRAVO's personnel were in the area of separation.",
    )
    assert (issued["state"], issued["outcome"], issued["outcome_party"]) == (
        "issued",
        "substantiated_attributed",
        "BRAVO",
    )
    assert {c["party"]: c["text"] for c in issued["comments"]} == {
        "ALPHA": "Agreed.",
        "BRAVO": "Disputed.",
    }
    due = (clock.now() + timedelta(days=7)).isoformat()
    remedied = api.step(case, "remedy", "supervisor.chair", remedy="Withdraw.", due_at=due)
    assert remedied["remedy"]["party"] == "BRAVO"
    api.step(case, "remedy/verification", "verifier.lead", note="Withdrawn.")
    closed = api.step(case, "close", "supervisor.chair")
    assert closed["state"] == "closed"
    signers = [(t["kind"].split(".", 1)[1], t["organisation"]) for t in closed["timeline"]]
    assert signers[0] == ("complaint.filed", "ALPHA")
    assert ("comment.revealed", None) in signers and signers[-1] == ("case.closed", "SUPERVISOR")
    assert all(t["signed_by"] for t in closed["timeline"] if t["organisation"] == "ALPHA")
    assert [c["state"] for c in api.get("/complaints?state=closed", "bravo.liaison")] == ["closed"]
    assert api.get("/complaints?state=filed", "bravo.liaison") == []
    assert_verifies(db, engine, ledger, clock.now())


def test_a_retry_returns_the_first_result_and_another_request_under_its_id_conflicts(
    api: Api, client: TestClient, table_counts: Callable[[], dict[str, int]]
) -> None:
    first = api.complaint()
    body = {k: first[k] for k in ("allegation", "against", "rule", "location")}
    body |= {"id": first["id"], "occurred_at": first["occurred_at"]}
    before = table_counts()
    again = api.post("/complaints", "alpha.liaison", body, 201)
    assert again["id"] == first["id"] and table_counts() == before
    assert_problem(
        client.post(
            f"{URL}/complaints", json={**body, "rule": "R2"}, headers=api.token_for("alpha.liaison")
        ),
        409,
        "idempotency-conflict",
    )
    step = {"id": str(uuid.uuid4()), "triage": "admissible", "reasons": "In scope."}
    api.post(f"/complaints/{first['id']}/triage", "supervisor.chair", step)
    before = table_counts()
    api.post(f"/complaints/{first['id']}/triage", "supervisor.chair", step)
    assert table_counts() == before
    keyed = {"Idempotency-Key": "visit-1", **api.token_for("verifier.lead")}
    client.post(f"{URL}/complaints/{first['id']}/tasking", json={}, headers=keyed)
    before = table_counts()
    assert (
        client.post(f"{URL}/complaints/{first['id']}/tasking", json={}, headers=keyed).status_code
        == 200
    )
    assert table_counts() == before


def test_each_refusal_is_a_problem_and_writes_nothing(
    api: Api,
    client: TestClient,
    clock: ManualClock,
    table_counts: Callable[[], dict[str, int]],
) -> None:
    triaged = api.complaint()["id"]
    api.step(triaged, "triage", "supervisor.chair", triage="out_of_scope", reasons="Not R1.")
    drafted = _drafted(api)
    unsubstantiated = _drafted(api, "not_substantiated", None)
    clock.advance(72 * HOUR)
    api.step(
        unsubstantiated, "finding", "verifier.lead", outcome="not_substantiated", summary="No."
    )
    late = _drafted(api)
    clock.advance(72 * HOUR + 1)
    users = ("alpha.liaison", "bravo.liaison", "supervisor.chair", "verifier.lead", "host.observer")
    for who in (*users, "cell.admin"):
        api.token_for(who)
    before = table_counts()

    def refused(path: str, who: str, body: dict[str, Any], status: int, code: str) -> None:
        response = client.post(f"{URL}{path}", json=body, headers=api.token_for(who))
        assert_problem(response, status, code)
        assert table_counts() == before, path

    finding = {"outcome": "substantiated_attributed", "party": "BRAVO", "summary": "Mine."}
    # A finding, or a draft, by a party.
    refused(f"/complaints/{drafted}/finding", "alpha.liaison", finding, 403, "forbidden")
    refused(f"/complaints/{late}/draft-finding", "bravo.liaison", finding, 403, "forbidden")
    # A comment after the window.
    refused(f"/complaints/{late}/comments", "alpha.liaison", {"comment": "Late."}, 409, "conflict")
    # A second triage; a triage by anyone but the supervisor.
    again = {"triage": "admissible", "reasons": "On second thoughts."}
    refused(f"/complaints/{triaged}/triage", "supervisor.chair", again, 409, "conflict")
    refused(f"/complaints/{triaged}/triage", "verifier.lead", again, 403, "forbidden")
    # A remedy on an unsubstantiated finding.
    remedy = {"remedy": "Withdraw.", "due_at": (clock.now() + timedelta(days=3)).isoformat()}
    refused(f"/complaints/{unsubstantiated}/remedy", "supervisor.chair", remedy, 409, "conflict")
    # A complaint against an organisation that is not a party.
    complaint = {
        "allegation": "Shelling.",
        "against": "HOST",
        "rule": "R5",
        "location": point(),
        "occurred_at": clock.now().isoformat(),
    }
    refused("/complaints", "alpha.liaison", complaint, 422, "invalid-input")
    # Links the filer may not see are answered as if they did not exist.
    for kind in ("observation", "notification", "incident", "intel_report", "candidate"):
        link = {**complaint, "against": "BRAVO", "links": [{"kind": kind, "id": str(uuid.uuid4())}]}
        refused("/complaints", "alpha.liaison", link, 422, "invalid-input")
    # The finding of an inconclusive case needs a denial; an attributed one names a party.
    refused(
        f"/complaints/{late}/finding",
        "verifier.lead",
        {"outcome": "inconclusive_access_denied", "summary": "No access."},
        422,
        "invalid-input",
    )
    refused(
        f"/complaints/{late}/finding",
        "verifier.lead",
        {"outcome": "substantiated_attributed", "summary": "Someone."},
        422,
        "invalid-input",
    )
    # A party does not file a complaint for an observer, nor does the operator read cases.
    refused("/complaints", "host.observer", {**complaint, "against": "BRAVO"}, 403, "forbidden")
    assert_problem(
        client.get(f"{URL}/complaints", headers=api.token_for("cell.admin")), 403, "forbidden"
    )


def test_a_finding_waits_for_the_window_and_a_party_answers_only_its_own_requests(
    api: Api,
    client: TestClient,
    clock: ManualClock,
    table_counts: Callable[[], dict[str, int]],
) -> None:
    case = _drafted(api)
    api.token_for("alpha.liaison")
    before = table_counts()
    response = client.post(
        f"{URL}/complaints/{case}/finding",
        json={"outcome": "not_substantiated", "summary": "Early."},
        headers=api.token_for("supervisor.chair"),
    )
    assert assert_problem(response, 409, "conflict")["closes_at"]
    investigating = _investigating(api)
    asked = api.step(investigating, "access-requests", "verifier.lead", place="A hill.")
    request = asked["access_requests"][0]["id"]
    before = table_counts()
    response = client.post(
        f"{URL}/complaints/{investigating}/access-requests/{request}/answer",
        json={"answer": "granted"},
        headers=api.token_for("alpha.liaison"),
    )
    assert_problem(response, 403, "forbidden")
    assert table_counts() == before


def test_a_violation_candidate_becomes_a_complaint_in_one_step(
    api: Api, client: TestClient, clock: ManualClock
) -> None:
    where = (35.75, 33.12)  # ALPHA's 0-10 km band

    def tanks(fid: str, count: int) -> dict[str, Any]:
        return {
            "type": "Feature",
            "id": fid,
            "geometry": {"type": "Point", "coordinates": list(where)},
            "properties": {
                "unit": fid,
                "party": "ALPHA",
                "category": "tank",
                "count": count,
                "observed_at": (clock.now() - timedelta(hours=1)).isoformat(),
                "source": "sensor",
            },
        }

    posted = client.post(
        "/api/v1/deescalation/observations",
        json={"type": "FeatureCollection", "features": [tanks("t1", 40), tanks("t2", 38)]},
        headers=api.token_for("verifier.lead"),
    )
    assert posted.status_code == 201, posted.text
    [candidate] = posted.json()["candidates"]
    key = "/".join(
        [
            "verification",
            candidate["rule"],
            candidate["party"],
            candidate["zone"],
            candidate["category"],
            candidate["measure"],
        ]
    )
    case = api.post("/complaints", "bravo.liaison", {"candidate": key}, 201)
    assert (case["against"], case["rule"], case["candidate"]["key"]) == ("ALPHA", "R2", key)
    assert case["location"]["coordinates"] == list(where)
    assert {"kind": "candidate", "id": key} in case["links"]
    assert {link["id"] for link in case["links"] if link["kind"] == "observation"} == set(
        candidate["observations"]
    )
    # A key nobody can see now is answered as a candidate that does not exist.
    response = client.post(
        f"{URL}/complaints", json={"candidate": key + "x"}, headers=api.token_for("bravo.liaison")
    )
    assert_problem(response, 422, "invalid-input")
    # The humanitarian organisation is shown no such candidate.
    response = client.post(
        f"{URL}/complaints", json={"candidate": key}, headers=api.token_for("hum1.coordinator")
    )
    assert_problem(response, 422, "invalid-input")


def test_a_humanitarian_filer_reads_its_own_cases_and_a_party_reads_every_case(
    api: Api, client: TestClient, member: Member
) -> None:
    hum = api.complaint("hum1.coordinator", against=None, rule="C4")["id"]
    alpha = api.complaint()["id"]
    assert {c["id"] for c in api.get("/complaints", "hum1.coordinator")} == {hum}
    assert {c["id"] for c in api.get("/complaints", "bravo.liaison")} == {hum, alpha}
    assert api.get("/complaints", "host.observer") == []
    assert_problem(
        client.get(f"{URL}/complaints/{alpha}", headers=api.token_for("hum1.coordinator")),
        404,
        "not-found",
    )
