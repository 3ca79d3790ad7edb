"""The diplomatic track through its API: agreements signed by every party and the
supervisor, commitments with milestones, a milestone's assessment after a sealed comment
window with the de-escalation engine's result beside it, and the refusals (problem+json,
nothing written)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from tests.diplomacy.factories import DAY, DOCUMENT, SIGNERS, terms, withdrawal
from tests.helpers.problems import assert_problem

from fusioncell.clock import ManualClock

Headers = Callable[[str], dict[str, str]]
TANKS_AT_ALPHA_0_10 = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": f"t{n}",
            "geometry": {"type": "Point", "coordinates": [35.75, 33.12]},
            "properties": {
                "unit": f"t{n}",
                "party": "ALPHA",
                "category": "tank",
                "count": 40,
                "observed_at": "2026-01-06T07:00:00Z",
                "source": "inspection",
            },
        }
        for n in (1, 2)
    ],
}


def _body(clock: ManualClock, **more: Any) -> dict[str, Any]:
    given = terms(clock.now(), **more)
    given["date"] = given.pop("dated")
    return given


def propose(
    client: TestClient, token_for: Headers, clock: ManualClock, **more: Any
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/agreements", json=_body(clock, **more), headers=token_for("supervisor.chair")
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def sign(
    client: TestClient, token_for: Headers, agreement: dict[str, Any], number: int = 1
) -> None:
    version = agreement["versions"][number - 1]
    for username in SIGNERS:
        response = client.post(
            f"/api/v1/agreements/{agreement['id']}/versions/{number}/signatures",
            json={"content_hash": version["content_hash"]},
            headers=token_for(username),
        )
        assert response.status_code == 201, response.text


def test_an_agreement_is_in_force_once_every_party_and_the_supervisor_have_signed_its_hash(
    client: TestClient,
    token_for: Headers,
    clock: ManualClock,
    table_counts: Callable[[], dict[str, int]],
) -> None:
    agreement = propose(client, token_for, clock)
    [version] = agreement["versions"]
    assert version["signatories"] == ["ALPHA", "BRAVO", "SUPERVISOR"]
    assert agreement["in_force_version"] is None and agreement["commitments"] == []
    url = f"/api/v1/agreements/{agreement['id']}/versions/1/signatures"
    # A hash other than the version's is refused, nothing written.
    alpha = token_for("alpha.liaison")
    counts = table_counts()
    wrong = client.post(url, json={"content_hash": "0" * 64}, headers=alpha)
    assert assert_problem(wrong, 422, "invalid-input")["content_hash"] == version["content_hash"]
    assert table_counts() == counts
    # Signing twice is one signature.
    first = client.post(
        url, json={"content_hash": version["content_hash"]}, headers=token_for("alpha.liaison")
    )
    again = client.post(
        url, json={"content_hash": version["content_hash"]}, headers=token_for("alpha.liaison")
    )
    assert first.json()["log_index"] == again.json()["log_index"]
    # Neither the verifier nor an analyst signs.
    for username in ("verifier.lead",):
        refused = client.post(
            url, json={"content_hash": version["content_hash"]}, headers=token_for(username)
        )
        assert_problem(refused, 403, "forbidden")
    for username in ("bravo.liaison", "supervisor.chair"):
        client.post(
            url, json={"content_hash": version["content_hash"]}, headers=token_for(username)
        )
    found = client.get(f"/api/v1/agreements/{agreement['id']}", headers=token_for("bravo.liaison"))
    body = found.json()
    assert body["in_force_version"] == 1 and body["versions"][0]["awaiting"] == []
    [commitment] = body["commitments"]
    assert (commitment["key"], commitment["debtor"]) == ("C2", "ALPHA")
    assert [m["key"] for m in commitment["milestones"]] == ["C2.1", "C2.2", "C2.3"]
    assert [m["status"] for m in commitment["milestones"]] == ["open"] * 3
    # The host and the humanitarian organisation read no agreement; the operator neither.
    for username in ("host.observer",):
        assert client.get("/api/v1/agreements", headers=token_for(username)).status_code == 403
        hidden = client.get(f"/api/v1/agreements/{agreement['id']}", headers=token_for(username))
        assert_problem(hidden, 404, "not-found")
    assert_problem(
        client.get("/api/v1/agreements", headers=token_for("cell.admin")), 403, "forbidden"
    )


def test_a_retry_proposes_nothing_twice_and_bad_terms_are_refused(
    client: TestClient,
    token_for: Headers,
    clock: ManualClock,
    table_counts: Callable[[], dict[str, int]],
) -> None:
    headers = {**token_for("alpha.liaison"), "Idempotency-Key": "draft-1"}
    first = client.post("/api/v1/agreements", json=_body(clock), headers=headers)
    counts = table_counts()
    again = client.post("/api/v1/agreements", json=_body(clock), headers=headers)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert table_counts() == counts
    other = client.post("/api/v1/agreements", json=_body(clock, title="Other"), headers=headers)
    assert_problem(other, 409, "idempotency-conflict")
    alpha = token_for("alpha.liaison")
    counts = table_counts()
    late = withdrawal(clock.now())
    late["milestones"][0]["due_at"] = (clock.now() + 91 * DAY).isoformat()
    refused = client.post(
        "/api/v1/agreements",
        json=_body(clock, commitments=[late]),
        headers=alpha,
    )
    assert assert_problem(refused, 422, "invalid-input")["field"] == "due_at"
    stranger = _body(clock, parties=["ALPHA", "NOBODY"])
    assert_problem(
        client.post("/api/v1/agreements", json=stranger, headers=alpha),
        422,
        "invalid-input",
    )
    assert table_counts() == counts


def test_a_milestone_is_assessed_after_its_due_date_and_comment_window_with_evidence_and_the_engine_result(
    client: TestClient, token_for: Headers, clock: ManualClock
) -> None:
    observed = client.post(
        "/api/v1/deescalation/observations",
        json=TANKS_AT_ALPHA_0_10,
        headers=token_for("verifier.lead"),
    )
    assert observed.status_code == 201, observed.text
    agreement = propose(client, token_for, clock)
    sign(client, token_for, agreement)
    body = client.get(
        f"/api/v1/agreements/{agreement['id']}", headers=token_for("supervisor.chair")
    )
    milestone = body.json()["commitments"][0]["milestones"][0]
    url = f"/api/v1/milestones/{milestone['id']}"
    chair, verifier = token_for("supervisor.chair"), token_for("verifier.lead")
    assess = {
        "outcome": "breached",
        "reasons": "Tanks remain.",
        "evidence": [{"kind": "document", "id": DOCUMENT}],
    }
    # Not before the due date.
    assert_problem(client.post(f"{url}/verification", json={}, headers=chair), 409, "conflict")
    assert_problem(client.post(f"{url}/assessment", json=assess, headers=verifier), 409, "conflict")
    clock.advance(10 * DAY.total_seconds())
    chair, verifier = token_for("supervisor.chair"), token_for("verifier.lead")
    listed = client.get("/api/v1/milestones", headers=chair).json()
    assert [m["status"] for m in listed][:1] == ["due"]
    requested = client.post(f"{url}/verification", json={}, headers=chair)
    assert requested.status_code == 200, requested.text
    assert requested.json()["status"] == "requested"
    for username, said in (("alpha.liaison", "ALPHA left."), ("bravo.liaison", "Tanks remain.")):
        posted = client.post(f"{url}/comments", json={"comment": said}, headers=token_for(username))
        assert posted.status_code == 201, posted.text
    seen = client.get(url, headers=token_for("alpha.liaison")).json()["comments"]
    assert [(c["party"], c["sealed"], c["text"]) for c in seen] == [
        ("ALPHA", True, "ALPHA left."),
        ("BRAVO", True, None),
    ]
    # The window is open: the assessment waits; the parties may not assess.
    assert_problem(client.post(f"{url}/assessment", json=assess, headers=verifier), 409, "conflict")
    clock.advance(timedelta(hours=72).total_seconds())
    verifier = token_for("verifier.lead")
    assert_problem(
        client.post(f"{url}/assessment", json=assess, headers=token_for("alpha.liaison")),
        403,
        "forbidden",
    )
    bare = {**assess, "evidence": []}
    assert (
        assert_problem(
            client.post(f"{url}/assessment", json=bare, headers=verifier), 422, "invalid-input"
        )["field"]
        == "evidence"
    )
    done = client.post(f"{url}/assessment", json=assess, headers=verifier)
    assert done.status_code == 200, done.text
    result = done.json()
    assert (result["status"], result["outcome"]) == ("assessed", "breached")
    engine = result["engine_result"]
    assert (engine["party"], engine["rule"], engine["compliant"]) == ("ALPHA", "R2", False)
    assert [c["value"] for c in engine["candidates"]] == [80]
    # Both comments revealed, to both parties.
    revealed = client.get(url, headers=token_for("bravo.liaison")).json()["comments"]
    assert [(c["sealed"], c["text"]) for c in revealed] == [
        (False, "ALPHA left."),
        (False, "Tanks remain."),
    ]


def test_a_waiver_takes_effect_only_once_every_signatory_has_signed_the_amendment(
    client: TestClient, token_for: Headers, clock: ManualClock
) -> None:
    agreement = propose(client, token_for, clock)
    sign(client, token_for, agreement)
    waived = withdrawal(clock.now())
    waived["milestones"][2]["waived"] = True
    amendment = {
        "title": "Phase 3 waived",
        "text": "The third phase is waived.",
        "date": "2026-01-20",
        "commitments": [waived],
    }
    url = f"/api/v1/agreements/{agreement['id']}"
    posted = client.post(f"{url}/amendments", json=amendment, headers=token_for("bravo.liaison"))
    assert posted.status_code == 201, posted.text
    version = posted.json()["versions"][1]
    for username in SIGNERS[:2]:
        client.post(
            f"{url}/versions/2/signatures",
            json={"content_hash": version["content_hash"]},
            headers=token_for(username),
        )
    before = client.get(url, headers=token_for("alpha.liaison")).json()
    assert before["in_force_version"] == 1
    assert before["commitments"][0]["milestones"][2]["status"] == "open"
    client.post(
        f"{url}/versions/2/signatures",
        json={"content_hash": version["content_hash"]},
        headers=token_for("supervisor.chair"),
    )
    after = client.get(url, headers=token_for("alpha.liaison")).json()
    assert after["in_force_version"] == 2 and after["title"] == "Phase 3 waived"
    assert [m["status"] for m in after["commitments"][0]["milestones"]] == [
        "open",
        "open",
        "waived",
    ]
    # The first version can no longer be signed by anyone who had not.
    stale = client.post(
        f"{url}/versions/1/signatures",
        json={"content_hash": agreement["versions"][0]["content_hash"]},
        headers=token_for("alpha.liaison"),
    )
    assert stale.status_code == 201  # ALPHA's first signature, returned again
