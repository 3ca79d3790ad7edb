"""The diplomatic track in real browsers. ALPHA has asked for a meeting through the hotline;
the chair drafts the minutes on the meeting's page, and both parties, each in its own
browser, see the draft arrive without reloading; BRAVO comments, ALPHA reads the comment
live, both sign the same hash and the chair's page shows the minutes agreed. Then the cell's
one clock is moved past ALPHA's first withdrawal phase and its comment window (the server
runs the test's app, on the test's manual clock): the verifier assesses the milestone on the
agreement's page with the evidence cited, and the de-escalation engine's result at the due
date stands beside the decision, on BRAVO's page too, live. Each page keeps one event
stream (console.js's).

The pages are then photographed in en / ar / he on a desktop and a phone into
test-artifacts/, over the demo's own diplomatic story."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.diplomacy.factories import DAY, DOCUMENT, propose, sign_all
from tests.e2e.browsing import log_in, switch_language
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_intel import Members
from tests.servers import serve_cell, serve_in_thread

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.diplomacy.actions.assessment import do_request_verification
from fusioncell.diplomacy.actions.meetings import do_request_meeting
from fusioncell.diplomacy.content import milestone_id
from fusioncell.diplomacy.models import Meeting, Milestone
from fusioncell.hotline.actions.messages import do_send_message
from fusioncell.hotline.models import ChannelKind
from fusioncell.hotline.queries import list_channels
from fusioncell.scenario.diplomacy_story import STORY_SPAN, load_diplomacy_story

pytestmark = pytest.mark.long

LIVE_MS = 15_000
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PROMISE = {
    "en": "on one record both parties read",
    "ar": "في سجل واحد يقرؤه الطرفان",
    "he": "ברשומה אחת ששני הצדדים קוראים",
}
Member = Callable[[str], Viewer]


@pytest.fixture
def cell(clock: ManualClock, request: pytest.FixtureRequest) -> Iterator[tuple[str, FastAPI]]:
    """The demo on the test's own app, served from a thread on the test's manual clock, set
    to the present so that the browsers' countdowns read sensibly."""
    clock.current = datetime.now(UTC).replace(microsecond=0)
    request.getfixturevalue("demo")
    app: FastAPI = request.getfixturevalue("app")
    with serve_in_thread(app) as base:
        yield base, app


def live(page: Page) -> None:
    expect(page.locator("#diplomacy")).to_have_attribute("data-live", "open", timeout=LIVE_MS)


def submit(page: Page, scope: str, form: str, **fields: str) -> None:
    """Fill a form and send it; wait for the page to come back without an error."""
    found = page.locator(f'{scope} form[data-form="{form}"]')
    for name, value in fields.items():
        field = found.locator(f'[name="{name}"]')
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    found.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("#dp-error")).to_have_count(0)


def _meeting(db: Session, member: Member, now: datetime) -> uuid.UUID:
    alpha = member("alpha.liaison")
    [channel] = [c for c in list_channels(db, alpha) if c.kind == ChannelKind.CELL]
    message = do_send_message(
        db,
        alpha,
        message_id=uuid.uuid4(),
        channel_id=channel.id,
        precedence="ROUTINE",
        text="Meeting requested: review of the withdrawal.",
        now=now,
    )
    meeting = do_request_meeting(
        db,
        alpha,
        meeting_id=uuid.uuid4(),
        title="Review of the withdrawal",
        agenda=["Phase 1", "Humanitarian access"],
        participants=["ALPHA", "BRAVO"],
        starts_at=now + DAY,
        message_id=message.id,
        now=now,
    )
    db.commit()
    return meeting.id


def test_minutes_agreed_by_both_parties_and_a_milestone_assessed_beside_the_engine(
    browser: Browser,
    cell: tuple[str, FastAPI],
    clock: ManualClock,
    db: Session,
    member: Member,
    demo_password: str,
) -> None:
    server, _app = cell
    version = propose(db, member("supervisor.chair"), now=clock.now())
    sign_all(db, member, version, now=clock.now())
    meeting = _meeting(db, member, clock.now())
    members = Members(browser, server, demo_password)
    try:
        # The chair drafts the minutes; both parties' pages follow.
        path = f"{server}/meetings/{meeting}"
        chair, alpha, bravo = (
            members.page(u) for u in ("supervisor.chair", "alpha.liaison", "bravo.liaison")
        )
        for page in (chair, alpha, bravo):
            page.goto(path)
            live(page)
        expect(alpha.locator('form[data-form="sign"]')).to_have_count(0)
        submit(
            chair,
            "#actions",
            "draft",
            text="The parties reviewed phase 1 of the withdrawal.",
            decisions="D1 Meet again in a week.",
        )
        for page in (alpha, bravo):
            expect(page.locator("#dp-minutes-text")).to_contain_text("phase 1", timeout=LIVE_MS)
            expect(page.locator('form[data-form="sign"]')).to_be_visible()
        submit(bravo, "#actions", "comment", comment="BRAVO agrees with the text.")
        expect(alpha.locator('#comments .dp-comment[data-party="BRAVO"]')).to_contain_text(
            "BRAVO agrees", timeout=LIVE_MS
        )
        submit(alpha, "#actions", "sign")
        expect(bravo.locator('#signatures li.signed[data-party="ALPHA"]')).to_be_visible(
            timeout=LIVE_MS
        )
        submit(bravo, "#actions", "sign")
        expect(chair.locator("#dp-agreed")).to_be_visible(timeout=LIVE_MS)
        expect(alpha.locator(".dp-meeting")).to_have_attribute("data-agreed", "yes")
        for page in (chair, alpha, bravo):
            assert page.evaluate("window.__streams") == 1
        stored = db.scalar(select(Meeting).where(Meeting.id == meeting))
        assert stored is not None and stored.agreed_index is not None
        db.rollback()

        # Phase 1 falls due, is put to verification, and its comment window closes.
        clock.advance(10 * DAY.total_seconds())
        first = milestone_id(version.agreement_id, "C2", "C2.1")
        do_request_verification(
            db, member("supervisor.chair"), first, step_id=uuid.uuid4(), now=clock.now()
        )
        db.commit()
        clock.advance(73 * 3600)
        agreement = f"{server}/agreements/{version.agreement_id}"
        verifier = members.page("verifier.lead")
        log_in(bravo, server, "bravo.liaison", demo_password)  # its session has expired
        for page in (verifier, bravo):
            page.goto(agreement)
            live(page)
        milestone = f"#milestone-{first}"
        expect(bravo.locator(f'{milestone} form[data-form="assess"]')).to_have_count(0)
        submit(
            verifier,
            milestone,
            "assess",
            outcome="breached",
            reasons="Tanks were seen at the phase 1 positions after the due date.",
            evidence=f"document {DOCUMENT}",
        )
        for page in (verifier, bravo):
            block = page.locator(f"#assessment-{first}")
            expect(block.locator(".dp-decision")).to_contain_text(
                "Tanks were seen", timeout=LIVE_MS
            )
            expect(block.locator(".dp-engine")).to_be_visible()
            expect(block.locator(".dp-engine")).to_contain_text("R2")
        db.rollback()
        assessed = db.get(Milestone, first)
        assert assessed is not None and assessed.engine_result is not None
        # The pages opened since the clock moved (the others' sessions expired with it).
        for page in (verifier, bravo):
            assert page.evaluate("window.__streams") == 1
        members.requests.assert_stayed_on(server)
    finally:
        members.close()


@pytest.fixture
def story(database_url: str, demo: None, settings: Settings, db: Session) -> Iterator[str]:
    """The demo's diplomatic story, told to end a few minutes ago."""
    load_diplomacy_story(db, start=datetime.now(UTC) - STORY_SPAN - timedelta(minutes=5))
    db.commit()
    with serve_cell(database_url, settings) as (base, _process):
        yield base


def test_the_diplomatic_pages_are_photographed_in_every_language(
    browser: Browser, story: str, demo_password: str, db: Session
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    agreement = db.scalar(select(Milestone.agreement_id).limit(1))
    meeting = db.scalar(select(Meeting.id).limit(1))
    db.rollback()
    shots = {
        "list": f"{story}/agreements",
        "agreement": f"{story}/agreements/{agreement}",
        "meeting": f"{story}/meetings/{meeting}",
        "dashboard": f"{story}/agreements/dashboard",
    }
    opened = Members(browser, story, demo_password)
    try:
        for viewport, size in VIEWPORTS.items():
            page = opened.page("alpha.liaison", viewport=size)
            for language in ("en", "ar", "he"):
                page.goto(shots["list"])
                switch_language(page, language)
                direction = "ltr" if language == "en" else "rtl"
                for name, url in shots.items():
                    page.goto(url)
                    expect(page.locator("html")).to_have_attribute("dir", direction)
                    expect(page.locator(".dp-promise")).to_contain_text(PROMISE[language])
                    if name == "agreement":
                        expect(page.locator(".dp-engine").first).to_be_visible()
                        expect(page.locator(".dp-map").first).to_have_attribute(
                            "data-drawn", "yes", timeout=LIVE_MS
                        )
                    if name == "meeting":
                        expect(page.locator("#dp-agreed")).to_be_visible()
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= size["width"], (name, language, viewport, width)
                    page.screenshot(
                        path=str(ARTIFACTS / f"diplomacy-{name}-{language}-{viewport}.png"),
                        full_page=True,
                    )
        opened.requests.assert_stayed_on(story)
    finally:
        opened.close()
