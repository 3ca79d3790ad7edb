"""The cell's pages, as a browser sees them: login, logout, CSRF, language, the account."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session
from tests.cell.factories import totp_code
from tests.conftest import DEMO_PASSWORD
from tests.helpers.pages import HTML, csrf_in

from fusioncell.cell.queries import viewer_for_session
from fusioncell.clock import ManualClock

LogIn = Callable[..., str]
NEW_PASSWORD = "a-new-and-long-password"
_SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')


def _post_login(
    client: TestClient, csrf: str | None, *, password: str = DEMO_PASSWORD, **extra: str
) -> Response:
    data = {"username": "alpha.liaison", "password": password, **extra}
    if csrf is not None:
        data["csrf_token"] = csrf
    return client.post("/login", data=data, headers=HTML, follow_redirects=False)


def _login_csrf(client: TestClient) -> str:
    form = client.get("/login", headers=HTML)
    assert form.status_code == 200
    return csrf_in(form.text)


def _html_tag(html: str) -> str:
    found = re.search(r"<html[^>]*>", html)
    assert found is not None
    return found.group(0)


# --- logging in ----------------------------------------------------------------------------


def test_the_login_page_carries_a_csrf_field_matching_its_cookie(client: TestClient) -> None:
    response = client.get("/login", headers=HTML)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    token = csrf_in(response.text)
    assert client.cookies["fc_csrf"] == token
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_a_login_without_the_csrf_token_is_refused_and_starts_no_session(
    client: TestClient, demo: None
) -> None:
    _login_csrf(client)

    response = _post_login(client, None)

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "fc_session" not in response.headers.get("set-cookie", "")
    assert "fc_session" not in client.cookies


def test_a_login_with_a_forged_csrf_token_is_refused(client: TestClient, demo: None) -> None:
    _login_csrf(client)

    response = _post_login(client, "forged")

    assert response.status_code == 403
    assert "fc_session" not in client.cookies


def test_a_login_with_the_csrf_token_sets_a_strict_http_only_session_cookie(
    client: TestClient, demo: None
) -> None:
    response = _post_login(client, _login_csrf(client))

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookies = response.headers.get_list("set-cookie")
    session = [cookie for cookie in cookies if cookie.startswith("fc_session=")]
    assert len(session) == 1
    attributes = {part.strip().lower() for part in session[0].split(";")}
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/" in attributes
    assert client.get("/", headers=HTML, follow_redirects=False).status_code == 200


def test_a_wrong_password_shows_the_form_again_with_a_message(
    client: TestClient, demo: None
) -> None:
    response = _post_login(client, _login_csrf(client), password="not-the-password")

    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert 'value="alpha.liaison"' in response.text
    assert csrf_in(response.text)
    assert "fc_session" not in client.cookies


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "https://evil.example", "/\\evil.example", "evil.example", ""],
)
def test_a_next_that_leaves_the_site_goes_home_instead(
    client: TestClient, demo: None, target: str
) -> None:
    response = _post_login(client, _login_csrf(client), next=target)

    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_a_next_on_the_site_is_followed(client: TestClient, demo: None) -> None:
    response = _post_login(client, _login_csrf(client), next="/account")

    assert response.headers["location"] == "/account"


def test_the_login_page_of_a_logged_in_member_redirects_safely(
    client: TestClient, log_in: LogIn
) -> None:
    log_in("alpha.liaison")

    response = client.get(
        "/login", params={"next": "//evil.example/"}, headers=HTML, follow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_unauthenticated_home_redirects_to_login(client: TestClient) -> None:
    response = client.get("/", headers=HTML, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


# --- logging out ---------------------------------------------------------------------------


def test_logging_out_needs_the_csrf_token(client: TestClient, log_in: LogIn) -> None:
    log_in("alpha.liaison")

    response = client.post("/logout", headers=HTML, follow_redirects=False)

    assert response.status_code == 403
    assert client.get("/", headers=HTML, follow_redirects=False).status_code == 200


def test_logging_out_ends_the_session(
    client: TestClient, log_in: LogIn, db: Session, clock: ManualClock
) -> None:
    csrf = log_in("alpha.liaison")
    secret = client.cookies["fc_session"]

    response = client.post(
        "/logout", data={"csrf_token": csrf}, headers=HTML, follow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "fc_session" not in client.cookies
    assert viewer_for_session(db, secret, now=clock.now()) is None
    # The old cookie, replayed, no longer opens a page.
    client.cookies.set("fc_session", secret)
    replay = client.get("/", headers=HTML, follow_redirects=False)
    assert replay.status_code == 303
    assert replay.headers["location"] == "/login?next=/"


# --- organisations -------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["supervisor.chair", "cell.admin"])
def test_the_organisations_page_is_open_to_the_chair_and_the_operator(
    client: TestClient, log_in: LogIn, username: str
) -> None:
    log_in(username)

    response = client.get("/organisations", headers=HTML)

    assert response.status_code == 200
    assert "bravo.liaison" in response.text
    assert "HUM-1" in response.text


def test_the_organisations_page_shows_a_liaison_officer_only_their_own_members(
    client: TestClient, log_in: LogIn
) -> None:
    log_in("alpha.liaison")

    response = client.get("/organisations", headers=HTML)

    assert response.status_code == 200
    assert "alpha.analyst" in response.text
    assert "bravo.liaison" not in response.text


# --- language ------------------------------------------------------------------------------


def test_switching_to_arabic_turns_the_page_right_to_left_and_is_kept_on_the_account(
    client: TestClient, log_in: LogIn, new_client: Callable[[], TestClient]
) -> None:
    csrf = log_in("alpha.liaison")
    assert _html_tag(client.get("/", headers=HTML).text) == '<html lang="en" dir="ltr">'

    response = client.post(
        "/language",
        data={"language": "ar", "next": "/account", "csrf_token": csrf},
        headers=HTML,
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    assert _html_tag(client.get("/", headers=HTML).text) == '<html lang="ar" dir="rtl">'
    elsewhere = new_client()
    log_in("alpha.liaison", on=elsewhere)
    assert "fc_lang" not in elsewhere.cookies
    assert _html_tag(elsewhere.get("/", headers=HTML).text) == '<html lang="ar" dir="rtl">'


def test_an_unknown_language_is_a_clear_error_and_changes_nothing(
    client: TestClient, log_in: LogIn
) -> None:
    csrf = log_in("alpha.liaison")

    response = client.post(
        "/language",
        data={"language": "xx", "csrf_token": csrf},
        headers=HTML,
        follow_redirects=False,
    )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "This language is not offered" in response.text
    assert "fc_lang" not in client.cookies
    assert _html_tag(client.get("/", headers=HTML).text) == '<html lang="en" dir="ltr">'


def test_switching_language_needs_the_csrf_token(client: TestClient, log_in: LogIn) -> None:
    log_in("alpha.liaison")

    response = client.post(
        "/language", data={"language": "ar"}, headers=HTML, follow_redirects=False
    )

    assert response.status_code == 403
    assert _html_tag(client.get("/", headers=HTML).text) == '<html lang="en" dir="ltr">'


def test_a_visitor_switching_language_gets_it_in_a_cookie(client: TestClient) -> None:
    csrf = _login_csrf(client)

    response = client.post(
        "/language",
        data={"language": "he", "next": "/login", "csrf_token": csrf},
        headers=HTML,
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert client.cookies["fc_lang"] == "he"
    assert _html_tag(client.get("/login", headers=HTML).text) == '<html lang="he" dir="rtl">'


# --- the account page ----------------------------------------------------------------------


def test_the_password_form_changes_the_password_and_keeps_this_session(
    client: TestClient, log_in: LogIn, new_client: Callable[[], TestClient]
) -> None:
    csrf = log_in("alpha.liaison")
    other_browser = new_client()
    log_in("alpha.liaison", on=other_browser)

    response = client.post(
        "/account/password",
        data={
            "current_password": DEMO_PASSWORD,
            "new_password": NEW_PASSWORD,
            "csrf_token": csrf,
        },
        headers=HTML,
    )

    assert response.status_code == 200
    assert "Your password was changed." in response.text
    assert client.get("/account", headers=HTML, follow_redirects=False).status_code == 200
    assert other_browser.get("/account", headers=HTML, follow_redirects=False).status_code == 303
    fresh = new_client()
    refused = _post_login(fresh, _login_csrf(fresh))
    assert refused.status_code == 401
    log_in("alpha.liaison", NEW_PASSWORD, on=fresh)


def test_the_password_form_shows_why_a_change_was_refused(
    client: TestClient, log_in: LogIn
) -> None:
    csrf = log_in("alpha.liaison")

    response = client.post(
        "/account/password",
        data={"current_password": DEMO_PASSWORD, "new_password": "short", "csrf_token": csrf},
        headers=HTML,
    )

    assert response.status_code == 422
    assert "The new password is too weak" in response.text


def test_the_password_form_needs_the_csrf_token(
    client: TestClient, log_in: LogIn, new_client: Callable[[], TestClient]
) -> None:
    log_in("alpha.liaison")

    response = client.post(
        "/account/password",
        data={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
        headers=HTML,
    )

    assert response.status_code == 403
    log_in("alpha.liaison", on=new_client())


def test_the_second_factor_is_enrolled_used_and_turned_off_through_the_account_page(
    client: TestClient, log_in: LogIn, clock: ManualClock, new_client: Callable[[], TestClient]
) -> None:
    csrf = log_in("alpha.liaison")

    begun = client.post("/account/totp", data={"step": "begin", "csrf_token": csrf}, headers=HTML)
    assert begun.status_code == 200
    found = _SECRET.search(begun.text)
    assert found is not None
    secret = found.group(1)

    wrong = client.post(
        "/account/totp",
        data={"step": "confirm", "code": "abcdef", "csrf_token": csrf},
        headers=HTML,
    )
    assert wrong.status_code == 422
    assert "The one-time code is not valid" in wrong.text

    confirmed = client.post(
        "/account/totp",
        data={"step": "confirm", "code": totp_code(secret, clock.now()), "csrf_token": csrf},
        headers=HTML,
    )
    assert confirmed.status_code == 200
    assert "The second factor is on." in confirmed.text

    # A new login now needs a fresh code.
    browser = new_client()
    without = _post_login(browser, _login_csrf(browser))
    assert without.status_code == 401
    assert "Wrong username or password" in without.text  # as for a wrong password
    clock.advance(30)
    log_in("alpha.liaison", totp=totp_code(secret, clock.now()), on=browser)

    clock.advance(30)
    turned_off = client.post(
        "/account/totp",
        data={"step": "disable", "code": totp_code(secret, clock.now()), "csrf_token": csrf},
        headers=HTML,
    )
    assert turned_off.status_code == 200
    assert "The second factor is off." in turned_off.text
    log_in("alpha.liaison", on=new_client())


def test_an_unknown_totp_step_is_422(client: TestClient, log_in: LogIn) -> None:
    csrf = log_in("alpha.liaison")

    response = client.post(
        "/account/totp", data={"step": "explode", "csrf_token": csrf}, headers=HTML
    )

    assert response.status_code == 422
