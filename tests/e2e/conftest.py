"""A real server process and a real browser (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from tests.e2e.browsing import Requests
from tests.servers import serve_cell

from fusioncell.config import Settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = os.environ.get("FUSIONCELL_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
# Without these, chromium reaches for Google's hosts at start-up; the cell is air-gapped.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def server(database_url: str, demo: None, settings: Settings) -> Iterator[str]:
    """``fusioncell serve`` on the test database, with the demo scenario loaded."""
    with serve_cell(database_url, settings) as (base, _process):
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Per module: Playwright's sync API keeps an event loop on this thread while it runs, which
    would stop later tests' TestClient from starting its own."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: run `make chromium`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if getattr(report, "when", None) == "call" and getattr(report, "failed", False):
        item.stash.setdefault(FAILED, True)  # type: ignore[arg-type]
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB")
    opened = context.new_page()
    yield opened
    if request.node.stash.get(FAILED, False):
        ARTIFACTS.mkdir(exist_ok=True)
        opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def requests(page: Page) -> Requests:
    """Every request ``page`` makes, to prove none left the host."""
    watched = Requests()
    watched.watch(page)
    return watched
