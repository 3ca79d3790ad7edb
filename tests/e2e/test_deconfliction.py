"""Deconfliction in real browsers. HUM-1 notifies a convoy from the compose form, seeing the
lead-time verdict before it sends; both parties' duty officers, watching the page, see it
arrive live and acknowledge receipt, and HUM-1's page shows each acknowledgement as it comes
(receipt, never approval). ALPHA's liaison notifies engineering works beside Majdal Shams:
the check flags the conflict with the protected site, and ALPHA amends the works away,
clear; BRAVO's page follows the amendment live. Each page has one event stream
(console.js's). The three pages are photographed in en / ar / he on a desktop and a phone
into test-artifacts/, with the words on receipt in each language."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_console_layout import switch_language
from tests.e2e.test_intel import Members
from tests.servers import serve_cell

from fusioncell.config import Settings
from fusioncell.scenario.protection_story import load_protection_story

LIVE_MS = 15_000
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
NOTIFICATION = re.compile(r"/deconfliction#notification-([0-9a-f-]{36})$")
CONVOY = {
    "type": "LineString",
    "coordinates": [[36.100, 32.617], [36.30, 32.66], [36.5667, 32.7125]],
}
# About 1.25 km from the Majdal Shams site: inside the two buffers (2 km each).
BESIDE_MAJDAL_SHAMS = {"type": "Point", "coordinates": [35.755, 33.262]}
AWAY_FROM_SITES = {"type": "Point", "coordinates": [35.70, 33.20]}
RECEIPT = {
    "en": "An acknowledgement is receipt, never approval.",
    "ar": "الإقرار استلامٌ، وليس موافقة أبدًا.",
    "he": "אישור הוא קבלה, לעולם לא הסכמה.",
}


@pytest.fixture
def members(browser: Browser, server: str, demo_password: str) -> Iterator[Members]:
    opened = Members(browser, server, demo_password)
    yield opened
    opened.close()


def local(moment: datetime) -> str:
    """A datetime-local value: the forms read it as UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def compose(page: Page, *, geometry: dict[str, object], hours_ahead: int, text: str) -> str:
    """Fill the compose form (its kind already chosen), wait for the verdict, send; returns
    the notification's id."""
    form = page.locator("#compose-form")
    starts = datetime.now(UTC) + timedelta(hours=hours_ahead)
    form.locator("textarea[name=geometry]").fill(json.dumps(geometry))
    form.locator("input[name=starts_at]").fill(local(starts))
    form.locator("input[name=ends_at]").fill(local(starts + timedelta(hours=6)))
    form.locator("textarea[name=description]").fill(text)
    return starts.isoformat()


def sent_id(page: Page) -> str:
    expect(page).to_have_url(NOTIFICATION)
    found = NOTIFICATION.search(page.url)
    assert found is not None
    return found.group(1)


def test_hum1_notifies_a_convoy_both_parties_acknowledge_live_and_alpha_amends_a_conflict(
    members: Members, server: str
) -> None:
    hum = members.page("hum1.coordinator")
    alpha_duty = members.page("alpha.duty")
    bravo_duty = members.page("bravo.duty")
    for page in (hum, alpha_duty, bravo_duty):
        page.goto(f"{server}/deconfliction")
        expect(page.locator("#deconfliction")).to_have_attribute(
            "data-live", "open", timeout=LIVE_MS
        )
        expect(page.locator(".dc-receipt")).to_contain_text(RECEIPT["en"])

    # HUM-1 composes a convoy 50 hours ahead: the verdict says on time before it is sent.
    expect(hum.locator("#compose-kind")).to_have_value("movement")
    hum.locator("#compose-category").select_option("convoy")
    compose(hum, geometry=CONVOY, hours_ahead=50, text="Flour and insulin, Daraa to Suwayda")
    hum.locator("#compose-form input[name=vehicles]").fill("12")
    hum.locator("#compose-form input[name=contact]").fill("Convoy leader +000 555 0103")
    expect(hum.locator("#compose-verdict .dc-verdict")).to_have_attribute(
        "data-lead-time", "on_time", timeout=LIVE_MS
    )
    # Too soon would be late: the verdict follows the form.
    hum.locator("#compose-form input[name=starts_at]").fill(
        local(datetime.now(UTC) + timedelta(hours=20))
    )
    expect(hum.locator("#compose-verdict .dc-verdict")).to_have_attribute(
        "data-lead-time", "late", timeout=LIVE_MS
    )
    hum.locator("#compose-form input[name=starts_at]").fill(
        local(datetime.now(UTC) + timedelta(hours=50))
    )
    expect(hum.locator("#compose-verdict .dc-verdict")).to_have_attribute(
        "data-lead-time", "on_time", timeout=LIVE_MS
    )
    hum.locator("#compose-form button[name=send]").click()
    convoy = sent_id(hum)
    card = hum.locator(f"#notification-{convoy}")
    expect(card.locator(".dc-badge.lead-on_time")).to_be_visible()
    for party in ("ALPHA", "BRAVO"):
        expect(card.locator(f'.dc-ack[data-party="{party}"]')).to_have_attribute(
            "data-acknowledged", "no"
        )
    # The map draws the convoy's route and its buffer.
    expect(hum.locator("#dc-map")).to_have_attribute(
        "data-overlay-drawn", re.compile(r"[1-9]"), timeout=LIVE_MS
    )

    # Each party's duty officer sees it arrive without reloading, and acknowledges receipt.
    for duty, party in ((alpha_duty, "ALPHA"), (bravo_duty, "BRAVO")):
        arrived = duty.locator(f"#notification-{convoy}")
        expect(arrived).to_be_visible(timeout=LIVE_MS)
        arrived.locator("button.dc-acknowledge").click()
        expect(
            duty.locator(f'#notification-{convoy} .dc-ack[data-party="{party}"]')
        ).to_have_attribute("data-acknowledged", "yes")
        # HUM-1's page shows that receipt as it comes.
        expect(card.locator(f'.dc-ack[data-party="{party}"]')).to_have_attribute(
            "data-acknowledged", "yes", timeout=LIVE_MS
        )
    assert int(hum.locator("#deconfliction").get_attribute("data-refreshed") or 0) >= 2

    # ALPHA's engineering works beside Majdal Shams: flagged in conflict with the site.
    alpha = members.page("alpha.liaison")
    alpha.goto(f"{server}/deconfliction")
    expect(alpha.locator("#deconfliction")).to_have_attribute("data-live", "open", timeout=LIVE_MS)
    expect(alpha.locator("#compose-kind")).to_have_value("activity")
    alpha.locator("#compose-category").select_option("engineering")
    compose(alpha, geometry=BESIDE_MAJDAL_SHAMS, hours_ahead=80, text="Culvert repairs")
    expect(alpha.locator("#compose-verdict .dc-verdict")).to_have_attribute(
        "data-lead-time", "on_time", timeout=LIVE_MS
    )
    alpha.locator("#compose-form button[name=send]").click()
    works = sent_id(alpha)
    flagged = alpha.locator(f"#notification-{works}")
    expect(flagged).to_have_attribute("data-conflict", "flagged")
    expect(flagged.locator('.dc-conflict[data-with="site"]')).to_contain_text("Majdal Shams")
    # BRAVO's page shows it arriving, flagged.
    expect(bravo_duty.locator(f"#notification-{works}")).to_have_attribute(
        "data-conflict", "flagged", timeout=LIVE_MS
    )

    # ALPHA amends the works away from the site: clear, version 1, for BRAVO too.
    amend = flagged.locator("details.dc-amend")
    expect(amend).to_have_attribute("open", "")
    amend.locator("textarea[name=geometry]").fill(json.dumps(AWAY_FROM_SITES))
    amend.locator("input[name=reason]").fill("Moved west of the village")
    amend.locator("button[type=submit]").click()
    expect(alpha).to_have_url(NOTIFICATION)
    amended = alpha.locator(f"#notification-{works}")
    expect(amended).to_have_attribute("data-conflict", "clear")
    expect(amended).to_have_attribute("data-version", "1")
    expect(bravo_duty.locator(f"#notification-{works}")).to_have_attribute(
        "data-version", "1", timeout=LIVE_MS
    )
    expect(bravo_duty.locator(f"#notification-{works}")).to_have_attribute("data-conflict", "clear")

    # HUM-1 never sees ALPHA's military activity.
    hum.reload()
    expect(hum.locator(f"#notification-{convoy}")).to_be_visible()
    expect(hum.locator(f"#notification-{works}")).to_have_count(0)
    for page in (hum, alpha_duty, bravo_duty, alpha):
        assert page.evaluate("window.__streams") == 1
    members.requests.assert_stayed_on(server)


@pytest.fixture
def story(database_url: str, demo: None, settings: Settings, db: Session) -> Iterator[str]:
    """The demo with its registry, incidents and early warning, told a minute ago."""
    load_protection_story(db, start=datetime.now(UTC) - timedelta(minutes=1))
    db.rollback()
    with serve_cell(database_url, settings) as (base, _process):
        yield base


# How the browser writes "minutes" in each language (Intl's short unit), in a countdown.
MINUTES = {"en": "9 min", "ar": "د", "he": "\N{HEBREW LETTER DALET}\N{HEBREW LETTER QOF}"}


def test_the_deconfliction_pages_are_photographed_in_every_language(
    browser: Browser, story: str, demo_password: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    opened = Members(browser, story, demo_password)
    try:
        for viewport, size in VIEWPORTS.items():
            page = opened.page("hum1.coordinator", viewport=size)
            for language in ("en", "ar", "he"):
                page.goto(f"{story}/deconfliction")
                switch_language(page, language)
                for name in ("notifications", "registry", "incidents"):
                    path = "/deconfliction" + ("" if name == "notifications" else f"/{name}")
                    page.goto(f"{story}{path}")
                    direction = "ltr" if language == "en" else "rtl"
                    expect(page.locator("html")).to_have_attribute("dir", direction)
                    expect(page.locator(".dc-receipt")).to_contain_text(RECEIPT[language])
                    expect(page.locator("#dc-map")).to_have_attribute(
                        "data-overlay-drawn", re.compile(r"\d"), timeout=LIVE_MS
                    )
                    if name == "registry":
                        expect(page.locator("tr.dc-place.agreed")).to_have_count(4)
                    if name == "incidents":
                        expect(page.locator(".dc-alert")).to_have_count(1)
                        expect(page.locator(".dc-incident")).to_have_count(3)
                    if name == "incidents":  # a countdown says its units in the page's language
                        page.evaluate(
                            """() => { const t = document.createElement("time");
                            t.className = "dc-countdown"; t.id = "probe-countdown";
                            t.setAttribute("data-deadline", String(Date.now() + 9.5 * 60000));
                            document.querySelector("main").appendChild(t); }"""
                        )
                        expect(page.locator("#probe-countdown")).to_contain_text(MINUTES[language])
                        page.evaluate("document.getElementById('probe-countdown').remove()")
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= size["width"], (name, language, viewport, width)
                    page.screenshot(
                        path=str(ARTIFACTS / f"deconfliction-{name}-{language}-{viewport}.png"),
                        full_page=True,
                    )
        opened.requests.assert_stayed_on(story)
    finally:
        opened.close()
