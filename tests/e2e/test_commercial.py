"""Commercial projects in real browsers. BRAVO's liaison officer watches ALPHA's power project;
ALPHA's liaison declares a shipment from the project's form less than 44 hours ahead, and it
is marked late; the verifier refuses it with a reason. BRAVO's page shows the shipment
arrive, then its refusal and the reason, without reloading, on its one event stream
(console.js's).

The three pages are then photographed in en / ar / he on a desktop and a phone into
test-artifacts/, over ALPHA's project (a milestone met on a file, one missed, a shipment
passed and one refused) and BRAVO's."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session
from tests.commercial.factories import Member, activate, crossing, project, tell_story
from tests.e2e.browsing import switch_language
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_intel import Members
from tests.servers import serve_in_thread

from fusioncell.clock import ManualClock
from fusioncell.commercial.models import Project

LIVE_MS = 15_000
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PROJECT_URL = re.compile(r"/projects/([0-9a-f-]{36})(#[\w-]+)?$")
PROMISE = {
    "en": "Both parties read the same record",
    "ar": "يقرأ الطرفان السجل نفسه",
    "he": "שני הצדדים קוראים את אותה רשומה",
}


@pytest.fixture
def cell(clock: ManualClock, request: pytest.FixtureRequest) -> Iterator[tuple[str, FastAPI]]:
    """The demo on the test's own app, served from a thread: its clock is the test's manual
    clock, set to the present so that the browsers' countdowns read sensibly."""
    clock.current = datetime.now(UTC).replace(microsecond=0)
    request.getfixturevalue("demo")
    app: FastAPI = request.getfixturevalue("app")
    with serve_in_thread(app) as base:
        yield base, app


def live(page: Page) -> None:
    expect(page.locator("#commercial")).to_have_attribute("data-live", "open", timeout=LIVE_MS)


def _active_project(db: Session, member: Member, clock: ManualClock) -> Project:
    crossing(db, member, now=clock.now())
    alpha = member("alpha.liaison")
    found = project(db, alpha, now=clock.now(), name="Southern power plant")
    activate(db, alpha, found, now=clock.now())
    db.commit()
    return found


def test_a_late_shipment_refused_by_the_verifier_reaches_the_other_party_live(
    browser: Browser,
    cell: tuple[str, FastAPI],
    db: Session,
    member: Member,
    clock: ManualClock,
    demo_password: str,
) -> None:
    server, _ = cell
    found = _active_project(db, member, clock)
    path = f"{server}/projects/{found.id}"
    members = Members(browser, server, demo_password)
    try:
        bravo = members.page("bravo.liaison")
        bravo.goto(path)
        live(bravo)
        expect(bravo.locator("#cm-map")).to_have_attribute(
            "data-locations-drawn", "2", timeout=LIVE_MS
        )
        expect(bravo.locator("article[data-state]")).to_have_count(0)

        # ALPHA declares a shipment 20 hours ahead: accepted, marked late.
        alpha = members.page("alpha.liaison")
        alpha.goto(path)
        form = alpha.locator('form[data-form="declare"]')
        form.locator("textarea[name=cargo]").fill("Two 400 MW turbine sets")
        planned = (clock.now() + timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M")
        form.locator("input[name=planned_at]").fill(planned)
        form.locator("button[type=submit]").click()
        expect(alpha).to_have_url(PROJECT_URL)
        expect(alpha.locator("#cm-error")).to_have_count(0)
        shipment = alpha.locator('article[data-state="declared"]')
        expect(shipment).to_have_attribute("data-lead", "late")

        # BRAVO's page shows it arrive, marked late.
        arrived = bravo.locator('article[data-lead="late"]')
        expect(arrived).to_have_attribute("data-state", "declared", timeout=LIVE_MS)
        expect(arrived).to_contain_text("Two 400 MW turbine sets")

        # The verifier refuses it with a reason.
        verifier = members.page("verifier.lead")
        verifier.goto(path)
        refuse = verifier.locator('form[data-form="refuse"]')
        reason = "The cargo is not what was declared."
        refuse.locator("input[name=reason]").fill(reason)
        refuse.locator("button[type=submit]").click()
        expect(verifier).to_have_url(PROJECT_URL)
        expect(verifier.locator('form[data-form="refuse"]')).to_have_count(0)

        # BRAVO reads the refusal and its reason without a reload.
        expect(arrived).to_have_attribute("data-state", "refused", timeout=LIVE_MS)
        expect(arrived.locator(".cm-refusal")).to_have_text(reason)
        assert int(bravo.locator("#commercial").get_attribute("data-refreshed") or 0) >= 2
        for page in (alpha, bravo, verifier):
            assert page.evaluate("window.__streams") == 1
        members.requests.assert_stayed_on(server)
    finally:
        members.close()


def test_the_commercial_pages_are_photographed_in_every_language(
    browser: Browser,
    cell: tuple[str, FastAPI],
    db: Session,
    member: Member,
    clock: ManualClock,
    demo_password: str,
) -> None:
    server, _ = cell
    told = tell_story(db, member, clock)  # four days on, its milestones decided
    bravo = member("bravo.liaison")
    other = project(db, bravo, now=clock.now(), name="Northern water works", party=None,
                    project_id=uuid.uuid4(), financing=["HOST", "HUM-1"])  # fmt: skip
    activate(db, bravo, other, now=clock.now())
    db.commit()
    ARTIFACTS.mkdir(exist_ok=True)
    opened = Members(browser, server, demo_password)
    try:
        for viewport, size in VIEWPORTS.items():
            page = opened.page("alpha.liaison", viewport=size)
            page.goto(f"{server}/projects")
            for language in ("en", "ar", "he"):
                switch_language(page, language)
                direction = "ltr" if language == "en" else "rtl"
                shots = {
                    "list": f"{server}/projects",
                    "project": f"{server}/projects/{told.id}",
                    "stats": f"{server}/projects/stats",
                }
                for name, url in shots.items():
                    page.goto(url)
                    expect(page.locator("html")).to_have_attribute("dir", direction)
                    expect(page.locator(".cm-promise")).to_contain_text(PROMISE[language])
                    if name == "list":
                        expect(page.locator("tr.cm-row")).to_have_count(2)
                    if name == "project":
                        expect(page.locator("#cm-map")).to_have_attribute(
                            "data-locations-drawn", "2", timeout=LIVE_MS
                        )
                        expect(page.locator('article[data-state="refused"]')).to_have_count(1)
                    if name == "stats":
                        expect(page.locator("tr.cm-measure")).to_have_count(8)
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= size["width"], (name, language, viewport, width)
                    page.screenshot(
                        path=str(ARTIFACTS / f"commercial-{name}-{language}-{viewport}.png"),
                        full_page=True,
                    )
        opened.requests.assert_stayed_on(server)
    finally:
        opened.close()
