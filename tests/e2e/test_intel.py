"""Intelligence relayed through the supervisor, in real browsers: ALPHA's analyst submits an
observation released to the supervisor only; the chair previews a sanitised version side by
side and releases it to BRAVO; BRAVO's analyst, watching the list, is told of the derived
report live (never of the original, which stays 404 for BRAVO) and disputes it; the dispute
is on the derived report's page for ALPHA too. Each page has one event stream (console.js's),
which intel.js listens to. The located reports are a layer on the map. The intelligence pages
are photographed in en / ar / he on a desktop and a phone into test-artifacts/."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.e2e.browsing import Requests, log_in
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_console_layout import switch_language

LIVE_MS = 10_000
REPORT_URL = re.compile(r"/intel/reports/([0-9a-f-]{36})$")
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
# Count the page's event streams: console.js's must be the only one.
COUNT_STREAMS = """
(() => {
  const Original = window.EventSource;
  window.__streams = 0;
  window.EventSource = function (url, options) {
    window.__streams += 1;
    return new Original(url, options);
  };
  window.EventSource.prototype = Original.prototype;
  window.EventSource.CLOSED = Original.CLOSED;
  window.EventSource.OPEN = Original.OPEN;
  window.EventSource.CONNECTING = Original.CONNECTING;
})();
"""


class Members:
    def __init__(self, browser: Browser, server: str, password: str) -> None:
        self.browser, self.server, self.password = browser, server, password
        self.contexts: list[BrowserContext] = []
        self.requests = Requests()

    def page(self, username: str, **options: object) -> Page:
        context = self.browser.new_context(locale="en-GB", **options)  # type: ignore[arg-type]
        context.add_init_script(COUNT_STREAMS)
        self.contexts.append(context)
        page = self.requests.watch(context.new_page())
        log_in(page, self.server, username, self.password)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def members(browser: Browser, server: str, demo_password: str) -> Iterator[Members]:
    opened = Members(browser, server, demo_password)
    yield opened
    opened.close()


def submit_observation(page: Page, server: str) -> str:
    page.goto(f"{server}/intel/new")
    form = page.locator("#observation-form")
    form.locator("input[name=title]").fill("Convoy staging at the quarry")
    form.locator("textarea[name=description]").fill("Twelve trucks and two cranes at dawn.")
    form.locator("input[name=place]").fill("Quarry road")
    location = {"type": "Point", "coordinates": [35.8731, 33.1517]}
    form.locator("textarea[name=location]").fill(json.dumps(location))
    form.locator("input[name=grade]").fill("B2")
    for box in form.locator("input[name=release_to]").all():
        expect(box).not_to_be_checked()  # released to the supervisor only
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(REPORT_URL)
    found = REPORT_URL.search(page.url)
    assert found is not None
    return found.group(1)


def streams(page: Page) -> int:
    return int(page.evaluate("window.__streams"))


def test_alpha_submits_to_the_supervisor_who_relays_a_sanitised_report_that_bravo_disputes(
    members: Members, server: str
) -> None:
    alpha = members.page("alpha.analyst")
    chair = members.page("supervisor.chair")
    bravo = members.page("bravo.analyst")
    bravo.goto(f"{server}/intel")
    expect(bravo.locator("#intel")).to_have_attribute("data-live", "open", timeout=LIVE_MS)

    original = submit_observation(alpha, server)
    expect(alpha.locator("#intel")).to_contain_text("Convoy staging at the quarry")
    # Not released to BRAVO: not found, and nothing was announced.
    assert bravo.request.get(f"{server}/intel/reports/{original}").status == 404
    expect(bravo.locator("#intel-arrived")).to_be_hidden()

    chair.goto(f"{server}/intel/reports/{original}/release")
    form = chair.locator("#release-form")
    form.locator("input[name=redact]").fill("name")
    form.locator("input[name=grid_km]").fill("10")
    form.locator("input[name=anonymise_source]").check()
    form.locator("input[name=release_to][value=BRAVO]").check()
    form.locator("button", has_text="Preview").click()
    leaves = chair.locator("#what-leaves")
    expect(leaves).to_contain_text("a party of the cell")
    expect(leaves).not_to_contain_text("Quarry road")
    expect(chair.locator("section[aria-labelledby=original-heading]")).to_contain_text(
        "Quarry road"
    )
    chair.locator("#release-form button.primary").click()
    expect(chair).to_have_url(REPORT_URL)
    derived_match = REPORT_URL.search(chair.url)
    assert derived_match is not None
    derived = derived_match.group(1)
    assert derived != original

    # BRAVO hears of the derived report live, on the page's one stream.
    notice = bravo.locator("#intel-arrived")
    expect(notice).to_be_visible(timeout=LIVE_MS)
    expect(notice.locator("a.intel-arrived-link")).to_have_attribute("data-report", derived)
    assert bravo.locator("#intel").get_attribute("data-arrived") == derived
    assert streams(bravo) == 1
    notice.locator("a.intel-arrived-link").click()
    expect(bravo).to_have_url(f"{server}/intel/reports/{derived}")
    report = bravo.locator("#intel")
    expect(report).not_to_contain_text("Quarry road")
    expect(report).not_to_contain_text(original)
    assert bravo.request.get(f"{server}/intel/reports/{original}").status == 404

    respond = bravo.locator("form.intel-respond")
    respond.locator("select[name=opinion]").select_option("strongly-disagree")
    respond.locator("textarea[name=explanation]").fill("There is no quarry on that road.")
    respond.locator("button[type=submit]").click()
    response = bravo.locator("#intel-responses li.intel-response")
    expect(response).to_have_count(1)
    expect(response).to_have_attribute("data-opinion", "strongly-disagree")
    expect(response).to_contain_text("There is no quarry on that road.")

    # ALPHA sees the dispute on the release of its report.
    alpha.goto(f"{server}/intel/reports/{derived}")
    expect(alpha.locator("#intel-responses li.intel-response")).to_contain_text(
        "There is no quarry on that road."
    )
    assert streams(alpha) == 1

    # The derived report, not the original, is on BRAVO's map layer.
    bravo.goto(f"{server}/map")
    # The intelligence layer first; then the de-escalation track's holdings (none here).
    expect(bravo.locator("#map")).to_have_attribute(
        "data-layers-drawn", re.compile(r"^1(,0)*$"), timeout=LIVE_MS
    )
    bravo.locator(".leaflet-control-layers").hover()
    expect(bravo.locator(".leaflet-control-layers")).to_contain_text("Intelligence reports")
    bravo.mouse.move(0, 0)
    bravo.locator(".leaflet-tracks-pane path").click()
    popup = bravo.locator(".leaflet-popup .map-layer-popup")
    expect(popup).to_contain_text("B2 · TLP:AMBER")
    expect(popup.locator("a")).to_have_attribute("href", f"/intel/reports/{derived}")
    members.requests.assert_stayed_on(server)


def test_the_intelligence_pages_are_photographed_in_every_language(
    members: Members, server: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    alpha = members.page("alpha.analyst")
    original = submit_observation(alpha, server)
    for viewport, size in VIEWPORTS.items():
        chair = members.page("supervisor.chair", viewport=size)
        for language in ("en", "ar", "he"):
            chair.goto(f"{server}/intel")
            switch_language(chair, language)
            for name, path in (
                ("list", "/intel"),
                ("report", f"/intel/reports/{original}"),
                ("release", f"/intel/reports/{original}/release?grid_km=10&anonymise_source=1"),
                ("map", "/map"),
            ):
                chair.goto(f"{server}{path}")
                direction = "ltr" if language == "en" else "rtl"
                expect(chair.locator("html")).to_have_attribute("dir", direction)
                if name == "map":
                    expect(chair.locator("#map")).to_have_attribute(
                        "data-layers-drawn", re.compile(r"^[1-9]"), timeout=LIVE_MS
                    )
                width = chair.evaluate("document.documentElement.scrollWidth")
                assert width <= size["width"], (name, language, viewport, width)
                chair.screenshot(path=str(ARTIFACTS / f"intel-{name}-{language}-{viewport}.png"))
        alpha_phone = members.page("alpha.analyst", viewport=size)
        alpha_phone.goto(f"{server}/intel/new")
        alpha_phone.screenshot(path=str(ARTIFACTS / f"intel-new-en-{viewport}.png"))
    members.requests.assert_stayed_on(server)
