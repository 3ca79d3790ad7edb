"""The shell's pages: home, the track pages, the language switch and the probes."""

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
    for path in ("/tracks/intelligence", "/map", "/tracks/commerce", "/organisations"):
        assert f'href="{path}"' in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("track", ["intelligence", "verification", "agreements", "commerce"])
def test_every_track_has_a_page(client: TestClient, logged_in: str, track: str) -> None:
    assert client.get(f"/tracks/{track}", headers=HTML).status_code == 200


def test_an_unknown_track_is_a_404_page(client: TestClient, logged_in: str) -> None:
    response = client.get("/tracks/nowhere", headers=HTML)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "nowhere" in response.text


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
        data={"language": "he", "next": "/tracks/intelligence", "csrf_token": logged_in},
        headers=HTML,
        follow_redirects=False,
    )

    assert response.headers["location"] == "/tracks/intelligence"
    page = client.get("/tracks/intelligence", headers=HTML)
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
