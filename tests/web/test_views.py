"""The shell's pages: home, the navigation, the language switch and the probes."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.helpers.pages import HTML, csrf_in, session_cookie

from fusioncell.clock import ManualClock
from fusioncell.config import Settings


@pytest.fixture
def logged_in(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, demo: None
) -> str:
    """alpha.liaison's browser; returns the session's CSRF token."""
    return session_cookie(client, db, clock, settings, "alpha.liaison")


def test_home_greets_a_member_with_the_tracks(client: TestClient, logged_in: str) -> None:
    response = client.get("/", headers=HTML)

    assert response.status_code == 200
    # Every member may open Organisations: it shows their own organisation's members and
    # what awaits their countersign.
    for path in ("/hotline", "/map", "/record", "/organisations"):
        assert f'href="{path}"' in response.text
    assert "/tracks/" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_a_track_without_a_page_has_no_link_and_no_placeholder(
    client: TestClient, logged_in: str
) -> None:
    assert client.get("/tracks/intelligence", headers=HTML).status_code == 404


@pytest.mark.parametrize(
    ("username", "shown", "hidden"),
    [
        ("alpha.liaison", ["/hotline", "/map"], ["/hotline/deadlines"]),
        ("supervisor.duty", ["/hotline", "/hotline/deadlines", "/map"], []),
        ("cell.admin", ["/map"], ["/hotline", "/hotline/deadlines"]),
    ],
)
def test_the_navigation_shows_a_member_only_the_pages_the_policy_opens_to_them(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    demo: None,
    username: str,
    shown: list[str],
    hidden: list[str],
) -> None:
    session_cookie(client, db, clock, settings, username)
    nav = client.get("/", headers=HTML).text.split('<nav class="tracks"')[1].split("</nav>")[0]

    for path in shown:
        assert f'href="{path}"' in nav
        assert client.get(path, headers=HTML).status_code == 200
    for path in hidden:
        assert f'href="{path}"' not in nav
    if "/hotline/deadlines" in hidden:
        assert client.get("/hotline/deadlines", headers=HTML).status_code == 403


def test_an_unknown_page_is_a_404_page_for_a_browser(client: TestClient) -> None:
    response = client.get("/no-such-page", headers=HTML)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_the_map_page_needs_a_member(client: TestClient) -> None:
    response = client.get("/map", headers=HTML, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/map"


def test_the_map_page_carries_its_labels(client: TestClient, logged_in: str) -> None:
    response = client.get("/map", headers=HTML)

    assert response.status_code == 200
    assert "Protected sites" in response.text


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "evil"]
)
def test_the_language_switch_never_redirects_off_the_site(
    client: TestClient, logged_in: str, target: str
) -> None:
    response = client.post(
        "/language",
        data={"language": "he", "next": target, "csrf_token": logged_in},
        headers=HTML,
        follow_redirects=False,
    )

    assert response.status_code == 303
    location = response.headers["location"]
    # Starlette percent-encodes a backslash, so "/\\evil" arrives as the path "/%5Cevil".
    assert location.startswith("/") and not location.startswith("//")
    assert "\\" not in location
    assert urlsplit(location).netloc == ""
    assert urlsplit(urljoin("http://testserver/", location)).netloc == "testserver"


def test_the_language_switch_returns_to_the_page_it_came_from(
    client: TestClient, logged_in: str
) -> None:
    response = client.post(
        "/language",
        data={"language": "he", "next": "/map", "csrf_token": logged_in},
        headers=HTML,
        follow_redirects=False,
    )

    assert response.headers["location"] == "/map"
    page = client.get("/map", headers=HTML)
    assert '<html lang="he" dir="rtl">' in page.text


def test_a_visitors_language_switch_needs_the_csrf_cookie(client: TestClient) -> None:
    csrf = csrf_in(client.get("/login", headers=HTML).text)
    client.cookies.delete("fc_csrf")

    response = client.post(
        "/language",
        data={"language": "ar", "csrf_token": csrf},
        headers=HTML,
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert "fc_lang" not in client.cookies


def test_a_visitors_accept_language_chooses_the_page_language(client: TestClient) -> None:
    response = client.get("/login", headers={**HTML, "Accept-Language": "fr, he;q=0.8, en;q=0.5"})

    assert '<html lang="he" dir="rtl">' in response.text


def test_the_probes_need_no_login(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
