"""Every ``next=`` a route follows goes through ``web.redirects.safe_next``: a path on this
site is followed, anything that could leave it goes home."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session
from tests.helpers.pages import HTML, session_cookie, submit_login
from tests.hotline.factories import send

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.web.redirects import safe_next

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
ON_SITE = ["/", "/account", "/hotline?precedence=FLASH&channel=x", "/hotline/deadlines#top"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_a_target_that_could_leave_the_site_goes_home(target: str) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ON_SITE)
def test_a_path_on_the_site_is_followed_as_given(target: str) -> None:
    assert safe_next(target) == target


def _location(response: Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_login_form_sends_an_off_site_next_home(
    client: TestClient, demo: None, target: str
) -> None:
    response = submit_login(client, "alpha.liaison", next=target)

    assert _location(response) == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_login_page_sends_a_logged_in_member_with_an_off_site_next_home(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, demo: None, target: str
) -> None:
    session_cookie(client, db, clock, settings, "alpha.liaison")

    response = client.get("/login", params={"next": target}, headers=HTML, follow_redirects=False)

    assert _location(response) == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switch_sends_an_off_site_next_home(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, demo: None, target: str
) -> None:
    csrf = session_cookie(client, db, clock, settings, "alpha.liaison")

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
    message_id = send(db, member("alpha.liaison"), now=clock.now()).id
    csrf = session_cookie(client, db, clock, settings, "bravo.duty")

    response = client.post(
        f"/hotline/messages/{message_id}/ack",
        data={"csrf_token": csrf, "ack_id": str(uuid.uuid4()), "next": target},
        headers=HTML,
        follow_redirects=False,
    )

    assert _location(response) == "/"
