"""The de-escalation track in real browsers: the verifier records an inspection over the limit
(78 ALPHA tanks in ALPHA's 0-10 km band, R2: at most 75) through the API; ALPHA's and
BRAVO's liaison officers, each watching the de-escalation page in their own browser, see the
same candidate arrive live on the page's one stream, on bars drawn on the same scale; then
the verifier counts as many BRAVO tanks in BRAVO's band and both pages show the mirror. On
the map each side sees its own holdings and the other's in its own colours, and the time
slider shows the situation before the inspection. The pages are photographed in en / ar / he
on a desktop and a phone into test-artifacts/."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_console_layout import switch_language
from tests.e2e.test_intel import Members, streams
from tests.servers import serve_cell

from fusioncell.config import Settings
from fusioncell.scenario.deescalation_story import load_deescalation_story

LIVE_MS = 10_000
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
ALPHA_0_10 = (35.72, 33.20)
BRAVO_0_10 = (35.95, 33.38)
TANKS_ROW = 'tr.deesc-row[data-row="own:0-10:tank"]'
ALPHA_CANDIDATE = "#candidate-R2-ALPHA-limitation-alpha-0-10-tank-count"
BRAVO_CANDIDATE = "#candidate-R2-BRAVO-limitation-bravo-0-10-tank-count"


@pytest.fixture
def members(browser: Browser, server: str, demo_password: str) -> Iterator[Members]:
    opened = Members(browser, server, demo_password)
    yield opened
    opened.close()


def token(server: str, username: str, password: str) -> dict[str, str]:
    response = httpx.post(
        f"{server}/api/v1/auth/token", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def inspect(
    server: str, headers: dict[str, str], *, party: str, where: tuple[float, float]
) -> dict[str, Any]:
    """The verifier's count on site: two tank companies, 40 and 38 (78), seen minutes ago."""
    seen = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    features = [
        {
            "type": "Feature",
            "id": f"e2e-{uuid.uuid4()}",
            "geometry": {"type": "Point", "coordinates": list(where)},
            "properties": {
                "unit": f"{party.lower()}-tank-company-{n}",
                "party": party,
                "category": "tank",
                "count": count,
                "observed_at": seen,
                "source": "inspection",
            },
        }
        for n, count in ((1, 40), (2, 38))
    ]
    response = httpx.post(
        f"{server}/api/v1/deescalation/observations",
        json={"type": "FeatureCollection", "features": features},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def bar(page: Page, party: str) -> Any:
    return page.locator(f'{TANKS_ROW} td[data-party="{party}"] .bar')


def fill_width(page: Page, party: str) -> float:
    box = page.locator(f'{TANKS_ROW} td[data-party="{party}"] .bar-fill').bounding_box()
    assert box is not None
    return float(box["width"])


def test_both_parties_see_the_inspection_over_the_limit_live_on_one_scale(
    members: Members, server: str, demo_password: str
) -> None:
    pages = {party: members.page(f"{party.lower()}.liaison") for party in ("ALPHA", "BRAVO")}
    for page in pages.values():
        page.goto(f"{server}/deescalation")
        expect(page.locator("#deescalation")).to_have_attribute(
            "data-live", "open", timeout=LIVE_MS
        )
        expect(page.locator("#no-candidates")).to_be_visible()
        expect(page.locator(TANKS_ROW)).to_have_attribute("data-scale", "75")  # the limit alone
        expect(page.locator("#inspections-link")).to_have_attribute(
            "href", "/deescalation/inspections"
        )

    verifier = token(server, "verifier.lead", demo_password)
    raised = inspect(server, verifier, party="ALPHA", where=ALPHA_0_10)["candidates"]
    assert [(c["rule"], c["value"], c["limit"]) for c in raised] == [("R2", 78, 75)]

    for party, page in pages.items():
        candidate = page.locator(ALPHA_CANDIDATE)
        expect(candidate).to_be_visible(timeout=LIVE_MS)
        expect(candidate).to_have_attribute("data-value", "78")
        expect(candidate).to_have_attribute("data-limit", "75")
        expect(candidate).to_contain_text("alpha-tank-company-1")  # the evidence
        expect(candidate).to_contain_text("alpha-tank-company-2")
        expect(page.locator(TANKS_ROW)).to_have_attribute("data-scale", "78")
        expect(bar(page, "ALPHA")).to_have_attribute("data-width", "100.00%")
        expect(bar(page, "BRAVO")).to_have_attribute("data-width", "0.00%")
        expect(page.locator(f'{TANKS_ROW} td[data-party="ALPHA"]')).to_have_attribute(
            "data-state", "candidate"
        )
        # The page changed in place: no reload, the one stream.
        assert int(page.locator("#deescalation").get_attribute("data-refreshed") or 0) >= 1
        assert streams(page) == 1, party
    # The same bar, to the pixel, on both sides' pages.
    assert fill_width(pages["ALPHA"], "ALPHA") == fill_width(pages["BRAVO"], "ALPHA") > 0
    limit = f'{TANKS_ROW} td[data-party="ALPHA"] .bar-limit'
    assert (
        pages["ALPHA"].locator(limit).get_attribute("style")
        == pages["BRAVO"].locator(limit).get_attribute("style")
        == "inset-inline-start: 96.15%"
    )

    # The mirror: as many BRAVO tanks in BRAVO's band, the same candidate for BRAVO.
    inspect(server, verifier, party="BRAVO", where=BRAVO_0_10)
    for page in pages.values():
        expect(page.locator(BRAVO_CANDIDATE)).to_be_visible(timeout=LIVE_MS)
        expect(page.locator(BRAVO_CANDIDATE)).to_have_attribute("data-value", "78")
        expect(bar(page, "BRAVO")).to_have_attribute("data-width", "100.00%")
        expect(page.locator(TANKS_ROW)).to_have_attribute("data-scale", "78")
    # Both columns share the table's width (to a fraction of a pixel of layout rounding).
    for page in pages.values():
        assert fill_width(page, "ALPHA") == pytest.approx(fill_width(page, "BRAVO"), abs=1)
    members.requests.assert_stayed_on(server)


def test_the_map_shows_each_side_its_own_and_the_others_holdings_and_the_past(
    members: Members, server: str, demo_password: str
) -> None:
    inspect(server, token(server, "verifier.lead", demo_password), party="ALPHA", where=ALPHA_0_10)
    symbols = ".leaflet-holdings-pane .holding-symbol"
    for username, affiliation in (
        ("alpha.liaison", "own"),
        ("bravo.liaison", "other"),
        ("supervisor.chair", "neutral"),
    ):
        page = members.page(username)
        page.goto(f"{server}/map")
        # The intelligence layer (none released here), then the holdings.
        expect(page.locator("#map")).to_have_attribute(
            "data-layers-drawn", "0,2,0", timeout=LIVE_MS
        )
        expect(page.locator(symbols)).to_have_count(2)
        for symbol in page.locator(symbols).all():
            expect(symbol).to_have_attribute("data-affiliation", affiliation)
            expect(symbol).to_have_attribute("data-candidate", "true")
            expect(symbol).to_have_class(re.compile(rf"\bholding-{affiliation}\b"))
            expect(symbol).to_have_class(re.compile(r"\bholding-candidate\b"))
        page.locator(".leaflet-control-layers").hover()
        expect(page.locator(".leaflet-control-layers")).to_contain_text("Intelligence reports")
        expect(page.locator(".leaflet-control-layers")).to_contain_text("Holdings")
        page.mouse.move(0, 0)

    # ALPHA's page: a popup, then the time slider back to the freeze and forward to now.
    page = members.contexts[0].pages[0]
    page.locator(symbols).first.click()
    popup = page.locator(".leaflet-popup .map-holding-popup")
    expect(popup).to_contain_text("Tanks")
    expect(popup).to_contain_text("R2")
    expect(popup).to_contain_text("ALPHA (Own party)")
    page.keyboard.press("Escape")
    slider = page.locator("#map-time-range")
    slider.focus()
    page.keyboard.press("Home")
    expect(page.locator("#map")).to_have_attribute("data-at", "2026-01-06T00:00:00Z")
    expect(page.locator("#map")).to_have_attribute("data-layers-drawn", "0,0,0")
    expect(page.locator("#map-time-value")).to_have_text("2026-01-06 00:00 UTC")
    expect(page.locator(symbols)).to_have_count(0)
    page.locator("button.map-time-now").click()
    expect(page.locator("#map")).to_have_attribute("data-at", "")
    expect(page.locator(symbols)).to_have_count(2)
    members.requests.assert_stayed_on(server)


@pytest.fixture
def story(database_url: str, demo: None, settings: Settings, db: Session) -> Iterator[str]:
    """The demo with its de-escalation story told an hour ago: baselines, inspections over the
    limits, reports, an exception in force."""
    load_deescalation_story(db, start=datetime.now(UTC) - timedelta(hours=1))
    db.rollback()
    with serve_cell(database_url, settings) as (base, _process):
        yield base


def test_the_deescalation_pages_are_photographed_in_every_language(
    browser: Browser, story: str, demo_password: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    opened = Members(browser, story, demo_password)
    try:
        for viewport, size in VIEWPORTS.items():
            page = opened.page("alpha.liaison", viewport=size)
            for language in ("en", "ar", "he"):
                page.goto(f"{story}/deescalation")
                switch_language(page, language)
                for name, path in (("page", "/deescalation"), ("map", "/map")):
                    page.goto(f"{story}{path}")
                    direction = "ltr" if language == "en" else "rtl"
                    expect(page.locator("html")).to_have_attribute("dir", direction)
                    if name == "map":
                        expect(page.locator("#map")).to_have_attribute(
                            "data-layers-drawn", re.compile(r",[1-9]"), timeout=LIVE_MS
                        )
                        expect(page.locator("#map-time")).to_be_visible()
                    else:
                        expect(page.locator(".deesc-candidate").first).to_be_visible()
                        # The bars keep a readable width, even on a phone.
                        box = page.locator(".deesc-row .bar").first.bounding_box()
                        assert box is not None and box["width"] >= 150, (language, viewport)
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= size["width"], (name, language, viewport, width)
                    page.screenshot(
                        path=str(ARTIFACTS / f"deescalation-{name}-{language}-{viewport}.png"),
                        full_page=name == "page",
                    )
        opened.requests.assert_stayed_on(story)
    finally:
        opened.close()
