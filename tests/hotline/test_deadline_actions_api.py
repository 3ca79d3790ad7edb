"""The deadline actions through the API: POST records one (201, idempotent), GET lists what the
viewer may read; every refusal is problem+json with nothing appended to the log."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.helpers.problems import assert_problem
from tests.helpers.tables import count_rows

from fusioncell.clock import ManualClock
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID, bilateral_channel_id
from fusioncell.hotline.models import DeadlineAction
from fusioncell.ledger.entries import log_time
from fusioncell.ledger.models import LogEntry
from fusioncell.scenario.demo import stable_id

BRAVO = stable_id("organisation", "BRAVO")
CELL = f"/api/v1/channels/{CELL_CHANNEL_ID}/messages"
Headers = Callable[[str], dict[str, str]]


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    """The app without its background duties: each test decides what happens when."""
    return TestClient(app, base_url="http://testserver")


def sent_flash(client: TestClient, token_for: Headers) -> str:
    """alpha.liaison's FLASH to the cell channel: BRAVO owes it an acknowledgement."""
    response = client.post(
        CELL,
        json={"precedence": "FLASH", "text": "Convoy at 09:00"},
        headers=token_for("alpha.liaison"),
    )
    assert response.status_code == 201, response.text
    message_id: str = response.json()["id"]
    return message_id


def actions_url(message_id: str) -> str:
    return f"/api/v1/messages/{message_id}/deadline-actions"


def written(db: Session) -> tuple[int, int]:
    return count_rows(db, LogEntry), count_rows(db, DeadlineAction)


def test_a_call_is_201_with_its_id_and_log_index_and_listed_for_the_supervisor_and_the_party(
    client: TestClient, token_for: Headers, clock: ManualClock
) -> None:
    message = sent_flash(client, token_for)
    duty = token_for("supervisor.duty")
    action_id = str(uuid.uuid4())
    due = clock.now() + timedelta(minutes=20)

    call = client.post(
        actions_url(message),
        json={"id": action_id, "organisation": "BRAVO", "kind": "call", "note": "Rang BRAVO"},
        headers=duty,
    )
    follow = client.post(
        actions_url(message),
        json={"organisation": str(BRAVO), "kind": "follow_up", "follow_up_at": log_time(due)},
        headers=duty,
    )

    assert call.status_code == follow.status_code == 201, call.text + follow.text
    body = call.json()
    assert body["id"] == action_id and isinstance(body["log_index"], int)
    assert {k: body[k] for k in ("message_id", "organisation", "kind", "note", "member")} == {
        "message_id": message,
        "organisation": "BRAVO",
        "kind": "call",
        "note": "Rang BRAVO",
        "member": "supervisor.duty",
    }
    assert body["follow_up_at"] is None and body["at"]
    assert follow.json()["follow_up_at"].startswith(log_time(due)[:19])
    assert (follow.json()["note"], follow.json()["organisation"]) == ("", "BRAVO")

    listed = client.get(actions_url(message), headers=token_for("supervisor.chair"))
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()] == [action_id, follow.json()["id"]]
    assert listed.json()[0] == body
    # The party concerned reads them; the sender's party, whom they do not concern, does not.
    assert [
        a["id"] for a in client.get(actions_url(message), headers=token_for("bravo.duty")).json()
    ] == [
        action_id,
        follow.json()["id"],
    ]
    assert client.get(actions_url(message), headers=token_for("alpha.liaison")).json() == []


def test_a_retry_by_id_or_key_returns_the_first_action_and_changed_content_is_409(
    client: TestClient, token_for: Headers, db: Session
) -> None:
    message = sent_flash(client, token_for)
    duty = token_for("supervisor.duty")
    given = {"id": str(uuid.uuid4()), "organisation": "BRAVO", "kind": "relay", "note": "By fax"}
    first = client.post(actions_url(message), json=given, headers=duty).json()
    keyed_headers = {**duty, "Idempotency-Key": "relay-1"}
    keyed_body = {**given, "id": None}
    keyed = client.post(actions_url(message), json=keyed_body, headers=keyed_headers).json()
    before = written(db)

    again = client.post(actions_url(message), json=given, headers=duty)
    assert again.status_code == 201 and again.json() == first
    assert client.post(actions_url(message), json=keyed_body, headers=keyed_headers).json() == keyed
    assert written(db) == before

    conflict = client.post(actions_url(message), json={**given, "note": "By radio"}, headers=duty)
    assert_problem(conflict, 409, "idempotency-conflict")
    assert written(db) == before


BAD: list[tuple[str, dict[str, Any], int, str]] = [
    ("an unknown kind", {"kind": "email"}, 422, "invalid-input"),
    ("no kind", {"kind": None}, 422, "invalid-input"),
    ("a note over 500 characters", {"note": "م" * 501}, 422, "invalid-input"),
    ("a relay that does not say how", {"kind": "relay", "note": " "}, 422, "invalid-input"),
    ("a time on a call", {"follow_up_at": "2099-01-01T10:00:00Z"}, 422, "invalid-input"),
    (
        "a follow-up years ahead",
        {"kind": "follow_up", "follow_up_at": "9999-12-31T23:00:00-14:00"},
        422,
        "invalid-input",
    ),
    (
        "a follow-up time without its zone",
        {"kind": "follow_up", "follow_up_at": "2099-01-01T10:00:00"},
        422,
        "invalid-input",
    ),
    (
        "a follow-up time in the past",
        {"kind": "follow_up", "follow_up_at": "2000-01-01T10:00:00Z"},
        422,
        "invalid-input",
    ),
    ("an organisation nobody knows", {"organisation": "CHARLIE"}, 422, "invalid-input"),
    ("the sender's own party", {"organisation": "ALPHA"}, 422, "invalid-input"),
    ("the supervisor itself", {"organisation": "SUPERVISOR"}, 422, "invalid-input"),
    ("a field of no action", {"urgency": "high"}, 422, "invalid-input"),
]


@pytest.mark.parametrize(("case", "change", "status", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_problem_and_appends_nothing(
    client: TestClient,
    token_for: Headers,
    db: Session,
    case: str,
    change: dict[str, Any],
    status: int,
    code: str,
) -> None:
    message = sent_flash(client, token_for)
    duty = token_for("supervisor.duty")  # a token is itself an entry
    before = written(db)

    response = client.post(
        actions_url(message),
        json={"organisation": "BRAVO", "kind": "call", "note": "Rang them", **change},
        headers=duty,
    )

    assert_problem(response, status, code)
    assert written(db) == before


@pytest.mark.parametrize(
    ("username", "where", "status", "code"),
    [
        ("bravo.duty", "cell", 403, "forbidden"),  # the party concerned itself
        ("alpha.liaison", "cell", 403, "forbidden"),
        ("supervisor.duty", "nowhere", 404, "not-found"),
    ],
)
def test_who_may_not_record_or_what_does_not_exist_is_a_problem_and_appends_nothing(
    client: TestClient,
    token_for: Headers,
    db: Session,
    username: str,
    where: str,
    status: int,
    code: str,
) -> None:
    message = sent_flash(client, token_for) if where == "cell" else str(uuid.uuid4())
    headers = token_for(username)  # a token is itself an entry
    before = written(db)

    response = client.post(
        actions_url(message),
        json={"organisation": "BRAVO", "kind": "call", "note": "Rang them"},
        headers=headers,
    )

    assert_problem(response, status, code)
    assert written(db) == before


def test_the_list_is_not_found_for_a_message_the_viewer_may_not_see(
    client: TestClient, token_for: Headers
) -> None:
    for_bravo = client.post(
        f"/api/v1/channels/{bilateral_channel_id(BRAVO)}/messages",
        json={"precedence": "FLASH", "text": "For BRAVO only"},
        headers=token_for("supervisor.chair"),
    ).json()["id"]
    recorded = client.post(
        actions_url(for_bravo),
        json={"organisation": "BRAVO", "kind": "call", "note": "Rang them"},
        headers=token_for("supervisor.duty"),
    )
    assert recorded.status_code == 201, recorded.text

    for username in ("alpha.duty", "hum1.coordinator"):
        assert_problem(
            client.get(actions_url(for_bravo), headers=token_for(username)), 404, "not-found"
        )
    assert_problem(
        client.get(actions_url(str(uuid.uuid4())), headers=token_for("supervisor.duty")),
        404,
        "not-found",
    )
    assert len(client.get(actions_url(for_bravo), headers=token_for("bravo.liaison")).json()) == 1
