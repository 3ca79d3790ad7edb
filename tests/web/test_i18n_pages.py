"""Pages say everything in their language: organisation names, roles (joined as the locale joins
a list), problems and validation messages, times with their zone, and the header's clock."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.conftest import add_member_at_console
from tests.helpers.pages import HTML, csrf_in

from fusioncell.cell.labels import role_list
from fusioncell.cell.models import Role
from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.i18n import join_list, translate
from fusioncell.scenario.demo import ORGANISATIONS

LogIn = Callable[..., str]


def _speak(client: TestClient, csrf: str, language: str) -> None:
    response = client.post(
        "/language",
        data={"language": language, "next": "/account", "csrf_token": csrf},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", page))


def test_the_organisations_page_names_each_organisation_in_the_pages_language(
    client: TestClient, log_in: LogIn
) -> None:
    csrf = log_in("supervisor.chair")
    shown = {}
    for language in ("en", "ar", "he"):
        _speak(client, csrf, language)
        shown[language] = _text(client.get("/organisations", headers=HTML).text)

    for organisation in ORGANISATIONS:
        assert f'<td dir="auto">{organisation.name}</td>' in shown["en"]
        for language in ("ar", "he"):
            assert f'<td dir="auto">{organisation.names[language]}</td>' in shown[language]
            assert f'<td dir="auto">{organisation.name}</td>' not in shown[language]


def test_the_account_page_names_the_members_organisation_and_roles_in_hebrew(
    client: TestClient, log_in: LogIn
) -> None:
    csrf = log_in("supervisor.duty")
    _speak(client, csrf, "he")

    page = _text(client.get("/account", headers=HTML).text)

    assert '<span dir="auto">התא המפקח</span> (SUPERVISOR)' in page
    # Sorted by role, each by its Hebrew name, joined by the Hebrew "and" (CLDR's list).
    assert '<dd class="roles">קצין תורן ומפקח</dd>' in page


def test_roles_are_joined_with_the_locales_list_pattern(
    client: TestClient, log_in: LogIn, db: Session, clock: ManualClock
) -> None:
    add_member_at_console(
        db,
        clock,
        "alpha.many",
        organisation="ALPHA",
        roles=[Role.OBSERVER, Role.LIAISON, Role.ANALYST],
    )
    db.commit()
    csrf = log_in("alpha.liaison")
    pages = {}
    for language in ("ar", "he", "en"):
        _speak(client, csrf, language)
        pages[language] = _text(client.get("/organisations", headers=HTML).text)

    # CLDR's standard list: Arabic joins every item with the conjunction "و", Hebrew with a
    # comma and the Hebrew "and" before the last; English with commas and ", and".
    assert '<span class="roles">المحلل وضابط الاتصال والمراقب</span>' in pages["ar"]
    assert '<span class="roles">אנליסט, קצין קישור ומשקיף</span>' in pages["he"]
    assert '<span class="roles">Analyst, Liaison officer, and Observer</span>' in pages["en"]
    for language in ("ar", "he", "en"):
        roles = role_list([Role.ANALYST, Role.LIAISON, Role.OBSERVER], language)
        assert roles == join_list(
            language,
            [translate(language, label) for label in ("Analyst", "Liaison officer", "Observer")],
        )


def test_a_refused_password_says_why_in_arabic(client: TestClient, log_in: LogIn) -> None:
    csrf = log_in("alpha.liaison")
    _speak(client, csrf, "ar")

    response = client.post(
        "/account/password",
        data={
            "current_password": "demo-password-not-for-production",
            "new_password": "short",
            "csrf_token": csrf,
        },
        headers=HTML,
    )

    assert response.status_code == 422
    page = _text(response.text)
    assert (
        "كلمة المرور الجديدة ضعيفة جدًا" in page
        or translate("ar", "The new password is too weak") in page
    )
    assert "(تتكوّن كلمة المرور من 12 حرفًا على الأقل)" in page
    assert "a password has at least" not in page


def test_a_form_value_too_long_is_refused_in_the_visitors_language_and_in_english_for_the_api(
    client: TestClient, demo: None
) -> None:
    form = client.get("/login", headers=HTML)
    client.cookies.set("fc_lang", "he")
    data = {"username": "a" * 65, "password": "x", "csrf_token": csrf_in(form.text)}

    page = client.post("/login", data=data, headers=HTML)
    api = client.post("/login", data=data, headers={"Accept": "application/json"})

    assert page.status_code == 422
    assert "username: לכל היותר 64 תווים" in _text(page.text)
    assert api.json()["detail"] == "body.username: String should have at most 64 characters"
    assert api.json()["errors"][0]["message"] == "String should have at most 64 characters"


def test_times_on_the_hotline_carry_their_zone_in_the_locales_format(
    client: TestClient,
    log_in: LogIn,
    member: Callable[[str], Viewer],
    db: Session,
    clock: ManualClock,
) -> None:
    from tests.hotline.factories import flash

    flash(db, member, clock)
    csrf = log_in("bravo.duty")
    pages = {}
    for language in ("en", "ar", "he"):
        _speak(client, csrf, language)
        pages[language] = _text(client.get("/hotline", headers=HTML).text)

    sent = r'<time class="sent" datetime="2026-01-06 08:00:00Z">{}</time>'
    assert sent.format("Jan 6, 2026, 8:00:00 AM UTC") in pages["en"]
    assert sent.format("06\u200f/01\u200f/2026، 8:00:00 ص التوقيت العالمي") in pages["ar"]
    assert sent.format("6 בינו׳ 2026, 8:00:00 UTC") in pages["he"]  # noqa: RUF001


def test_the_header_clock_shows_utc_from_the_servers_clock(
    client: TestClient, log_in: LogIn
) -> None:
    csrf = log_in("alpha.liaison")
    _speak(client, csrf, "ar")

    page = _text(client.get("/account", headers=HTML).text)

    assert 'data-now-ms="1767686400000"' in page
    assert '<time class="clock-utc" datetime="2026-01-06T08:00:00+00:00">' in page
    assert "8:00:00 ص التوقيت العالمي</time>" in page
    assert 'data-local-label="المحلي %(time)s"' in page
