"""The pages as a browser without script uses them: ask for HTML, carry the CSRF token, log in."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.cell.factories import start_session
from tests.conftest import DEMO_PASSWORD

from fusioncell.clock import ManualClock
from fusioncell.config import Settings

HTML = {"Accept": "text/html"}
_CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


def csrf_in(html: str) -> str:
    found = _CSRF_FIELD.search(html)
    assert found is not None, "the page has no csrf_token field"
    return found.group(1)


def submit_login(browser: Any, username: str, password: str = DEMO_PASSWORD, **fields: str) -> Any:
    """Fill in the login form as a browser does: fetch it for its CSRF token, then post it.
    ``browser`` is a TestClient or an ``httpx.Client`` on a real server; returns the answer."""
    form = browser.get("/login", headers=HTML)
    assert form.status_code == 200, form.text
    return browser.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_in(form.text),
            **fields,
        },
        headers=HTML,
        follow_redirects=False,
    )


def log_in_through_form(
    browser: Any, username: str, password: str = DEMO_PASSWORD, **fields: str
) -> None:
    response = submit_login(browser, username, password, **fields)
    assert response.status_code == 303, response.text


def session_cookie(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, username: str
) -> str:
    """Log ``client`` in without the form (for tests about something else): a session straight
    from ``do_log_in``, set as the browser's cookie; returns its CSRF token."""
    started = start_session(db, settings, clock, username)
    client.cookies.set("fc_session", started.secret)
    return started.csrf_token
