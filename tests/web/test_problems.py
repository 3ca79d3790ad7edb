"""Errors as RFC 9457 problems: one tree, one renderer, a page for browsers, a body limit."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from starlette.types import Message, Receive, Scope, Send
from tests.helpers.pages import HTML
from tests.helpers.problems import assert_problem

from fusioncell import errors
from fusioncell.errors import FusioncellError, NotFound, TooManyAttempts
from fusioncell.web.middleware import BodyLimit


def _error_classes() -> list[type[FusioncellError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, FusioncellError) and cls.__module__ == errors.__name__
    ]


# --- the tree ------------------------------------------------------------------------------


def test_every_problem_type_is_unique() -> None:
    codes = [cls.code for cls in _error_classes()]

    assert len(codes) == len(set(codes))
    for cls in _error_classes():
        assert cls().type == f"urn:fusioncell:problem:{cls.code}"
        assert 400 <= cls.status <= 599
        assert cls.title


def test_the_module_docstring_draws_every_class_with_its_status_and_type() -> None:
    assert errors.__doc__ is not None
    drawn = {
        name: (int(status), code)
        for name, status, code in re.findall(r"(\w+)\s+(\d{3}) ([a-z-]+)", errors.__doc__)
    }

    assert drawn == {cls.__name__: (cls.status, cls.code) for cls in _error_classes()}


def test_a_problem_carries_its_extensions_and_instance() -> None:
    body = TooManyAttempts("wait", retry_after=7).problem(instance="/api/v1/auth/token")

    assert body == {
        "type": "urn:fusioncell:problem:too-many-attempts",
        "title": TooManyAttempts.title,
        "status": 429,
        "detail": "wait",
        "instance": "/api/v1/auth/token",
        "retry_after": 7,
    }


def test_a_problem_without_detail_repeats_its_title() -> None:
    assert NotFound().problem()["detail"] == NotFound.title


# --- the renderer --------------------------------------------------------------------------


@pytest.fixture
def raising_app(app: FastAPI) -> FastAPI:
    """The real app plus routes that fail in the ways the renderer must handle."""

    def boom() -> None:
        raise RuntimeError("secret internals")

    def database_down() -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    def slow_down() -> None:
        raise TooManyAttempts("wait", retry_after=7)

    app.add_api_route("/api/v1/test/boom", boom)
    app.add_api_route("/api/v1/test/database", database_down)
    app.add_api_route("/api/v1/test/slow", slow_down)
    app.add_api_route("/test/boom", boom, include_in_schema=False)
    return app


@pytest.fixture
def lenient_client(raising_app: FastAPI) -> Iterator[TestClient]:
    # The handler for unexpected errors answers, then Starlette re-raises for the server's
    # log; this client reports the answer instead of the re-raise.
    with TestClient(raising_app, raise_server_exceptions=False) as client:
        yield client


def test_an_unexpected_error_is_a_500_problem_that_leaks_nothing(
    lenient_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("ERROR", logger="fusioncell"):
        response = lenient_client.get("/api/v1/test/boom")

    body = assert_problem(response, 500, "internal")
    assert "secret internals" not in response.text
    assert body["detail"] == FusioncellError.title
    assert any("unexpected error" in record.message for record in caplog.records)


def test_an_unexpected_error_on_a_page_is_an_error_page(lenient_client: TestClient) -> None:
    response = lenient_client.get("/test/boom", headers=HTML)

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "secret internals" not in response.text


def test_a_lost_database_is_a_503_problem(
    lenient_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("ERROR", logger="fusioncell"):
        response = lenient_client.get("/api/v1/test/database")

    assert_problem(response, 503, "database-unavailable")
    assert "connection refused" not in response.text


def test_a_problem_with_retry_after_sends_the_header(lenient_client: TestClient) -> None:
    response = lenient_client.get("/api/v1/test/slow")

    body = assert_problem(response, 429, "too-many-attempts")
    assert response.headers["retry-after"] == "7" == str(body["retry_after"])


def test_the_api_answers_problems_even_to_a_browser(client: TestClient) -> None:
    response = client.get("/api/v1/me", headers=HTML)

    assert_problem(response, 401, "not-authenticated")
    assert response.headers["www-authenticate"] == 'Bearer realm="fusioncell"'


def test_a_page_asked_for_json_answers_a_problem(client: TestClient) -> None:
    response = client.get("/account", headers={"Accept": "application/json"})

    assert_problem(response, 401, "not-authenticated")
    assert "www-authenticate" not in response.headers


def test_a_wrong_method_on_a_page_is_a_405_page(client: TestClient) -> None:
    response = client.delete("/login", headers=HTML)

    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")


def test_the_probes_answer_problems_not_pages(client: TestClient) -> None:
    response = client.post("/healthz", headers=HTML)

    assert_problem(response, 405, "method-not-allowed")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/api/v1/me", {"GET"}),
        ("TRACE", "/healthz", {"GET"}),
        ("PATCH", "/api/v1/auth/token", {"POST", "DELETE"}),
        ("TRACE", "/static/fusioncell.css", {"GET", "HEAD"}),
    ],
)
def test_an_unsupported_method_is_a_405_problem_naming_the_allowed_ones(
    client: TestClient, method: str, path: str, allowed: set[str]
) -> None:
    response = client.request(method, path)

    body = assert_problem(response, 405, "method-not-allowed")
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed
    assert method in body["detail"]


def test_a_wrong_method_on_a_page_names_the_allowed_ones_too(client: TestClient) -> None:
    response = client.delete("/login", headers=HTML)

    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "POST"}


# --- the body limit, driven as an ASGI server would ---------------------------------------


def _drive(
    limit: int, chunks: list[bytes], *, headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[list[Message], list[bytes]]:
    """Send ``chunks`` through BodyLimit to an app that echoes what it read."""
    seen: list[bytes] = []
    sent: list[Message] = []

    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        seen.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    messages = [
        {"type": "http.request", "body": chunk, "more_body": number < len(chunks) - 1}
        for number, chunk in enumerate(chunks)
    ]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/x", "headers": headers or []}
    anyio.run(BodyLimit(echo, max_bytes=limit), scope, receive, send)
    return sent, seen


def test_a_streamed_body_within_the_limit_reaches_the_app_whole() -> None:
    sent, seen = _drive(10, [b"abc", b"def", b"ghij"])

    assert seen == [b"abcdefghij"]
    assert sent[0]["status"] == 200


def test_a_streamed_body_over_the_limit_is_refused_before_the_app_reads_it() -> None:
    sent, seen = _drive(10, [b"abcd", b"efgh", b"ijkl", b"mnop"])

    assert seen == []
    assert sent[0]["status"] == 413
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]
    body = json.loads(sent[1]["body"])
    assert body["type"] == "urn:fusioncell:problem:payload-too-large"
    assert body["limit"] == 10
    assert body["instance"] == "/api/v1/x"


def test_a_declared_length_over_the_limit_is_refused_without_reading() -> None:
    sent, seen = _drive(10, [b"a"], headers=[(b"content-length", b"11")])

    assert seen == []
    assert sent[0]["status"] == 413


def test_a_client_that_hangs_up_mid_body_gets_no_answer() -> None:
    sent, seen = _drive(10, [])

    assert (sent, seen) == ([], [])
