"""The console's layout in en / ar / he, on a desktop (1366x768) and a phone (390x844): the
header is one row on the desktop and under 120 px on the phone, whatever the language; a
screenshot of each page, with the demo's hotline and intelligence stories in it, goes to test-artifacts/ for a
reviewer to look at."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy.orm import Session
from tests.e2e.browsing import log_in, switch_language
from tests.e2e.conftest import ARTIFACTS
from tests.servers import serve_cell

from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.scenario.hotline_story import LEAD, load_hotline_story
from fusioncell.scenario.intel_story import load_intel_story, story_id

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
PAGES = (
    "/hotline",
    "/map",
    "/record",
    "/organisations",
    "/account",
    "/hotline/deadlines",
    "/intel",
    f"/intel/reports/{story_id('alpha/relayed/release')}",
)


@pytest.fixture
def cell(
    database_url: str, demo: None, settings: Settings, db: Session, clock: ManualClock
) -> Iterator[str]:
    """The demo with its hotline story told, so that each page is photographed with its
    content: open and escalated deadlines, the strip and the banner."""
    load_hotline_story(db, start=clock.now())
    load_intel_story(db, start=clock.now() + LEAD)
    db.rollback()
    with serve_cell(database_url, settings) as (base, _process):
        yield base


def one_row(page: Page) -> bool:
    """Every item of the header (brand, links, tools) on the same line."""
    tops = page.evaluate(
        """() => Array.from(document.querySelectorAll(
            '.site-header .brand, .site-header nav a, .site-header .header-tools > *'))
          .filter(e => e.offsetParent !== null)
          .map(e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; })"""
    )
    lowest_top = max(top for top, _bottom in tops)
    highest_bottom = min(bottom for _top, bottom in tops)
    return bool(lowest_top < highest_bottom)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=list(VIEWPORTS))
def test_the_header_fits_in_every_language_and_each_page_is_photographed(
    browser: Browser, cell: str, demo_password: str, viewport: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(locale="en-GB", viewport=VIEWPORTS[viewport])
    try:
        page = context.new_page()
        page.goto(f"{cell}/login")
        page.screenshot(path=str(ARTIFACTS / f"console-login-en-{viewport}.png"))
        log_in(page, cell, "supervisor.duty", demo_password)
        for language in ("en", "ar", "he"):
            page.goto(f"{cell}/hotline")
            switch_language(page, language)
            for path in PAGES:
                page.goto(f"{cell}{path}")
                header = page.locator(".site-header").bounding_box()
                assert header is not None
                if viewport == "desktop":
                    assert one_row(page), (language, path)
                else:
                    assert header["height"] < 120, (language, path, header)
                    # Nothing wider than the phone: tables scroll inside their box.
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= VIEWPORTS[viewport]["width"], (language, path, width)
                name = path.strip("/").replace("/", "-")
                name = "intel-report" if name.startswith("intel-reports") else name
                page.screenshot(path=str(ARTIFACTS / f"console-{name}-{language}-{viewport}.png"))
        switch_language(page, "en")
    finally:
        context.close()
