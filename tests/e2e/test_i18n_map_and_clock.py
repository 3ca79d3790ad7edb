"""Language all the way down, in a real browser: in English (left to right) and Arabic (right to
left), on a desktop and a phone. The map's Leaflet controls sit in the mirrored corners on a
right-to-left page, its legend folds away on a phone (a button, closed at first, that the
keyboard opens), the header's clock shows UTC with the browser's local time beside it (UTC alone
on a phone), and the organisations page names each organisation in the page's language.
Screenshots of the map and the organisations page go to test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect
from tests.e2e.browsing import Requests, log_in
from tests.e2e.conftest import ARTIFACTS

from fusioncell.scenario.demo import ORGANISATIONS

VIEWPORTS = {
    "desktop": ViewportSize(width=1366, height=900),
    "phone": ViewportSize(width=390, height=844),
}
MAP_SECONDS = 15


@pytest.fixture
def context(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    viewport = request.node.callspec.params["viewport"]
    opened = browser.new_context(
        locale="en-GB",
        timezone_id="Asia/Jerusalem",  # two hours from UTC in January: the local time differs
        viewport=VIEWPORTS[viewport],
        is_mobile=viewport == "phone",
    )
    yield opened
    opened.close()


def open_in(page: Page, server: str, password: str, language: str) -> None:
    log_in(page, server, "supervisor.chair", password)
    if language != "en":
        page.eval_on_selector(
            "form.language-switch",
            "(form, language) => { form.language.value = language; form.submit(); }",
            language,
        )
        expect(page.locator("html")).to_have_attribute("lang", language)


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"i18n-{name}.png"))


def corner_of(page: Page, selector: str) -> tuple[str, str]:
    """Which of Leaflet's corners (top/bottom, left/right) holds ``selector``."""
    classes = page.eval_on_selector(
        selector, "(e) => e.closest('.leaflet-top, .leaflet-bottom').className"
    )
    vertical = "top" if "leaflet-top" in classes else "bottom"
    horizontal = "left" if "leaflet-left" in classes else "right"
    return vertical, horizontal


@pytest.mark.parametrize(
    ("language", "viewport"),
    [("en", "desktop"), ("en", "phone"), ("ar", "desktop"), ("ar", "phone")],
)
def test_the_map_mirrors_its_controls_and_folds_its_legend_on_a_phone(
    context: BrowserContext, server: str, demo_password: str, language: str, viewport: str
) -> None:
    requests = Requests()
    page = requests.watch(context.new_page())
    open_in(page, server, demo_password, language)
    page.goto(f"{server}/map")
    expect(page.locator("#map")).to_have_class(
        re.compile(r"\bmap-ready\b"), timeout=MAP_SECONDS * 1000
    )

    rtl = language == "ar"
    start = "right" if rtl else "left"
    assert corner_of(page, ".leaflet-control-zoom") == ("top", start)
    assert corner_of(page, ".map-legend") == ("bottom", start)
    zoom = page.locator(".leaflet-control-zoom").bounding_box()
    assert zoom is not None
    width = VIEWPORTS[viewport]["width"]
    assert (zoom["x"] > width / 2) == rtl

    legend = page.locator("details.map-legend")
    summary = legend.locator("summary.map-legend-title")
    entries = legend.locator("li")
    expect(summary).to_be_visible()
    if viewport == "phone":
        # Folded at first; the keyboard opens and closes it.
        expect(legend).not_to_have_attribute("open", re.compile(".*"))
        expect(entries.first).to_be_hidden()
        shoot(page, f"map-{language}-{viewport}-folded")
        summary.focus()
        page.keyboard.press("Enter")
        expect(legend).to_have_attribute("open", "")
        expect(entries.first).to_be_visible()
        shoot(page, f"map-{language}-{viewport}-open")
        # A layer arriving now redraws the entries, and the focus stays on the summary.
        page.evaluate("document.querySelector('#map').fusioncellMap.renderLegend()")
        assert page.evaluate(
            "document.activeElement && document.activeElement.matches('summary.map-legend-title')"
        )
        page.keyboard.press("Space")
        expect(entries.first).to_be_hidden()
    else:
        expect(legend).to_have_attribute("open", "")
        expect(entries.first).to_be_visible()
        shoot(page, f"map-{language}-{viewport}")
    # Zone labels stay in English: they name agreed geometry.
    expect(page.locator("#map .leaflet-tooltip").first).to_be_attached()
    requests.assert_stayed_on(server)


@pytest.mark.parametrize(
    ("language", "viewport"),
    [("en", "desktop"), ("ar", "phone")],
)
def test_the_header_clock_shows_utc_and_local_time_and_organisations_have_their_names(
    context: BrowserContext, server: str, demo_password: str, language: str, viewport: str
) -> None:
    page = context.new_page()
    open_in(page, server, demo_password, language)
    page.goto(f"{server}/organisations")

    utc = page.locator("#header-clock .clock-utc")
    local = page.locator("#header-clock .clock-local")
    expect(utc).to_be_visible()
    expect(utc).to_contain_text("UTC")
    if viewport == "phone":
        expect(local).to_be_hidden()  # a phone's header keeps only UTC
    else:
        expect(local).to_be_visible()
    expect(local).to_have_attribute("title", "Asia/Jerusalem")
    utc_hour = int(re.findall(r"\d+", utc.inner_text())[0])
    local_hour = int(re.findall(r"\d+", local.inner_text())[0])
    assert local_hour != utc_hour  # two hours apart (or on the other side of noon)
    if language == "en":
        expect(local).to_contain_text(re.compile(r"^local \d{1,2}:\d\d:\d\d"))
    else:
        expect(local).to_contain_text("المحلي")

    for organisation in ORGANISATIONS:
        name = organisation.names.get(language, organisation.name)
        expect(page.locator("#organisations")).to_contain_text(name)
    shoot(page, f"organisations-{language}-{viewport}")
