"""Helpers for the cell's tests: counting rows, TOTP codes, and logging in through the pages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.conftest import DEMO_PASSWORD

HTML = {"Accept": "text/html"}
_CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


def csrf_in(html: str) -> str:
    found = _CSRF_FIELD.search(html)
    assert found is not None, "the page has no csrf_token field"
    return found.group(1)


def totp_code(secret: str, at: datetime) -> str:
    code: str = pyotp.TOTP(secret).at(at)
    return code


@pytest.fixture
def count_rows(db: Session) -> Callable[[type], int]:
    """How many rows a table holds, read fresh from the database."""

    def count(model: type) -> int:
        db.expire_all()
        total = db.scalar(select(func.count()).select_from(model))
        db.commit()
        return int(total or 0)

    return count


@pytest.fixture
def new_client(app: FastAPI) -> Iterator[Callable[[], TestClient]]:
    """A second browser: its own cookie jar, the same app."""
    with ExitStack() as stack:

        def make() -> TestClient:
            return stack.enter_context(TestClient(app, base_url="http://testserver"))

        yield make


@pytest.fixture
def log_in(client: TestClient, demo: None) -> Callable[..., str]:
    """Log in through the login form; returns the session's CSRF token."""

    def go(
        username: str,
        password: str = DEMO_PASSWORD,
        *,
        totp: str = "",
        on: TestClient | None = None,
    ) -> str:
        browser = on or client
        form = browser.get("/login", headers=HTML)
        assert form.status_code == 200, form.text
        response = browser.post(
            "/login",
            data={
                "username": username,
                "password": password,
                "totp": totp,
                "csrf_token": csrf_in(form.text),
            },
            headers=HTML,
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        account = browser.get("/account", headers=HTML)
        assert account.status_code == 200, account.text
        return csrf_in(account.text)

    return go


@pytest.fixture
def table_counts(db: Session) -> Callable[[], dict[str, int]]:
    """Rows per table, every table: proof that a refused action wrote nothing anywhere."""
    from fusioncell.db.registry import metadata

    def counts() -> dict[str, int]:
        db.expire_all()
        found = {
            table.name: int(db.scalar(select(func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }
        db.commit()
        return found

    return counts
