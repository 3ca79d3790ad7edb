"""The inbox follows a message from its live frames: an acknowledgement and an escalation change
the row in place without a request to the server, and a recipient's delivery (whose frame
carries no time) fetches the row once. alpha.liaison watches in a real browser while the test
acts as BRAVO and as the escalation engine, through the actions, on the server's database."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy.orm import Session
from tests.e2e.browsing import log_in
from tests.hotline.factories import acknowledge, send

from fusioncell.cell.policy import Viewer
from fusioncell.clock import SystemClock
from fusioncell.hotline.actions.escalation import do_escalate_due
from fusioncell.hotline.actions.messages import (
    do_mark_delivered,
)
from fusioncell.hotline.models import Message

LIVE_MS = 5000
ROW_PATH = re.compile(r"^/hotline/messages/[0-9a-f-]{36}/row$")


class RowFetches:
    """The rows the page fetched, by message id."""

    def __init__(self, page: Page) -> None:
        self.ids: list[str] = []
        page.on("request", self._seen)

    def _seen(self, request: object) -> None:
        path = urlsplit(getattr(request, "url", "")).path
        if ROW_PATH.match(path):
            self.ids.append(path.split("/")[3])


@pytest.fixture
def alpha(browser: Browser, server: str, demo_password: str) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    log_in(page, server, "alpha.liaison", demo_password)
    yield page
    context.close()


def flash(db: Session, sender: Viewer, text: str) -> Message:
    return send(db, sender, now=SystemClock().now(), text=text)


def test_acknowledgements_and_escalations_change_the_row_without_a_request(
    alpha: Page, server: str, db: Session, member: Callable[[str], Viewer]
) -> None:
    sender, bravo = member("alpha.liaison"), member("bravo.duty")
    answered = flash(db, sender, "Convoy at the crossing.")
    unanswered = flash(db, sender, "Second warning.")
    unreceived = flash(db, sender, "Third warning.")
    do_mark_delivered(db, bravo, message_ids=[answered.id, unanswered.id], now=SystemClock().now())
    alpha.goto(f"{server}/hotline")
    expect(alpha.locator("#hotline-live")).to_have_attribute("data-state", "open", timeout=LIVE_MS)
    fetched = RowFetches(alpha)

    def bravo_in(message: Message) -> Locator:
        return alpha.locator(f'#message-{message.id} .party[data-party="BRAVO"]')

    expect(bravo_in(answered)).to_have_attribute("data-delivered", "true")
    expect(alpha.locator(f"#message-{answered.id} .countdown-ack")).to_have_count(1)

    acknowledge(db, bravo, answered.id, now=SystemClock().now())

    expect(bravo_in(answered)).to_have_attribute("data-acknowledged", "true", timeout=LIVE_MS)
    expect(bravo_in(answered).locator(".state.acknowledged .by")).to_have_text("(bravo.duty)")
    expect(alpha.locator(f"#message-{answered.id} .deadlines")).to_have_count(0)

    # Past the acknowledgement deadline of the shipped FLASH rule: its first step is due (and
    # the unreceived message's missed delivery).
    do_escalate_due(db, now=unanswered.ack_deadline + timedelta(seconds=1))

    expect(bravo_in(unanswered).locator(".state.escalated")).to_have_text(
        "escalated: Escalation step 1", timeout=LIVE_MS
    )
    expect(bravo_in(unanswered)).to_have_attribute("data-escalation-steps", "1")
    expect(bravo_in(unreceived)).to_have_attribute(
        "data-escalation-steps", re.compile(r"\b0\b"), timeout=LIVE_MS
    )
    assert fetched.ids == []

    do_mark_delivered(db, bravo, message_ids=[unreceived.id], now=SystemClock().now())

    expect(bravo_in(unreceived)).to_have_attribute("data-delivered", "true", timeout=LIVE_MS)
    assert fetched.ids == [str(unreceived.id)]
