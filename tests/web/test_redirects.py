"""Every ``next=`` a route follows goes through ``web.redirects.safe_next``: a path on this
site is followed, anything that could leave it goes home."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session
from tests.conftest import DEMO_PASSWORD

from fusioncell.cell.actions.auth import do_log_in
from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID
from fusioncell.hotline.actions.messages import do_send_message
from fusioncell.web.redirects import safe_next

HTML = {"Accept": "text/html"}
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')

OFF_SITE = [
    "//evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "HTTPS://evil.example/",
    "javascript:alert(1)",
    "evil.example",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%252F%252Fevil.example",
    "/%25252F%25252F%25252F%25252Fevil.example",
    "https%3A%2F%2Fevil.example",
    "javascript%3Aalert(1)",
    "/\t/evil.example",
    "/%09/evil.example",
    "/\n/evil.example",
]
ON_SITE = ["/", "/account", "/hotline?precedence=FLASH&channel=x", "/tracks/intelligence#top"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_a_target_that_could_leave_the_site_goes_home(target: str) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ON_SITE)
def test_a_path_on_the_site_is_followed_as_given(target: str) -> None:
    assert safe_next(target) == target


def _log_in(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, username: str
) -> str:
    started = do_log_in(
        db,
        username=username,
        password=DEMO_PASSWORD,
        totp_code=None,
        now=clock.now(),
        settings=settings,
    )
    client.cookies.set("fc_session", started.secret)
    return started.csrf_token


def _location(response: Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_login_form_sends_an_off_site_next_home(
    client: TestClient, demo: None, target: str
) -> None:
    form = client.get("/login", headers=HTML)
    found = _CSRF_FIELD.search(form.text)
    assert found is not None

    response = client.post(
        "/login",
        data={
            "username": "alpha.liaison",
            "password": DEMO_PASSWORD,
            "csrf_token": found.group(1),
            "next": target,
        },
        headers=HTML,
        follow_redirects=False,
    )

    assert _location(response) == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_login_page_sends_a_logged_in_member_with_an_off_site_next_home(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, demo: None, target: str
) -> None:
    _log_in(client, db, clock, settings, "alpha.liaison")

    response = client.get("/login", params={"next": target}, headers=HTML, follow_redirects=False)

    assert _location(response) == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switch_sends_an_off_site_next_home(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, demo: None, target: str
) -> None:
    csrf = _log_in(client, db, clock, settings, "alpha.liaison")

    response = client.post(
        "/language",
        data={"language": "he", "next": target, "csrf_token": csrf},
        headers=HTML,
        follow_redirects=False,
    )

    assert _location(response) == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_an_acknowledgement_sends_an_off_site_next_home(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    member: Callable[[str], Viewer],
    target: str,
) -> None:
    message = do_send_message(
        db,
        member("alpha.liaison"),
        message_id=uuid.uuid4(),
        channel_id=CELL_CHANNEL_ID,
        precedence="FLASH",
        text="Convoy at the crossing",
        now=clock.now(),
    )
    message_id = message.id
    csrf = _log_in(client, db, clock, settings, "bravo.duty")

    response = client.post(
        f"/hotline/messages/{message_id}/ack",
        data={"csrf_token": csrf, "ack_id": str(uuid.uuid4()), "next": target},
        headers=HTML,
        follow_redirects=False,
    )

    assert _location(response) == "/"
