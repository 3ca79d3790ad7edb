"""Odd text at the boundary: a lone surrogate or a NUL anywhere in a request is 422
``invalid-input`` (never a 500, on either database), and any other text a route accepts is
read back exactly as it was sent.

JSON bodies are sent as ``json.dumps`` spells them (``\\ud800`` escapes), the way any client
can, because httpx itself cannot encode a lone surrogate as UTF-8.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from tests.helpers.pages import HTML, submit_login
from tests.helpers.tables import count_rows

from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID
from fusioncell.ledger.models import LogEntry
from fusioncell.text import HAS_NUL, HAS_SURROGATE, text_problem, unsafe_text

CELL = f"/api/v1/channels/{CELL_CHANNEL_ID}/messages"
DIGEST = "ab" * 32
Headers = Callable[[str], dict[str, str]]

# Arbitrary Unicode, with lone surrogates and NUL mixed in far more often than st.text()
# alone would (it never draws a surrogate).
ODD = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff", "\x00"])
CHARACTER = st.one_of(
    st.characters(),
    st.integers(0xD800, 0xDFFF).map(chr),
    ODD,
)
TEXT = st.text(CHARACTER, max_size=40) | st.builds(
    lambda head, odd, tail: head + odd + tail, st.text(max_size=10), ODD, st.text(max_size=10)
)
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    """No lifespan: no background thread writes while examples run."""
    return TestClient(app, base_url="http://testserver")


def as_json(value: Any) -> Any:
    """What the server decodes from ``json.dumps(value)``: an escaped high and low surrogate
    side by side are one character to JSON."""
    return json.loads(json.dumps(value))


def send(client: TestClient, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return client.request(
        method,
        path,
        content=json.dumps(body),
        headers={**headers, "content-type": "application/json"},
    )


def refused(response: Any) -> bool:
    """A clean refusal of odd text: 422 invalid-input, problem+json."""
    if response.status_code != 422:
        return False
    assert response.headers["content-type"] == "application/problem+json"
    return bool(response.json()["type"] == "urn:fusioncell:problem:invalid-input")


def odd(value: Any) -> bool:
    return unsafe_text(as_json(value)) is not None


def entries(db: Session) -> int:
    return count_rows(db, LogEntry)


# --- the checker -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("plain", None),
        ("עברית والعربية 🙂", None),
        ("a\ud800", HAS_SURROGATE),
        ("\udfffz", HAS_SURROGATE),
        ("a\x00b", HAS_NUL),
    ],
)
def test_text_problem_names_what_cannot_be_stored(value: str, problem: str | None) -> None:
    assert text_problem(value) == problem


def test_unsafe_text_finds_odd_text_in_nested_values_and_in_names() -> None:
    assert unsafe_text({"a": [1, {"b": "ok"}, {"c": "x\x00"}]}, ("body",)) == (
        ("body", "a", "2", "c"),
        HAS_NUL,
    )
    where, problem = unsafe_text({"ok": 1, "bad\ud800": 2}, ("body",)) or ((), "")
    assert where == ("body", "bad\\ud800") and problem == f"the name {HAS_SURROGATE}"
    deep: Any = "\x00"
    for _ in range(5000):
        deep = [deep]
    assert unsafe_text(deep) is not None  # no recursion to exhaust


# --- every way in ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["a\ud800", "a\x00b"], ids=["surrogate", "nul"])
def test_a_token_request_with_odd_text_is_422_and_appends_nothing(
    client: TestClient, demo: None, db: Session, bad: str
) -> None:
    before = entries(db)
    for body in (
        {"username": bad, "password": "x"},
        {"username": "alpha.liaison", "password": bad},
        {"username": "alpha.liaison", "password": "x", "totp": bad},
    ):
        response = send(client, "POST", "/api/v1/auth/token", body, {})
        assert refused(response), response.text
    # A failed login would have been logged; odd text never reached the action.
    assert entries(db) == before


@pytest.mark.parametrize("bad", ["a\ud800", "a\x00b"], ids=["surrogate", "nul"])
@pytest.mark.parametrize(
    "change",
    [
        lambda bad: {"text": bad},
        lambda bad: {
            "text": None,
            "template": "clarification_request",
            "fields": {"subject": "Convoy", "question": bad},
        },
        lambda bad: {
            "text": None,
            "template": "clarification_request",
            "fields": {"subject": "Convoy", "question": "Why?", bad: "x"},
        },
        lambda bad: {"attachments": [{"sha256": DIGEST, "size": 7, "name": bad}]},
        lambda bad: {"precedence": bad},
    ],
    ids=["text", "template-field", "template-field-name", "attachment-name", "precedence"],
)
def test_a_message_with_odd_text_anywhere_is_422_and_appends_nothing(
    client: TestClient,
    token_for: Headers,
    db: Session,
    bad: str,
    change: Callable[[str], dict[str, Any]],
) -> None:
    headers = token_for("alpha.liaison")
    before = entries(db)
    body = {"precedence": "ROUTINE", "text": "Convoy at 09:00", **change(bad)}
    body = {key: value for key, value in body.items() if value is not None}

    response = send(client, "POST", CELL, body, headers)

    assert refused(response), response.text
    assert response.json()["errors"][0]["location"][0] == "body"
    assert entries(db) == before


def test_odd_text_spelled_as_raw_utf8_bytes_is_refused_too(
    client: TestClient, token_for: Headers
) -> None:
    """Python's JSON decoder lets an encoded surrogate through (``surrogatepass``)."""
    raw = b'{"precedence": "ROUTINE", "text": "a\xed\xa0\x80"}'
    response = client.post(
        CELL,
        content=raw,
        headers={**token_for("alpha.liaison"), "content-type": "application/json"},
    )
    assert refused(response), response.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/log/entries?type=a%00",
        "/api/v1/log/entries?author=%00",
        f"{CELL}?precedence=FLASH%00",
        "/api/v1/channels/a%00b/messages",
        "/api/v1/members/%00",
    ],
)
def test_a_nul_in_the_query_or_the_path_is_422(
    client: TestClient, token_for: Headers, path: str
) -> None:
    response = client.get(path, headers=token_for("supervisor.chair"))
    assert refused(response), response.text


@pytest.mark.parametrize(
    "query",
    [
        "author=5",
        "author=%5B%5D",
        "author=ABCDEF0123456789",
        "type=5",
        "type=Hotline",
        "type=%7B%7D",
    ],
)
def test_the_logs_filters_take_a_key_id_and_an_entry_type_prefix_only(
    client: TestClient, token_for: Headers, query: str
) -> None:
    """What is not a key's id (16 hex digits) or the start of an entry type is refused, not
    read as a filter that matches nothing (found by Schemathesis)."""
    response = client.get(f"/api/v1/log/entries?{query}", headers=token_for("supervisor.chair"))
    assert refused(response), response.text
    fine = client.get(
        "/api/v1/log/entries?type=hotline.&author=0123456789abcdef",
        headers=token_for("supervisor.chair"),
    )
    assert fine.status_code == 200 and fine.json() == []


def test_a_nul_in_a_page_form_is_a_422_page(client: TestClient, demo: None, db: Session) -> None:
    before = entries(db)

    response = submit_login(client, "alpha.liaison\x00", "x")

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert entries(db) == before


def test_a_multipart_form_refused_for_odd_text_closes_the_files_it_spooled(
    client: TestClient, token_for: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starlette.datastructures import FormData

    closed: list[list[str]] = []
    close = FormData.close

    async def recording_close(form: FormData) -> None:
        closed.append([key for key, _value in form.multi_items()])
        await close(form)

    monkeypatch.setattr(FormData, "close", recording_close)
    response = client.post(
        "/api/v1/verification/evidence",
        files={"file": ("note.txt", b"seen at the crossing", "text/plain")},
        data={"caption": "north\x00gate"},
        headers=token_for("alpha.liaison"),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["location"] == ["body", "caption"]
    assert closed and "file" in closed[0]


def test_a_nul_in_a_page_query_is_a_422_page(client: TestClient, token_for: Headers) -> None:
    response = client.get("/hotline?precedence=%00", headers={**HTML, **token_for("bravo.duty")})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")


# --- arbitrary text through every text field of the JSON API ----------------------------------


@EXAMPLES
@given(username=TEXT, password=TEXT, totp=TEXT)
def test_any_text_as_login_credentials_is_never_a_500(
    client: TestClient, demo: None, username: str, password: str, totp: str
) -> None:
    response = send(
        client,
        "POST",
        "/api/v1/auth/token",
        {"username": username, "password": password, "totp": totp},
        {},
    )
    assert response.status_code < 500, response.text
    if odd([username, password, totp]):
        assert refused(response), response.text


@EXAMPLES
@given(text=TEXT)
def test_any_message_text_is_refused_cleanly_or_read_back_as_sent(
    client: TestClient, token_for: Headers, text: str
) -> None:
    headers = token_for("alpha.liaison")
    response = send(client, "POST", CELL, {"precedence": "ROUTINE", "text": text}, headers)
    assert response.status_code < 500, response.text
    if odd(text):
        assert refused(response), response.text
    elif response.status_code == 201:
        shown = client.get(f"/api/v1/messages/{response.json()['id']}", headers=headers)
        assert shown.json()["text"] == as_json(text)
        assert shown.json()["rendered"] == as_json(text)


@EXAMPLES
@given(subject=TEXT, question=TEXT, name=TEXT, extra=TEXT)
def test_any_template_field_or_attachment_name_is_refused_cleanly_or_read_back(
    client: TestClient, token_for: Headers, subject: str, question: str, name: str, extra: str
) -> None:
    headers = token_for("alpha.liaison")
    body = {
        "precedence": "ROUTINE",
        "template": "clarification_request",
        "fields": {"subject": subject, "question": question},
        "attachments": [{"sha256": DIGEST, "size": 7, "name": name}],
    }
    response = send(client, "POST", CELL, body, headers)
    assert response.status_code < 500, response.text
    if odd(body):
        assert refused(response), response.text
    elif response.status_code == 201:
        shown = client.get(f"/api/v1/messages/{response.json()['id']}", headers=headers).json()
        # A template's text fields are stored without surrounding blanks.
        assert shown["fields"] == {
            "subject": as_json(subject).strip(),
            "question": as_json(question).strip(),
        }
        assert [a["name"] for a in shown["attachments"]] == [as_json(name)]
    # An unknown field name is refused whatever it spells.
    body["fields"] = {"subject": "Convoy", "question": "Why?", extra: "x"}
    response = send(client, "POST", CELL, body, headers)
    assert response.status_code == 422, response.text


@EXAMPLES
@given(language=TEXT, current=TEXT, new=TEXT, code=TEXT)
def test_any_text_in_the_members_own_settings_is_never_a_500(
    client: TestClient, token_for: Headers, language: str, current: str, new: str, code: str
) -> None:
    headers = token_for("bravo.duty")
    calls = [
        ("PUT", "/api/v1/me/language", {"language": language}),
        ("POST", "/api/v1/me/password", {"current_password": current, "new_password": new}),
        ("POST", "/api/v1/me/totp/confirm", {"code": code}),
        ("POST", "/api/v1/me/totp/disable", {"code": code}),
        ("POST", "/api/v1/keys", {"public_key": code}),
        ("POST", "/api/v1/keys/unknown/rotate", {"public_key": code, "possession": new}),
    ]
    for method, path, body in calls:
        response = send(client, method, path, body, headers)
        assert response.status_code < 500, (path, response.text)
        if odd(body):
            assert refused(response), (path, response.text)
    if client.get("/api/v1/me", headers=headers).json()["language"] != "en":
        assert client.get("/api/v1/me", headers=headers).json()["language"] == as_json(language)


@EXAMPLES
@given(username=TEXT, display_name=TEXT, organisation=TEXT, password=TEXT, language=TEXT)
def test_any_text_in_a_new_member_is_refused_cleanly_or_read_back(
    client: TestClient,
    token_for: Headers,
    username: str,
    display_name: str,
    organisation: str,
    password: str,
    language: str,
) -> None:
    headers = token_for("cell.admin")
    for body in (
        {
            "username": username,
            "display_name": display_name,
            "organisation": organisation,
            "roles": ["liaison"],
            "password": password,
            "language": language,
        },
        {
            "username": f"m{uuid.uuid4().hex[:12]}",
            "display_name": display_name,
            "organisation": "ALPHA",
            "roles": ["liaison"],
            "password": "a long enough password 1234",
        },
    ):
        response = send(client, "POST", "/api/v1/members", body, headers)
        assert response.status_code < 500, response.text
        if odd(body):
            assert refused(response), response.text
        elif response.status_code == 201:
            shown = client.get(f"/api/v1/members/{response.json()['id']}", headers=headers).json()
            # A display name is stored without surrounding blanks; none means the username.
            assert shown["display_name"] == (as_json(display_name).strip() or shown["username"])


@EXAMPLES
@given(value=TEXT)
def test_any_text_where_an_id_or_a_filter_belongs_is_never_a_500(
    client: TestClient, token_for: Headers, value: str
) -> None:
    headers = token_for("supervisor.chair")
    sent = send(client, "POST", CELL, {"precedence": "ROUTINE", "text": "Convoy"}, headers)
    message = sent.json()["id"]
    for method, path, body in (
        ("POST", f"/api/v1/messages/{message}/ack", {"id": value}),
        ("POST", f"/api/v1/messages/{message}/relay", {"channel_id": value}),
        ("POST", CELL, {"id": value, "precedence": "ROUTINE", "text": "x"}),
    ):
        response = send(client, method, path, body, headers)
        assert response.status_code < 500, (path, response.text)
        if odd(body):
            assert refused(response), (path, response.text)
    for path, params in (
        (CELL, {"precedence": value, "before": value}),
        ("/api/v1/log/entries", {"type": value, "author": value}),
    ):
        # httpx percent-encodes the query as UTF-8; a surrogate cannot be, so it goes as "?"
        # — the server decodes a query's bytes with replacement, never to a surrogate.
        cleaned = value.encode("utf-8", "replace").decode("utf-8")
        response = client.get(path, params={k: cleaned for k in params}, headers=headers)
        assert response.status_code < 500, (path, response.text)
        if "\x00" in cleaned:
            assert refused(response), (path, response.text)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/log/entries?before=99999999999999999999", "/api/v1/log/entries/99999999999999999999"],
)
def test_a_number_too_large_for_the_database_is_422_not_500(
    client: TestClient, token_for: Headers, path: str
) -> None:
    response = client.get(path, headers=token_for("supervisor.chair"))
    assert response.status_code in {404, 422}, response.text
    assert response.headers["content-type"] == "application/problem+json"
