"""Client-chosen ids belong to their author; the cell's own ids cannot be guessed.

The audit: ALPHA, posting with BRAVO's next link-test id first, made BRAVO's link test never
happen; the global id space answered 409 for an id in a channel the caller cannot see; a
retry with another member's id and the same content returned *their* message.
"""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.helpers.problems import assert_problem
from tests.helpers.tables import count_rows

from fusioncell.clock import ManualClock
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID, bilateral_channel_id
from fusioncell.hotline.actions.messages import do_send_link_test
from fusioncell.hotline.models import Ack, Message
from fusioncell.scenario.demo import stable_id

ALPHA = stable_id("organisation", "ALPHA")
BRAVO = stable_id("organisation", "BRAVO")
CELL = f"/api/v1/channels/{CELL_CHANNEL_ID}/messages"


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://testserver")


def test_an_id_another_party_chose_first_neither_blocks_nor_returns_their_message(
    client: TestClient, token_for: object, db: Session
) -> None:
    alpha, bravo = token_for("alpha.liaison"), token_for("bravo.liaison")  # type: ignore[operator]
    chosen = str(uuid.uuid4())
    body = {"id": chosen, "precedence": "ROUTINE", "text": "Same words from both sides."}

    first = client.post(CELL, json=body, headers=alpha)
    second = client.post(CELL, json=body, headers=bravo)
    retry = client.post(CELL, json=body, headers=bravo)

    assert first.status_code == second.status_code == retry.status_code == 201
    assert first.json()["id"] == chosen
    assert second.json()["id"] != chosen, "BRAVO must get its own message"
    assert retry.json() == second.json(), "BRAVO's retry returns BRAVO's first result"
    detail = client.get(f"/api/v1/messages/{second.json()['id']}", headers=bravo).json()
    assert detail["sender"] == "bravo.liaison"


def test_an_id_taken_in_a_channel_one_cannot_see_answers_like_a_fresh_one(
    client: TestClient, token_for: object, db: Session
) -> None:
    """No 409 and no other tell: the id space is each author's own."""
    alpha, bravo = token_for("alpha.liaison"), token_for("bravo.liaison")  # type: ignore[operator]
    chosen = str(uuid.uuid4())
    alpha_channel = f"/api/v1/channels/{bilateral_channel_id(ALPHA)}/messages"
    bravo_channel = f"/api/v1/channels/{bilateral_channel_id(BRAVO)}/messages"
    taken = client.post(
        alpha_channel,
        json={"id": chosen, "precedence": "PRIORITY", "text": "ALPHA to the chair only."},
        headers=alpha,
    )
    before = count_rows(db, Message)

    probe = client.post(
        bravo_channel,
        json={"id": chosen, "precedence": "PRIORITY", "text": "Something else entirely."},
        headers=bravo,
    )

    assert taken.status_code == 201
    assert probe.status_code == 201, probe.text
    assert count_rows(db, Message) == before + 1


def test_the_same_member_reusing_an_id_for_other_content_is_still_a_conflict(
    client: TestClient, token_for: object
) -> None:
    alpha = token_for("alpha.liaison")  # type: ignore[operator]
    chosen = str(uuid.uuid4())
    client.post(CELL, json={"id": chosen, "precedence": "ROUTINE", "text": "one"}, headers=alpha)

    again = client.post(
        CELL, json={"id": chosen, "precedence": "ROUTINE", "text": "two"}, headers=alpha
    )

    assert_problem(again, 409, "idempotency-conflict")


def test_a_link_test_cannot_be_pre_empted_by_a_client_id(
    client: TestClient, token_for: object, db: Session, clock: ManualClock
) -> None:
    """The old link-test id was uuid5(channel, "link-test/N"): guessable, and taking it first
    silenced the link test. Now a client's message with that id changes nothing."""
    alpha = token_for("alpha.liaison")  # type: ignore[operator]
    channel = bilateral_channel_id(BRAVO)
    sequence = 7
    for guess in (uuid.uuid5(channel, f"link-test/{sequence}"), uuid.uuid4()):
        client.post(
            f"/api/v1/channels/{bilateral_channel_id(ALPHA)}/messages",
            json={"id": str(guess), "precedence": "ROUTINE", "text": "taking the id first"},
            headers=alpha,
        )
    db.rollback()

    sent = do_send_link_test(db, sequence=sequence, now=clock.now())
    again = do_send_link_test(db, sequence=sequence, now=clock.now())

    assert {m.channel_id for m in sent} == {bilateral_channel_id(ALPHA), channel}
    assert again == [], "the same link test is sent once"
    assert all(m.id != uuid.uuid5(m.channel_id, f"link-test/{sequence}") for m in sent)
    assert all(m.client_id is None and m.sender_id is None for m in sent)


def test_two_members_of_a_party_acknowledging_with_the_same_id_make_two_acknowledgements(
    client: TestClient, token_for: object, db: Session
) -> None:
    alpha = token_for("alpha.liaison")  # type: ignore[operator]
    duty, liaison = token_for("bravo.duty"), token_for("bravo.liaison")  # type: ignore[operator]
    message = client.post(
        CELL, json={"precedence": "FLASH", "text": "Acknowledge, please."}, headers=alpha
    ).json()
    chosen = str(uuid.uuid4())

    first = client.post(f"/api/v1/messages/{message['id']}/ack", json={"id": chosen}, headers=duty)
    second = client.post(
        f"/api/v1/messages/{message['id']}/ack", json={"id": chosen}, headers=liaison
    )
    retry = client.post(f"/api/v1/messages/{message['id']}/ack", json={"id": chosen}, headers=duty)

    assert first.status_code == 201 and second.status_code == 201, second.text
    assert first.json()["id"] != second.json()["id"]
    assert retry.json() == first.json()
    db.rollback()
    members = db.scalars(select(Ack.member_id).where(Ack.message_id == uuid.UUID(message["id"])))
    assert len(set(members)) == 2
