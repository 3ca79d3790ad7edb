"""The login page under back-off, in a real browser against ``fusioncell serve``: a throttled
attempt is shown as an error saying how long to wait, in the page's language; the server counts
attempts by the connection's address, not by a header the client writes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import Engine, select
from tests.conftest import DEMO_PASSWORD
from tests.e2e.browsing import Requests
from tests.e2e.conftest import ARTIFACTS

from fusioncell.cell.models import LoginThrottle
from fusioncell.cell.views import wait_text
from fusioncell.config import Settings
from fusioncell.errors import InvalidCredentials
from fusioncell.i18n import translate

WRONG = "not-the-password"
THROTTLED = "Too many wrong passwords for this username from your address. Try again in %(wait)s."
SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
# Each language throttles a username of its own, so one server could take them all.
USERNAMES = {"en": "alpha.liaison", "ar": "bravo.liaison", "he": "supervisor.chair"}


@pytest.fixture(params=["en", "ar", "he"])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def context(browser: Browser, language: str) -> Iterator[BrowserContext]:
    """A browser asking for ``language``, in the light theme (the colours compared below)."""
    opened = browser.new_context(locale=language, color_scheme="light")
    yield opened
    opened.close()


def _submit(page: Page, username: str, password: str) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form.stacked button[type=submit]")


def _error_colours(page: Page) -> list[str]:
    """The alert's text colour, and the colour the stylesheet names for errors."""
    colours: list[str] = page.locator("p.alert.error").evaluate(
        """alert => {
            const probe = document.createElement("span");
            probe.style.color = "var(--error)";
            document.body.append(probe);
            const wanted = getComputedStyle(probe).color;
            probe.remove();
            return [getComputedStyle(alert).color, wanted];
        }"""
    )
    return colours


def test_a_throttled_login_shows_the_wait_as_an_error_in_the_pages_language(
    context: BrowserContext, server: str, settings: Settings, engine: Engine, language: str
) -> None:
    username = USERNAMES[language]
    requests = Requests()
    page = requests.watch(context.new_page())
    page.goto(f"{server}/login")
    assert page.locator("html").get_attribute("lang") == language
    for _ in range(settings.login_backoff_threshold):
        _submit(page, username, WRONG)
        expect(page.locator("p.alert.error")).to_have_text(
            translate(language, InvalidCredentials.title)
        )

    _submit(page, username, DEMO_PASSWORD)

    alert = page.locator("p.alert.error[role=alert]")
    wait = wait_text(language, settings.login_backoff_base_seconds)
    expect(alert).to_have_text(translate(language, THROTTLED, wait=wait))
    colour, error_colour = _error_colours(page)
    assert colour == error_colour
    expect(page.locator("#username")).to_have_value(username)
    expect(page.locator("a.account-link")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        expect(alert).to_be_in_viewport()
        page.screenshot(path=str(ARTIFACTS / f"login-throttled-{language}-{size}.png"))
    requests.assert_stayed_on(server)

    # The server counts by the connection's address: a header the client writes is not
    # believed, and another address is another count.
    wrong = {"username": "nobody.here", "password": WRONG}
    for forged in ("192.0.2.44", "192.0.2.45"):
        assert (
            httpx.post(
                f"{server}/api/v1/auth/token", json=wrong, headers={"X-Forwarded-For": forged}
            ).status_code
            == 401
        )
    elsewhere = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=server, transport=elsewhere) as member:
        assert member.post("/api/v1/auth/token", json=wrong).status_code == 401
    with engine.connect() as connection:
        counted = connection.execute(
            select(LoginThrottle.client_address, LoginThrottle.failures)
            .where(LoginThrottle.username == "nobody.here")
            .order_by(LoginThrottle.client_address)
        ).all()
    assert [tuple(row) for row in counted] == [("127.0.0.1", 2), ("127.0.0.2", 1)]
