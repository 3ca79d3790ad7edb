"""What the supervisor did about a deadline, in real browsers: supervisor.duty records a call on
the row of a FLASH that BRAVO has not acknowledged, and supervisor.chair's open deadlines page
shows it live, without a reload and without losing the note the chair was typing; the chair's
follow-up reaches the duty officer's page the same way. The page is photographed in en, ar and
he, on a desktop and a phone, for a reviewer."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy.orm import Session
from tests.e2e.browsing import Requests, log_in
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_console_layout import VIEWPORTS, switch_language
from tests.hotline.factories import flash

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.hotline.models import Message
from fusioncell.scenario.demo import stable_id

BRAVO = stable_id("organisation", "BRAVO")
LIVE_SECONDS = 5


@pytest.fixture
def contexts(browser: Browser, request: pytest.FixtureRequest) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for number, context in enumerate(opened):
        if getattr(request.node, "story_failed", False):
            ARTIFACTS.mkdir(exist_ok=True)
            for page in context.pages:
                page.screenshot(
                    path=str(ARTIFACTS / f"{request.node.name}-{number}.png"), full_page=True
                )
        context.close()


@pytest.fixture
def owed(db: Session, member: Callable[[str], Viewer], clock: ManualClock) -> Message:
    """alpha.liaison's FLASH, delivered to BRAVO and not acknowledged: a row of the deadlines."""
    message = flash(db, member, clock, text="Artillery moving north of the crossing")
    db.rollback()
    return message


def watch(
    browser: Browser,
    contexts: list[BrowserContext],
    requests: Requests,
    server: str,
    username: str,
    password: str,
    viewport: dict[str, int] | None = None,
) -> Page:
    context = browser.new_context(locale="en-GB", viewport=viewport or VIEWPORTS["desktop"])
    contexts.append(context)
    page = requests.watch(context.new_page())
    log_in(page, server, username, password)
    page.goto(f"{server}/hotline/deadlines")
    expect(page.locator("#hotline-live")).to_have_attribute(
        "data-state", "open", timeout=LIVE_SECONDS * 1000
    )
    return page


def cell(page: Page, message: Message) -> Locator:
    return page.locator(f"#actions-{message.id}-{BRAVO}")


def test_a_call_recorded_on_one_supervisors_page_appears_live_on_anothers(
    browser: Browser,
    contexts: list[BrowserContext],
    server: str,
    demo_password: str,
    owed: Message,
    request: pytest.FixtureRequest,
) -> None:
    requests = Requests()
    try:
        duty = watch(browser, contexts, requests, server, "supervisor.duty", demo_password)
        chair = watch(browser, contexts, requests, server, "supervisor.chair", demo_password)
        chair.evaluate("window.deadlineStory = 'not reloaded'")
        row = f'tr.deadline[data-message="{owed.id}"][data-party="BRAVO"]'
        expect(duty.locator(row)).to_be_visible()
        expect(cell(chair, owed).locator("li.deadline-action")).to_have_count(0)

        # The chair starts a note of their own, and is still typing when the call is recorded.
        chair_note = cell(chair, owed).locator("input[name=note]")
        chair_note.fill("Calling BRAVO back at ten")

        # The duty officer records a call from the row: the cell changes in place.
        form = cell(duty, owed).locator("form")
        form.locator("select[name=kind]").select_option("call")
        form.locator("input[name=note]").fill("Rang BRAVO's duty line: they are on it")
        form.locator("button.record-action").click()
        recorded = cell(duty, owed).locator('li.deadline-action[data-kind="call"]')
        expect(recorded).to_be_visible()
        expect(recorded.locator(".action-by")).to_have_text("supervisor.duty")
        expect(recorded.locator(".action-note")).to_have_text(
            "Rang BRAVO's duty line: they are on it"
        )
        expect(cell(duty, owed).locator("input[name=note]")).to_have_value("")

        # The chair's page shows it live, and keeps what the chair was typing, where it was.
        live = cell(chair, owed).locator('li.deadline-action[data-kind="call"]')
        expect(live).to_be_visible(timeout=LIVE_SECONDS * 1000)
        expect(live).to_contain_text("Call made")
        expect(live.locator(".action-by")).to_have_text("supervisor.duty")
        expect(chair_note).to_have_value("Calling BRAVO back at ten")
        expect(chair_note).to_be_focused()
        assert chair.evaluate("window.deadlineStory") == "not reloaded"

        # The chair records a follow-up; the duty officer's page shows it live in turn.
        form = cell(chair, owed).locator("form")
        form.locator("select[name=kind]").select_option("follow_up")
        form.locator("input[name=follow_up_at]").fill("2099-01-01T10:00")
        form.locator("button.record-action").click()
        # A follow-up more than 30 days ahead is refused in the row, with what was typed kept.
        problem = cell(chair, owed).locator(".field-error")
        expect(problem).to_have_text("The follow-up time must be in the future, within 30 days.")
        expect(cell(chair, owed).locator("input[name=note]")).to_have_value(
            "Calling BRAVO back at ten"
        )
        due = chair.evaluate(
            "new Date(Date.now() + 3600e3).toISOString().slice(0, 16)"  # in an hour, UTC
        )
        cell(chair, owed).locator("input[name=follow_up_at]").fill(due)
        cell(chair, owed).locator("button.record-action").click()
        followed = cell(duty, owed).locator('li.deadline-action[data-kind="follow_up"]')
        expect(followed).to_be_visible(timeout=LIVE_SECONDS * 1000)
        expect(followed.locator(".action-note")).to_have_text("Calling BRAVO back at ten")
        expect(followed.locator(".action-due")).to_be_visible()
        expect(cell(duty, owed).locator("li.deadline-action")).to_have_count(2)
    except BaseException:
        request.node.story_failed = True
        raise

    requests.assert_stayed_on(server)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=list(VIEWPORTS))
def test_the_deadlines_page_with_its_actions_is_photographed_in_every_language(
    browser: Browser,
    contexts: list[BrowserContext],
    server: str,
    demo_password: str,
    owed: Message,
    viewport: str,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    requests = Requests()
    page = watch(
        browser,
        contexts,
        requests,
        server,
        "supervisor.duty",
        demo_password,
        viewport=VIEWPORTS[viewport],
    )
    form = cell(page, owed).locator("form")
    form.locator("select[name=kind]").select_option("relay")
    form.locator("input[name=note]").fill("Read out on the radio net to BRAVO's watch")
    form.locator("button.record-action").click()
    expect(cell(page, owed).locator('li.deadline-action[data-kind="relay"]')).to_be_visible()
    for language in ("en", "ar", "he"):
        switch_language(page, language)
        page.goto(f"{server}/hotline/deadlines")
        shown = cell(page, owed)
        expect(shown.locator("li.deadline-action")).to_have_count(1)
        # Nothing wider than the phone: the table scrolls inside its box.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORTS[viewport]["width"], (language, width)
        shown.scroll_into_view_if_needed()
        page.screenshot(
            path=str(ARTIFACTS / f"deadline-actions-{language}-{viewport}.png"), full_page=True
        )
    switch_language(page, "en")
    requests.assert_stayed_on(server)
