"""Meetings: requested through the hotline, minutes drafted by the supervisor, commented on
and agreed once every participating party has signed the same hash, and a decision of the
agreed minutes made a commitment in one step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from tests.diplomacy.factories import DAY, SIGNERS
from tests.diplomacy.test_api import propose, sign
from tests.helpers.problems import assert_problem

from fusioncell.clock import ManualClock

Headers = Callable[[str], dict[str, str]]


def test_minutes_are_agreed_when_both_parties_sign_the_same_draft_and_a_decision_becomes_a_commitment(
    client: TestClient, token_for: Headers, clock: ManualClock
) -> None:
    agreement = propose(client, token_for, clock)
    sign(client, token_for, agreement)
    alpha, bravo, chair = (token_for(u) for u in SIGNERS)
    request = {
        "title": "Review of the withdrawal",
        "agenda": ["Phase 1", "Humanitarian access"],
        "participants": ["ALPHA", "BRAVO"],
        "starts_at": (clock.now() + 2 * DAY).isoformat(),
        "agreement": agreement["id"],
    }
    headers = {**alpha, "Idempotency-Key": "meeting-1"}
    requested = client.post("/api/v1/meetings", json=request, headers=headers)
    assert requested.status_code == 201, requested.text
    meeting = requested.json()
    # The request went through the hotline: BRAVO reads the message that carried it.
    message = client.get(f"/api/v1/messages/{meeting['message']}", headers=bravo)
    assert message.status_code == 200 and "Review of the withdrawal" in message.json()["text"]
    again = client.post("/api/v1/meetings", json=request, headers=headers)
    assert (again.json()["id"], again.json()["message"]) == (meeting["id"], meeting["message"])
    url = f"/api/v1/meetings/{meeting['id']}"
    decision: dict[str, Any] = {
        "key": "D1",
        "text": "BRAVO opens the Quneitra crossing to humanitarian convoys.",
        "commitment": {
            "key": "C4",
            "debtor": "BRAVO",
            "beneficiaries": ["ALPHA"],
            "obligation": "Humanitarian convoys pass the Quneitra crossing.",
            "ends_at": (clock.now() + 60 * DAY).isoformat(),
            "milestones": [
                {
                    "key": "C4.1",
                    "title": "Crossing open",
                    "due_at": (clock.now() + 7 * DAY).isoformat(),
                }
            ],
        },
    }
    assert_problem(
        client.post(f"{url}/minutes", json={"text": "Minutes.", "decisions": []}, headers=alpha),
        403,
        "forbidden",
    )
    first = client.post(
        f"{url}/minutes", json={"text": "Draft one.", "decisions": [decision]}, headers=chair
    )
    assert first.status_code == 200, first.text
    old_hash = first.json()["minutes_hash"]
    client.post(f"{url}/signatures", json={"minutes_hash": old_hash}, headers=alpha)
    commented = client.post(f"{url}/comments", json={"comment": "Add the date."}, headers=bravo)
    assert commented.status_code == 201, commented.text
    second = client.post(
        f"{url}/minutes", json={"text": "Draft two, dated.", "decisions": [decision]}, headers=chair
    ).json()
    new_hash = second["minutes_hash"]
    assert new_hash != old_hash and not second["agreed"]
    assert_problem(
        client.post(f"{url}/signatures", json={"minutes_hash": old_hash}, headers=bravo),
        422,
        "invalid-input",
    )
    assert_problem(
        client.post(f"{url}/decisions/D1/commitment", json={}, headers=chair), 409, "conflict"
    )
    client.post(f"{url}/signatures", json={"minutes_hash": new_hash}, headers=bravo)
    assert not client.get(url, headers=chair).json()["agreed"]  # ALPHA signed the old draft
    done = client.post(f"{url}/signatures", json={"minutes_hash": new_hash}, headers=alpha).json()
    assert done["agreed"]
    assert {(s["party"], s["minutes_hash"]) for s in done["signatures"]} >= {
        ("ALPHA", new_hash),
        ("BRAVO", new_hash),
    }
    adopted = client.post(f"{url}/decisions/D1/commitment", json={}, headers=chair)
    assert adopted.status_code == 201, adopted.text
    body = adopted.json()
    assert body["in_force_version"] == 1 and len(body["versions"]) == 2
    sign(client, token_for, body, number=2)
    after = client.get(f"/api/v1/agreements/{agreement['id']}", headers=bravo).json()
    assert [c["key"] for c in after["commitments"]] == ["C2", "C4"]
    # The host reads no meeting.
    assert_problem(client.get(url, headers=token_for("host.observer")), 404, "not-found")


def test_a_refused_meeting_request_sends_no_hotline_message(
    client: TestClient,
    token_for: Headers,
    clock: ManualClock,
    table_counts: Callable[[], dict[str, int]],
) -> None:
    alpha = token_for("alpha.liaison")
    counts = table_counts()
    for wrong in (
        {"participants": ["ALPHA"]},
        {"agenda": []},
        {"agreement": "00000000-0000-4000-8000-000000000000"},
    ):
        request = {
            "title": "Review",
            "agenda": ["Phase 1"],
            "participants": ["ALPHA", "BRAVO"],
            "starts_at": (clock.now() + DAY).isoformat(),
            **wrong,
        }
        refused = client.post("/api/v1/meetings", json=request, headers=alpha)
        assert refused.status_code in (404, 422), refused.text
    assert table_counts() == counts
    analyst = client.post(
        "/api/v1/meetings",
        json={**request, "agreement": None},
        headers=token_for("alpha.analyst"),
    )
    assert_problem(analyst, 403, "forbidden")
