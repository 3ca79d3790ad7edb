"""The duty officer's console in real browsers: what needs the member shows on every page, a
FLASH raises the banner wherever they are and is acknowledged from it (and leaves every tab),
and a dropped stream is said plainly."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy.orm import Session
from tests.e2e.browsing import log_in
from tests.e2e.conftest import ARTIFACTS
from tests.hotline.factories import send
from tests.servers import serve_cell

from fusioncell.cell.policy import Viewer
from fusioncell.config import Settings

LIVE_MS = 5000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture
def cell(
    database_url: str, demo: None, settings: Settings, db: Session
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``fusioncell serve`` on the demo database, as a process the test may kill. The test's
    own session ends its read first: SQLite would hold the server's writes behind it."""
    db.rollback()
    with serve_cell(database_url, settings) as served:
        yield served


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def signed_in(
    browser: Browser,
    contexts: list[BrowserContext],
    base: str,
    username: str,
    password: str,
    *,
    viewport: dict[str, int] = DESKTOP,
    locale: str = "en-GB",
) -> Page:
    context = browser.new_context(locale=locale, viewport=viewport)
    contexts.append(context)
    page = context.new_page()
    log_in(page, base, username, password)
    return page


def live(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#console-connection")).to_have_attribute(
        "data-state", "open", timeout=LIVE_MS
    )


def test_a_flash_raises_the_banner_on_the_map_and_is_acknowledged_from_it_on_every_tab(
    browser: Browser,
    contexts: list[BrowserContext],
    cell: tuple[str, subprocess.Popen[bytes]],
    demo_password: str,
    db: Session,
    member: Callable[[str], Viewer],
) -> None:
    base, _process = cell
    on_map = signed_in(browser, contexts, base, "bravo.duty", demo_password, locale="he")
    second_tab = on_map.context.new_page()
    live(on_map, f"{base}/map")
    live(second_tab, f"{base}/organisations")
    expect(on_map.locator("#console-alert")).to_be_hidden()

    message = send(db, member("alpha.liaison"), now=datetime.now(UTC), text="Convoy at the ford.")
    db.rollback()

    banner = on_map.locator("#console-alert")
    expect(banner).to_be_visible(timeout=LIVE_MS)
    expect(banner).to_contain_text("Convoy at the ford.")
    expect(banner.locator("time.countdown")).to_have_attribute(
        "data-deadline-ms", re.compile(r"^\d+$")
    )
    expect(banner.locator("a.console-alert-open")).to_have_attribute(
        "href", f"/hotline#message-{message.id}"
    )
    expect(on_map.locator("body")).to_have_attribute("data-beeps", re.compile(r"^[1-9]"))
    expect(on_map.locator(f"#console-item-{message.id}")).to_be_visible()
    assert re.match(r"^\(\d+\) ", on_map.title()), on_map.title()
    expect(second_tab.locator("#console-alert")).to_be_visible(timeout=LIVE_MS)

    ARTIFACTS.mkdir(exist_ok=True)
    on_map.screenshot(path=str(ARTIFACTS / "console-flash-on-map-en-desktop.png"))
    on_map.evaluate("window.notReloaded = true")
    banner.locator("button.ack").click()

    expect(banner).to_be_hidden(timeout=LIVE_MS)
    expect(on_map.locator(f"#console-item-{message.id}")).to_have_count(0)
    expect(second_tab.locator("#console-alert")).to_be_hidden(timeout=LIVE_MS)
    expect(second_tab.locator(f"#console-item-{message.id}")).to_have_count(0)
    assert on_map.evaluate("window.notReloaded") is True
    assert on_map.url == f"{base}/map"


def test_an_open_flash_is_the_first_item_of_the_inbox_after_fifty_newer_messages(
    browser: Browser,
    contexts: list[BrowserContext],
    cell: tuple[str, subprocess.Popen[bytes]],
    demo_password: str,
    db: Session,
    member: Callable[[str], Viewer],
) -> None:
    base, _process = cell
    sender = member("alpha.liaison")
    # Deadlines run on the log's clock: the FLASH is open, not yet overdue, when the page loads.
    overdue = send(db, sender, now=datetime.now(UTC), text="Sent before fifty others.")
    for number in range(50):
        send(db, sender, now=datetime.now(UTC), precedence="ROUTINE", text=f"Routine {number}.")
    db.rollback()

    for viewport in (DESKTOP, PHONE):
        page = signed_in(browser, contexts, base, "bravo.duty", demo_password, viewport=viewport)
        page.goto(f"{base}/hotline")
        first = page.locator("#hotline li.message").first
        expect(first).to_have_attribute("id", f"message-{overdue.id}")
        expect(first.locator(".countdown-ack time.countdown")).to_be_visible()
        box = first.bounding_box()
        assert box is not None and box["y"] < viewport["height"], box
        first_item = page.locator("#console-strip .console-item").first
        expect(first_item).to_have_attribute("data-id", str(overdue.id))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_killing_the_server_shows_the_disconnected_state_within_three_seconds(
    browser: Browser,
    contexts: list[BrowserContext],
    cell: tuple[str, subprocess.Popen[bytes]],
    demo_password: str,
    viewport: dict[str, int],
) -> None:
    base, process = cell
    page = signed_in(
        browser, contexts, base, "bravo.duty", demo_password, viewport=viewport, locale="ar"
    )
    live(page, f"{base}/map")

    process.kill()
    process.wait(timeout=10)

    state = page.locator("#console-connection")
    expect(state).to_have_attribute("data-state", "down", timeout=3000)
    expect(state).to_contain_text(re.compile(r"\d\d:\d\d\s*UTC"))
    expect(page.locator(".site-header")).to_have_attribute("data-connection", "down")
    header = page.locator(".site-header").bounding_box()
    assert header is not None
    size = "phone" if viewport is PHONE else "desktop"
    page.screenshot(path=str(ARTIFACTS / f"console-disconnected-{size}.png"))
    if viewport is PHONE:
        assert header["height"] < 120, header
