"""Disputes in real browsers. ALPHA's liaison files a complaint against BRAVO with a photograph
from the form; the supervisor, watching the list, sees it arrive in the triage queue, triages
it and tasks the verifier, who records a visit and drafts the finding. Both parties, each in
its own browser, see the comment form appear without reloading and comment: each reads its
own text and only the other's hash while the window is open. The cell's one clock is moved
past the window (the server runs the test's app, on the test's manual clock), the engine's
tick reveals both, the supervisor issues the finding and asks BRAVO for a remedy, and the
verifier verifies it. Each page keeps one event stream (console.js's).

The three pages are then photographed in en / ar / he on a desktop and a phone into
test-artifacts/, over the demo's own disputes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session
from tests.e2e.browsing import log_in, switch_language
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_intel import Members
from tests.servers import serve_cell, serve_in_thread

from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.scenario.verification_story import STORY_LEAD, load_verification_story

LIVE_MS = 15_000
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
CASE_URL = re.compile(r"/verification/cases/([0-9a-f-]{36})(#\w+)?$")
# The smallest PNG: a 1x1 transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
PROMISE = {
    "en": "Only the supervisor and the verifier issue findings",
    "ar": "المشرف والمتحقق وحدهما",
    "he": "רק המפקח והמאמת",
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


def local(moment: datetime) -> str:
    """A datetime-local value: the forms read it as UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def live(page: Page) -> None:
    expect(page.locator("#verification")).to_have_attribute("data-live", "open", timeout=LIVE_MS)


def submit(page: Page, form: str, **fields: str) -> None:
    """Fill a form of the case's page and send it; wait for the case to come back."""
    found = page.locator(f'form[data-form="{form}"]')
    for name, value in fields.items():
        field = found.locator(f'[name="{name}"]')
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    found.locator("button[type=submit]").click()
    expect(page).to_have_url(CASE_URL)
    expect(page.locator("#vf-error")).to_have_count(0)


def test_a_complaint_goes_from_filing_to_a_verified_remedy_with_both_parties_commenting(
    browser: Browser, cell: tuple[str, FastAPI], clock: ManualClock, demo_password: str
) -> None:
    server, app = cell
    members = Members(browser, server, demo_password)
    try:
        _story(members, server, app, clock, demo_password)
    finally:
        members.close()


def _story(members: Members, server: str, app: FastAPI, clock: ManualClock, password: str) -> None:
    chair = members.page("supervisor.chair")
    chair.goto(f"{server}/verification")
    live(chair)

    # ALPHA's liaison files the complaint with a photograph.
    alpha = members.page("alpha.liaison")
    alpha.goto(f"{server}/verification")
    live(alpha)
    form = alpha.locator("#complaint-form")
    form.locator("textarea[name=allegation]").fill("Armed personnel at post 12, in the area")
    form.locator("select[name=against]").select_option("BRAVO")
    form.locator("input[name=rule]").fill("R1")
    form.locator("input[name=lon]").fill("35.84")
    form.locator("input[name=lat]").fill("33.15")
    form.locator("input[name=occurred_at]").fill(local(clock.now() - timedelta(hours=2)))
    form.locator("input[name=file]").set_input_files(
        files=[{"name": "post-12.png", "mimeType": "image/png", "buffer": PNG}]
    )
    form.locator("button[name=send]").click()
    expect(alpha).to_have_url(CASE_URL)
    found = CASE_URL.search(alpha.url)
    assert found is not None
    case = found.group(1)
    path = f"{server}/verification/cases/{case}"
    expect(alpha.locator(".vf-file img")).to_be_visible()
    assert alpha.locator(".vf-file img").evaluate("img => img.naturalWidth") == 1
    expect(alpha.locator("#vf-map")).to_have_attribute("data-place-drawn", "1", timeout=LIVE_MS)
    live(alpha)

    # The supervisor sees it arrive in the triage queue, triages it and tasks the verifier.
    queued = chair.locator(f"#queue-{case}")
    expect(queued).to_be_visible(timeout=LIVE_MS)
    queued.locator("a.vf-number").click()
    expect(chair).to_have_url(CASE_URL)
    submit(chair, "triage", triage="admissible", reasons="Within R1, placed and timed.")
    expect(chair.locator(".vf-sections")).to_have_attribute("data-state", "triaged")
    submit(chair, "task")
    expect(chair.locator(".vf-sections")).to_have_attribute("data-state", "investigating")
    # ALPHA's page follows without a reload.
    expect(alpha.locator(".vf-sections")).to_have_attribute(
        "data-state", "investigating", timeout=LIVE_MS
    )

    # The verifier visits and drafts the finding.
    verifier = members.page("verifier.lead")
    verifier.goto(path)
    live(verifier)
    submit(verifier, "visit", note="Two sections seen at the grid given.")
    bravo = members.page("bravo.liaison")
    bravo.goto(path)
    live(bravo)
    expect(bravo.locator('form[data-form="comment"]')).to_have_count(0)
    submit(
        verifier,
        "draft",
        outcome="substantiated_attributed",
        party="BRAVO",
        summary="BRAVO's personnel were in the area of separation.",
    )

    # Both parties see the comment form appear, and comment; each reads the other's hash only.
    said = {"ALPHA": "ALPHA saw them withdraw at noon.", "BRAVO": "BRAVO disputes the count."}
    for page in (alpha, bravo):
        expect(page.locator('form[data-form="comment"]')).to_be_visible(timeout=LIVE_MS)
    for party, page in (("ALPHA", alpha), ("BRAVO", bravo)):
        submit(page, "comment", comment=said[party])
        expect(page.locator(f'.vf-comment[data-party="{party}"]')).to_contain_text(said[party])
    other = alpha.locator('.vf-comment[data-party="BRAVO"]')
    expect(other).to_have_attribute("data-sealed", "yes", timeout=LIVE_MS)
    expect(other.locator(".vf-sealed")).to_be_visible()
    expect(other).not_to_contain_text(said["BRAVO"])
    expect(bravo.locator('.vf-comment[data-party="ALPHA"]')).not_to_contain_text(said["ALPHA"])
    expect(verifier.locator(".vf-comments")).not_to_contain_text(said["ALPHA"])

    # The window closes on the cell's clock; the engine's tick reveals both comments.
    clock.advance(73 * 3600)
    app.state.verification_engine.run_once()
    for page, username in ((alpha, "alpha.liaison"), (bravo, "bravo.liaison"),
                           (chair, "supervisor.chair"), (verifier, "verifier.lead")):  # fmt: skip
        log_in(page, server, username, password)  # the sessions have expired meanwhile
        page.goto(path)
        live(page)
    for page in (alpha, bravo, chair):
        for party, text in said.items():
            comment = page.locator(f'.vf-comment[data-party="{party}"]')
            expect(comment).to_have_attribute("data-sealed", "no")
            expect(comment).to_contain_text(text)

    # The finding, the remedy asked of BRAVO, and its verification.
    submit(
        chair,
        "finding",
        outcome="substantiated_attributed",
        party="BRAVO",
        summary="BRAVO's personnel were in the area of separation.",
    )
    expect(chair.locator("#vf-outcome")).to_have_attribute(
        "data-outcome", "substantiated_attributed"
    )
    submit(
        chair,
        "remedy",
        remedy="Withdraw the two sections behind the line.",
        due_at=local(clock.now() + timedelta(days=7)),
        party="BRAVO",
    )
    expect(bravo.locator(".vf-sections")).to_have_attribute(
        "data-state", "remedy_requested", timeout=LIVE_MS
    )
    expect(verifier.locator('form[data-form="verify"]')).to_be_visible(timeout=LIVE_MS)
    submit(verifier, "verify", note="The position is empty.")
    expect(verifier.locator("#vf-remedy")).to_have_attribute("data-verified", "yes")
    for page in (alpha, bravo, chair):
        expect(page.locator(".vf-sections")).to_have_attribute(
            "data-state", "remedy_verified", timeout=LIVE_MS
        )
    kinds = verifier.locator(".vf-timeline li").evaluate_all(
        "items => items.map(li => li.dataset.kind)"
    )
    assert kinds[0] == "verification.complaint.filed"
    assert kinds[-1] == "verification.remedy.verified"
    assert kinds.count("verification.comment.revealed") == 2
    for page in (alpha, bravo, chair, verifier):
        assert page.evaluate("window.__streams") == 1
    members.requests.assert_stayed_on(server)


@pytest.fixture
def story(database_url: str, demo: None, settings: Settings, db: Session) -> Iterator[str]:
    """The demo's disputes, told to end a minute ago."""
    end = datetime.now(UTC) - timedelta(minutes=1)
    load_verification_story(db, start=end - STORY_LEAD - timedelta(minutes=5), end=end)
    db.rollback()
    with serve_cell(database_url, settings) as (base, _process):
        yield base


def _first_case(page: Page, server: str, state: str) -> Any:
    href = page.locator(f"#state-{state} a.vf-number").first.get_attribute("href")
    assert href is not None
    return f"{server}{href}"


def test_the_disputes_pages_are_photographed_in_every_language(
    browser: Browser, story: str, demo_password: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    opened = Members(browser, story, demo_password)
    try:
        for viewport, size in VIEWPORTS.items():
            page = opened.page("alpha.liaison", viewport=size)
            page.goto(f"{story}/verification")
            drafted = _first_case(page, story, "drafted")
            for language in ("en", "ar", "he"):
                page.goto(f"{story}/verification")
                switch_language(page, language)
                direction = "ltr" if language == "en" else "rtl"
                shots = {
                    "list": f"{story}/verification",
                    "case": drafted,
                    "stats": f"{story}/verification/stats",
                }
                for name, url in shots.items():
                    page.goto(url)
                    expect(page.locator("html")).to_have_attribute("dir", direction)
                    expect(page.locator(".vf-promise")).to_contain_text(PROMISE[language])
                    if name == "case":
                        # The other party's comment is sealed; its own is there to read.
                        expect(page.locator('.vf-comment[data-party="BRAVO"]')).to_have_attribute(
                            "data-sealed", "yes"
                        )
                        expect(page.locator("#vf-map")).to_have_attribute(
                            "data-place-drawn", re.compile(r"[1-9]"), timeout=LIVE_MS
                        )
                    if name == "stats":
                        expect(page.locator("tr.vf-measure")).to_have_count(14)
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= size["width"], (name, language, viewport, width)
                    page.screenshot(
                        path=str(ARTIFACTS / f"verification-{name}-{language}-{viewport}.png"),
                        full_page=True,
                    )
        opened.requests.assert_stayed_on(story)
    finally:
        opened.close()
