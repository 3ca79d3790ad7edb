"""The hotline's REST API: what it answers, and for every bad request a problem+json with
nothing appended to the log. Also the API client that signs with the member's own key."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.helpers.problems import assert_problem
from tests.helpers.tables import count_rows

from fusioncell.client import CellClient, ClientError, hotline_policy_hash, message_body
from fusioncell.clock import ManualClock
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID, bilateral_channel_id
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.models import Message
from fusioncell.ledger.entries import b64, key_id, unb64
from fusioncell.ledger.models import LogEntry
from fusioncell.ledger.signing import ENTRY_HEADER, encode_entry_header, sign_entry
from fusioncell.scenario.demo import stable_id

ALPHA = stable_id("organisation", "ALPHA")
BRAVO = stable_id("organisation", "BRAVO")
CELL = f"/api/v1/channels/{CELL_CHANNEL_ID}/messages"
POINT = {"type": "Point", "coordinates": [35.85, 33.15]}
DIGEST = "ab" * 32


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    """The app without its lifespan: nothing runs in the background (no checkpointer, no
    engine, no LISTEN connection), so each test decides what happens when."""
    return TestClient(app, base_url="http://testserver")


Headers = Callable[[str], dict[str, str]]


def count_entries(db: Session) -> int:
    return count_rows(db, LogEntry)


def count_messages(db: Session) -> int:
    return count_rows(db, Message)


def post_flash(client: TestClient, headers: dict[str, str], **extra: Any) -> Any:
    return client.post(
        CELL, json={"precedence": "FLASH", "text": "Convoy at 09:00", **extra}, headers=headers
    )


# --- reading and sending -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "names"),
    [
        ("alpha.liaison", ["ALPHA / SUPERVISOR", "Cell"]),
        ("supervisor.chair", ["ALPHA / SUPERVISOR", "BRAVO / SUPERVISOR", "Cell"]),
        ("host.observer", ["Cell"]),
        ("hum1.coordinator", []),
    ],
)
def test_a_member_lists_only_the_channels_their_organisation_belongs_to(
    client: TestClient, token_for: Headers, username: str, names: list[str]
) -> None:
    response = client.get("/api/v1/channels", headers=token_for(username))

    assert response.status_code == 200
    assert sorted(c["name"] for c in response.json()) == names
    for channel in response.json():
        assert "SUPERVISOR" in channel["members"]


def test_sending_answers_201_with_the_id_the_log_index_and_the_deadlines(
    client: TestClient, token_for: Headers, db: Session, clock: ManualClock
) -> None:
    message_id = uuid.uuid4()

    response = post_flash(client, token_for("alpha.liaison"), id=str(message_id))

    assert response.status_code == 201, response.text
    sent = response.json()
    entry = db.get(LogEntry, sent["log_index"])
    assert entry is not None and entry.entry_type == HotlineEntry.MESSAGE_SENT
    assert (sent["id"], sent["sender"], sent["sender_organisation"]) == (
        str(message_id),
        "alpha.liaison",
        "ALPHA",
    )
    assert sent["leaf_hash"] == b64(entry.leaf_hash)
    assert sent["delivered_deadline"].startswith("2026-01-06T08:00:15")
    assert sent["ack_deadline"].startswith("2026-01-06T08:02:00")
    assert sent["recipients"] == [
        {"organisation": "BRAVO", "delivered_at": None, "acknowledged_at": None}
    ]

    listed = client.get(CELL, headers=token_for("bravo.duty"))

    assert [m["id"] for m in listed.json()] == [str(message_id)]
    [recipient] = listed.json()[0]["recipients"]
    assert recipient["delivered_at"] is not None  # fetching it was BRAVO's delivery
    assert listed.json()[0]["deliveries"][0]["member"] == "bravo.duty"


def test_a_retry_with_the_same_id_or_key_returns_the_first_message_and_a_changed_one_is_409(
    client: TestClient, token_for: Headers, db: Session
) -> None:
    headers = token_for("alpha.liaison")
    message_id = str(uuid.uuid4())
    first = post_flash(client, headers, id=message_id).json()
    keyed = post_flash(client, {**headers, "Idempotency-Key": "k-1"}).json()
    before = count_entries(db)

    assert post_flash(client, headers, id=message_id).json()["log_index"] == first["log_index"]
    again = post_flash(client, {**headers, "Idempotency-Key": "k-1"}).json()
    assert (again["id"], again["log_index"]) == (keyed["id"], keyed["log_index"])
    assert count_entries(db) == before

    conflict = post_flash(client, headers, id=message_id, text="Convoy at 10:00")
    assert_problem(conflict, 409, "idempotency-conflict")
    assert count_entries(db) == before


BAD_SENDS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("an unknown channel", f"/api/v1/channels/{uuid.uuid4()}/messages", {}, 404, "not-found"),
    (
        "a channel the sender is not in",
        f"/api/v1/channels/{bilateral_channel_id(BRAVO)}/messages",
        {},
        404,
        "not-found",
    ),
    ("a precedence not in the policy", CELL, {"precedence": "URGENT"}, 422, "invalid-input"),
    ("an empty text", CELL, {"text": "   "}, 422, "invalid-input"),
    ("an oversize text", CELL, {"text": "é" * 8001}, 422, "invalid-input"),
    (
        "text beside a template",
        CELL,
        {"template": "clarification_request", "fields": {"subject": "a", "question": "b"}},
        422,
        "invalid-input",
    ),
    ("fields without a template", CELL, {"fields": {"subject": "a"}}, 422, "invalid-input"),
    (
        "an unknown template",
        CELL,
        {"text": None, "template": "surrender_terms", "fields": {}},
        422,
        "invalid-input",
    ),
    (
        "an oversize attachment",
        CELL,
        {"attachments": [{"sha256": DIGEST, "size": 1_048_577, "name": "map.png"}]},
        422,
        "invalid-input",
    ),
    (
        "too many attachments",
        CELL,
        {"attachments": [{"sha256": DIGEST, "size": 10, "name": f"{n}.png"} for n in range(9)]},
        422,
        "invalid-input",
    ),
    (
        "an attachment without a hash",
        CELL,
        {"attachments": [{"sha256": "not-a-hash", "size": 10, "name": "map.png"}]},
        422,
        "invalid-input",
    ),
    ("an unexpected field", CELL, {"colour": "red"}, 422, "invalid-input"),
    ("a malformed id", CELL, {"id": "not-a-uuid"}, 422, "invalid-input"),
    (
        "an attachment size of true",
        CELL,
        {"attachments": [{"sha256": DIGEST, "size": True, "name": "map.png"}]},
        422,
        "invalid-input",
    ),
    (
        "an attachment size given as a string",
        CELL,
        {"attachments": [{"sha256": DIGEST, "size": "7", "name": "map.png"}]},
        422,
        "invalid-input",
    ),
    (
        "an attachment size with a fraction",
        CELL,
        {"attachments": [{"sha256": DIGEST, "size": 7.0, "name": "map.png"}]},
        422,
        "invalid-input",
    ),
]


@pytest.mark.parametrize(
    ("path", "change", "status", "kind"),
    [case[1:] for case in BAD_SENDS],
    ids=[case[0] for case in BAD_SENDS],
)
def test_a_bad_send_is_a_problem_and_appends_nothing(
    client: TestClient,
    token_for: Headers,
    db: Session,
    path: str,
    change: dict[str, Any],
    status: int,
    kind: str,
) -> None:
    headers = token_for("alpha.liaison")
    before = (count_entries(db), count_messages(db))

    response = client.post(
        path, json={"precedence": "FLASH", "text": "Convoy at 09:00", **change}, headers=headers
    )

    assert_problem(response, status, kind)
    assert (count_entries(db), count_messages(db)) == before


def test_a_precedence_not_in_the_policy_names_the_ones_that_are(
    client: TestClient, token_for: Headers
) -> None:
    response = post_flash(client, token_for("alpha.liaison"), precedence="URGENT")

    assert assert_problem(response, 422, "invalid-input")["precedences"] == [
        "FLASH",
        "IMMEDIATE",
        "PRIORITY",
        "ROUTINE",
    ]


def test_a_template_with_missing_and_malformed_fields_lists_each_problem(
    client: TestClient, token_for: Headers, db: Session
) -> None:
    headers = token_for("alpha.liaison")
    before = count_entries(db)

    response = client.post(
        CELL,
        json={
            "precedence": "IMMEDIATE",
            "template": "medevac_request",
            "fields": {"patients": 0, "urgency": "whenever", "location": {"type": "Point"}},
        },
        headers=headers,
    )

    body = assert_problem(response, 422, "invalid-input")
    assert body["errors"] == [
        {"field": "patients", "message": "must be a whole number from 1 to 500"},
        {"field": "urgency", "message": "must be one of urgent, priority, routine"},
        {"field": "crossing", "message": "missing"},
        {"field": "location", "message": "must be a GeoJSON geometry"},
    ]
    assert count_entries(db) == before


def test_an_activity_window_that_ends_before_it_starts_is_refused(
    client: TestClient, token_for: Headers
) -> None:
    response = client.post(
        CELL,
        json={
            "precedence": "PRIORITY",
            "template": "activity_notification",
            "fields": {
                "activity": "Exercise",
                "starts_at": "2026-01-06T12:00:00Z",
                "ends_at": "2026-01-06T10:00:00Z",
                "area": {
                    "type": "Polygon",
                    "coordinates": [[[35.8, 33.1], [35.9, 33.1], [35.9, 33.2], [35.8, 33.1]]],
                },
            },
        },
        headers=token_for("alpha.liaison"),
    )

    assert assert_problem(response, 422, "invalid-input")["errors"] == [
        {"field": "ends_at", "message": "must be after starts_at"}
    ]


def test_a_body_over_the_server_limit_is_413_and_appends_nothing(
    client: TestClient, token_for: Headers, db: Session
) -> None:
    headers = token_for("alpha.liaison")
    before = count_entries(db)

    response = post_flash(client, headers, text="x" * 1_100_000)

    assert assert_problem(response, 413, "payload-too-large")["limit"] == 1_048_576
    assert count_entries(db) == before


# --- relay -------------------------------------------------------------------------------------


def test_the_supervisor_relays_through_the_api_and_a_party_is_refused(
    client: TestClient, token_for: Headers, db: Session
) -> None:
    original = post_flash(client, token_for("alpha.liaison")).json()
    target = {"channel_id": str(bilateral_channel_id(BRAVO))}
    party = token_for("bravo.liaison")
    before = count_entries(db)

    refused = client.post(f"/api/v1/messages/{original['id']}/relay", json=target, headers=party)
    assert_problem(refused, 403, "forbidden")
    assert count_entries(db) == before

    relayed = client.post(
        f"/api/v1/messages/{original['id']}/relay",
        json=target,
        headers=token_for("supervisor.chair"),
    )
    assert relayed.status_code == 201, relayed.text
    assert relayed.json()["relay_of"] == original["id"]
    assert relayed.json()["channel_id"] == target["channel_id"]


# --- acknowledgement ---------------------------------------------------------------------------


def test_acks_through_the_api_first_counts_second_is_recorded_duplicate_is_409(
    client: TestClient, token_for: Headers, db: Session, app: FastAPI
) -> None:
    sent = post_flash(client, token_for("alpha.liaison")).json()
    signed = app.state.checkpointer.run_once()
    ack = f"/api/v1/messages/{sent['id']}/ack"
    duty = token_for("bravo.duty")

    first = client.post(ack, json={"checkpoint_size": signed.size}, headers=duty)
    second = client.post(ack, headers=token_for("bravo.liaison"))

    assert first.status_code == second.status_code == 201, first.text + second.text
    assert (first.json()["counts"], first.json()["checkpoint_size"]) == (True, signed.size)
    assert (second.json()["counts"], second.json()["organisation"]) == (False, "BRAVO")
    before = count_entries(db)
    assert_problem(client.post(ack, headers=duty), 409, "conflict")
    assert count_entries(db) == before

    shown = client.get(f"/api/v1/messages/{sent['id']}", headers=token_for("alpha.liaison"))
    assert [(a["member"], a["counts"]) for a in shown.json()["acks"]] == [
        ("bravo.duty", True),
        ("bravo.liaison", False),
    ]
    [recipient] = shown.json()["recipients"]
    assert recipient["acknowledged_at"] == first.json()["at"]


@pytest.mark.parametrize(
    ("username", "channel", "status", "kind"),
    [
        ("alpha.duty", "BRAVO", 404, "not-found"),  # a message the member cannot see
        ("hum1.coordinator", "cell", 404, "not-found"),
        ("alpha.duty", "cell", 403, "forbidden"),  # the sender's own party
        ("host.observer", "cell", 403, "forbidden"),
    ],
)
def test_an_ack_by_a_member_who_cannot_give_it_is_a_problem_and_appends_nothing(
    client: TestClient,
    token_for: Headers,
    db: Session,
    username: str,
    channel: str,
    status: int,
    kind: str,
) -> None:
    if channel == "cell":
        sent = post_flash(client, token_for("alpha.liaison")).json()
    else:
        sent = client.post(
            f"/api/v1/channels/{bilateral_channel_id(BRAVO)}/messages",
            json={"precedence": "FLASH", "text": "For BRAVO only"},
            headers=token_for("supervisor.chair"),
        ).json()
    headers = token_for(username)
    before = count_entries(db)

    response = client.post(f"/api/v1/messages/{sent['id']}/ack", headers=headers)

    assert_problem(response, status, kind)
    assert count_entries(db) == before


def test_an_ack_citing_a_checkpoint_the_log_never_signed_is_refused(
    client: TestClient, token_for: Headers, db: Session
) -> None:
    sent = post_flash(client, token_for("alpha.liaison")).json()
    headers = token_for("bravo.duty")
    before = count_entries(db)

    response = client.post(
        f"/api/v1/messages/{sent['id']}/ack", json={"checkpoint_size": 10_000}, headers=headers
    )

    assert_problem(response, 422, "invalid-input")
    assert count_entries(db) == before


def test_a_message_shows_its_escalations_once_the_engine_has_written_them(
    client: TestClient, token_for: Headers, app: FastAPI, clock: ManualClock
) -> None:
    sent = post_flash(client, token_for("alpha.liaison")).json()

    clock.advance(125)
    app.state.hotline_engine.run_once()

    shown = client.get(f"/api/v1/messages/{sent['id']}", headers=token_for("supervisor.duty"))
    assert [(e["organisation"], e["step"]) for e in shown.json()["escalations"]] == [
        ("BRAVO", 0),
        ("BRAVO", 1),
    ]
    assert shown.json()["escalations"][1]["notify"] == [
        "party_duty_officer",
        "supervisor_duty_officer",
    ]


# --- the member's own key ----------------------------------------------------------------------


def own_key(
    client: TestClient, token_for: Headers, clock: ManualClock, username: str
) -> tuple[CellClient, Ed25519PrivateKey]:
    api = CellClient("http://testserver", http=client, now=clock.now)
    api.token = token_for(username)["Authorization"].removeprefix("Bearer ")
    private = Ed25519PrivateKey.generate()
    api.enroll(private)
    return api, private


def test_messages_and_acks_signed_with_the_members_own_keys_are_not_custodial(
    client: TestClient, token_for: Headers, clock: ManualClock, db: Session, app: FastAPI
) -> None:
    alpha, alpha_key = own_key(client, token_for, clock, "alpha.liaison")
    bravo, bravo_key = own_key(client, token_for, clock, "bravo.duty")

    sent = alpha.send_message(
        alpha_key,
        channel_id=CELL_CHANNEL_ID,
        precedence="IMMEDIATE",
        template="incident_alert",
        fields={
            "occurred_at": "2026-01-06T07:55:00Z",
            "description": "  Shots heard near the crossing ",
            "location": POINT,
        },
        attachments=[{"sha256": DIGEST, "size": 2048, "name": "photo.jpg"}],
    )
    app.state.checkpointer.run_once()
    checkpoint = bravo.verified_checkpoint(bravo.log_key())
    bravo.check_inclusion(checkpoint, index=sent["log_index"], leaf_hash=unb64(sent["leaf_hash"]))
    message = bravo.get(f"/api/v1/messages/{sent['id']}")
    acked = bravo.acknowledge_message(bravo_key, message, checkpoint)

    db.rollback()
    sent_entry, ack_entry = (
        db.get(LogEntry, sent["log_index"]),
        db.get(LogEntry, acked["log_index"]),
    )
    assert sent_entry is not None and ack_entry is not None
    assert (sent_entry.custodial, sent_entry.author_key_id) == (False, _id(alpha_key))
    assert (ack_entry.custodial, ack_entry.author_key_id) == (False, _id(bravo_key))
    assert sent["fields"]["description"] == "Shots heard near the crossing"
    assert (acked["counts"], acked["checkpoint_size"]) == (True, checkpoint.size)


def test_a_retry_of_a_signed_send_returns_the_first_message(
    client: TestClient, token_for: Headers, clock: ManualClock, db: Session
) -> None:
    api, private = own_key(client, token_for, clock, "alpha.liaison")
    message_id = uuid.uuid4()
    first = api.send_message(
        private, channel_id=CELL_CHANNEL_ID, precedence="FLASH", text="x", message_id=message_id
    )
    before = count_entries(db)

    again = api.send_message(
        private, channel_id=CELL_CHANNEL_ID, precedence="FLASH", text="x", message_id=message_id
    )

    assert again["log_index"] == first["log_index"]
    assert count_entries(db) == before


def test_a_signature_over_another_body_than_the_request_is_refused_and_appends_nothing(
    client: TestClient, token_for: Headers, clock: ManualClock, db: Session
) -> None:
    api, private = own_key(client, token_for, clock, "alpha.liaison")
    policy = api.get("/api/v1/log/policy")
    message_id = uuid.uuid4()
    body = message_body(
        message_id=message_id,
        channel_id=CELL_CHANNEL_ID,
        sender="alpha.liaison",
        precedence="FLASH",
        text="Convoy at 09:00",
        template=None,
        fields=None,
        attachments=[],
        hotline_policy=hotline_policy_hash(policy["policy"]),
    )
    header, signature, salt = sign_entry(
        private,
        HotlineEntry.MESSAGE_SENT.value,
        body,
        policy_hash=policy["hash"],
        now=clock.now(),
        custodial=False,
    )
    before = count_entries(db)

    response = client.post(
        CELL,
        json={"id": str(message_id), "precedence": "FLASH", "text": "Convoy at 11:00"},
        headers={
            "Authorization": f"Bearer {api.token}",
            ENTRY_HEADER: encode_entry_header(header, signature, salt),
        },
    )

    assert_problem(response, 422, "body-mismatch")
    assert count_entries(db) == before


def test_the_client_refuses_a_template_with_bad_fields_before_signing(
    client: TestClient, token_for: Headers, clock: ManualClock, db: Session
) -> None:
    api, private = own_key(client, token_for, clock, "alpha.liaison")
    before = count_entries(db)

    with pytest.raises(ClientError, match=r"patients: must be a whole number.*crossing: missing"):
        api.send_message(
            private,
            channel_id=CELL_CHANNEL_ID,
            precedence="FLASH",
            template="medevac_request",
            fields={"patients": -1, "urgency": "urgent", "location": POINT},
        )
    assert count_entries(db) == before


def _id(private: Ed25519PrivateKey) -> str:
    return key_id(private.public_key().public_bytes_raw())


def test_the_client_refuses_a_served_message_that_is_not_what_the_log_holds(
    client: TestClient, token_for: Headers, clock: ManualClock, app: FastAPI
) -> None:
    sent = post_flash(client, token_for("alpha.liaison")).json()
    first = app.state.checkpointer.run_once()
    api = CellClient("http://testserver", http=client, now=clock.now)
    api.token = token_for("bravo.duty")["Authorization"].removeprefix("Bearer ")
    checkpoint = api.verified_checkpoint(api.log_key())
    message = api.get(f"/api/v1/messages/{sent['id']}")

    assert checkpoint.size == first.size
    assert api.check_message(checkpoint, message) == clock.now()
    with pytest.raises(ClientError, match="differs from the body its entry commits to"):
        api.check_message(checkpoint, {**message, "text": "Convoy at 11:00"})
    with pytest.raises(ClientError, match="does not hash to the message's leaf hash"):
        api.check_message(checkpoint, {**message, "leaf_hash": b64(bytes(32))})
    with pytest.raises(ClientError, match=f"entry {sent['log_index']} is not proven"):
        api.check_inclusion(checkpoint, index=sent["log_index"], leaf_hash=bytes(32))

    clock.advance(1)
    post_flash(client, token_for("alpha.liaison"))
    assert app.state.checkpointer.run_once() is not None
    newer = api.verified_checkpoint(api.log_key())
    assert newer.size > checkpoint.size
    api.check_consistency(checkpoint, newer)
    forked = replace(newer, root_hash=bytes(32))
    with pytest.raises(ClientError, match=f"checkpoint {newer.size} does not extend"):
        api.check_consistency(checkpoint, forked)


# --- paging ----------------------------------------------------------------------------------


def test_a_before_cursor_that_is_hidden_from_the_viewer_answers_as_one_that_never_existed(
    client: TestClient, token_for: Headers
) -> None:
    alpha, bravo = token_for("alpha.liaison"), token_for("bravo.duty")
    bilateral = f"/api/v1/channels/{bilateral_channel_id(ALPHA)}/messages"
    hidden = client.post(
        bilateral, json={"precedence": "ROUTINE", "text": "For the supervisor."}, headers=alpha
    )
    assert hidden.status_code == 201, hidden.text
    for text in ("first", "second"):
        sent = client.post(CELL, json={"precedence": "ROUTINE", "text": text}, headers=alpha)
        assert sent.status_code == 201, sent.text
    hidden_id, unknown_id = hidden.json()["id"], str(uuid.uuid4())

    answers = [
        client.get(CELL, params={"before": c}, headers=bravo) for c in (hidden_id, unknown_id)
    ]

    bodies = [assert_problem(answer, 404, "not-found") for answer in answers]
    for body, cursor in zip(bodies, (hidden_id, unknown_id), strict=True):
        body["detail"] = body["detail"].replace(cursor, "<id>")
    assert bodies[0] == bodies[1]


def test_a_visible_before_cursor_pages_to_the_older_messages(
    client: TestClient, token_for: Headers
) -> None:
    alpha, bravo = token_for("alpha.liaison"), token_for("bravo.duty")
    sent = [
        client.post(CELL, json={"precedence": "ROUTINE", "text": text}, headers=alpha).json()["id"]
        for text in ("first", "second", "third")
    ]

    older = client.get(CELL, params={"before": sent[2]}, headers=bravo)

    assert older.status_code == 200, older.text
    assert [m["id"] for m in older.json()] == [sent[1], sent[0]]
