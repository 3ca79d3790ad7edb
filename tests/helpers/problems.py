"""A refusal as the API answers it: ``application/problem+json`` with our type URI."""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE = "urn:fusioncell:problem:"


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is the problem ``code`` with ``status``, a title and a detail; returns its
    body for the extension fields."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM_TYPE + code
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body
