"""The hotline's story in real browsers: alpha.liaison sends a FLASH message, bravo.duty sees it
arrive live and acknowledges it; a second FLASH nobody acknowledges escalates, on time, on
supervisor.duty's deadlines page. Each member in a browser context of their own; nothing leaves
the host."""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.e2e.browsing import Requests, log_in

from fusioncell.hotline.rules import DEFAULT_RULES, parse_rules

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# FLASH as the shipped policy has it, but in seconds a test can wait for.
FAST_FLASH = """[precedence.FLASH]
delivered_seconds = 15
ack_seconds = 3
repeat_seconds = 120
ladder = [
  { after_seconds = 3, notify = ["party_duty_officer", "supervisor_duty_officer"] },
  { after_seconds = 6, notify = ["party_liaison"] },
]

"""
LIVE_SECONDS = 5


@pytest.fixture
def fast_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped hotline policy with FLASH acknowledged within 3 s and escalated at 3 s and
    6 s, named in the environment the server fixture passes to ``fusioncell serve``."""
    shipped = DEFAULT_RULES.read_text()
    text, replaced = re.subn(
        r"\[precedence\.FLASH\].*?(?=\[precedence\.)", FAST_FLASH, shipped, flags=re.S
    )
    assert replaced == 1
    rule = parse_rules(tomllib.loads(text)).rule("FLASH")
    assert (rule.ack.total_seconds(), [r.after.total_seconds() for r in rule.ladder]) == (3, [3, 6])
    path = tmp_path / "hotline-policy.toml"
    path.write_text(text)
    monkeypatch.setenv("FUSIONCELL_HOTLINE_POLICY", str(path))
    return path


@pytest.fixture
def hotline_server(fast_policy: Path, server: str) -> str:
    """``server``, started after ``fast_policy`` has set the environment it inherits."""
    return server


@pytest.fixture
def contexts(browser: Browser, request: pytest.FixtureRequest) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for number, context in enumerate(opened):
        if getattr(request.node, "hotline_failed", False):
            ARTIFACTS.mkdir(exist_ok=True)
            for page in context.pages:
                page.screenshot(
                    path=str(ARTIFACTS / f"{request.node.name}-{number}.png"), full_page=True
                )
        context.close()


def open_as(
    browser: Browser,
    contexts: list[BrowserContext],
    requests: Requests,
    server: str,
    username: str,
    password: str,
) -> Page:
    context = browser.new_context(locale="en-GB")
    contexts.append(context)
    page = requests.watch(context.new_page())
    log_in(page, server, username, password)
    return page


def go_live(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#hotline-live")).to_have_attribute(
        "data-state", "open", timeout=LIVE_SECONDS * 1000
    )


def send_flash(page: Page, text: str) -> str:
    """Send from the compose form (opened on demand); the message's id is the one the form
    chose beforehand."""
    toggle = page.locator("#compose-toggle")
    if toggle.get_attribute("open") is None:
        toggle.locator("summary").click()
    message_id = page.locator("#hotline-compose input[name=id]").input_value()
    page.select_option("#compose-channel", label="Cell-wide channel")
    page.select_option("#compose-precedence", "FLASH")
    page.select_option("#compose-form", "text")
    page.fill("#compose-text", text)
    page.click("#hotline-compose button.send")
    expect(page.locator("#hotline-compose .notice")).to_have_text("Message sent.")
    expect(page.locator("#hotline-compose input[name=id]")).not_to_have_value(message_id)
    return message_id


def test_bravo_sees_a_flash_live_and_acknowledges_and_an_unanswered_flash_escalates_on_time(
    browser: Browser,
    contexts: list[BrowserContext],
    hotline_server: str,
    demo_password: str,
    request: pytest.FixtureRequest,
) -> None:
    server = hotline_server
    requests = Requests()
    try:
        alpha = open_as(browser, contexts, requests, server, "alpha.liaison", demo_password)
        bravo = open_as(browser, contexts, requests, server, "bravo.duty", demo_password)
        supervisor = open_as(browser, contexts, requests, server, "supervisor.duty", demo_password)
        go_live(bravo, f"{server}/hotline")
        go_live(alpha, f"{server}/hotline")
        bravo.evaluate("window.hotlineStory = 'not reloaded'")

        # alpha.liaison sends a FLASH message; bravo.duty's open inbox shows it, and alarms.
        first = send_flash(alpha, "Artillery moving north of the crossing; please confirm receipt.")
        row = bravo.locator(f"#message-{first}")
        expect(row).to_be_visible(timeout=LIVE_SECONDS * 1000)
        expect(row).to_have_attribute("data-precedence", "FLASH")
        expect(row.locator(".message-text")).to_have_text(
            "Artillery moving north of the crossing; please confirm receipt."
        )
        expect(row.locator(".sender")).to_contain_text("alpha.liaison")
        alert = bravo.locator("#console-alert")
        expect(alert).to_be_visible()
        expect(alert).to_have_attribute("role", "alert")
        expect(alert).to_contain_text("FLASH awaiting your acknowledgement")
        expect(bravo.locator("body")).to_have_attribute("data-beeps", re.compile(r"^[1-9]"))
        assert bravo.evaluate("window.hotlineStory") == "not reloaded"
        expect(row.locator(".countdown-ack .countdown")).to_have_text(
            re.compile(r"^(0:0[0-3]|overdue by 0:\d\d)$")
        )

        # bravo.duty acknowledges: the button goes, both sides see BRAVO's acknowledgement.
        row.locator("button.ack").click()
        expect(row.locator("button.ack")).to_have_count(0)
        expect(row.locator('.party[data-party="BRAVO"]')).to_have_attribute(
            "data-acknowledged", "true"
        )
        expect(row.locator('.party[data-party="BRAVO"] .by')).to_have_text("(bravo.duty)")
        expect(alpha.locator(f'#message-{first} .party[data-party="BRAVO"]')).to_have_attribute(
            "data-acknowledged", "true", timeout=LIVE_SECONDS * 1000
        )
        assert bravo.evaluate("window.hotlineStory") == "not reloaded"

        # The supervisor's duty officer watches the deadlines; nobody answers the second FLASH.
        go_live(supervisor, f"{server}/hotline/deadlines")
        expect(supervisor.locator(f'tr.deadline[data-message="{first}"]')).to_have_count(0)
        supervisor.evaluate("window.hotlineStory = 'not reloaded'")
        second = send_flash(alpha, "Second warning: no answer yet.")
        sent = time.monotonic()
        waiting = supervisor.locator(f'tr.deadline[data-message="{second}"][data-party="BRAVO"]')
        expect(waiting).to_be_visible(timeout=LIVE_SECONDS * 1000)
        expect(waiting.locator("li.escalation")).to_have_count(0)
        expect(bravo.locator(f"#message-{second}")).to_be_visible(timeout=LIVE_SECONDS * 1000)

        step_one = waiting.locator('li.escalation[data-step="1"]')
        expect(step_one).to_be_visible(timeout=10_000)
        appeared = time.monotonic() - sent
        assert 2.5 <= appeared <= 3 + LIVE_SECONDS, (
            f"the escalation appeared after {appeared:.1f} s"
        )
        expect(step_one).to_contain_text("Escalation step 1")
        expect(step_one).to_contain_text(
            "the party's duty officer and the supervisor's duty officer"
        )
        expect(waiting.locator(".countdown-ack")).to_have_class(re.compile(r"\boverdue\b"))
        expect(waiting.locator('li.escalation[data-step="2"]')).to_contain_text(
            "the party's liaison officer", timeout=10_000
        )
        assert supervisor.evaluate("window.hotlineStory") == "not reloaded"
        # BRAVO's inbox shows its own escalation too, the overdue message pinned in red.
        expect(
            bravo.locator(f'#message-{second} .party[data-party="BRAVO"] .state.escalated')
        ).to_be_visible(timeout=LIVE_SECONDS * 1000)
        pinned = bravo.locator(f"#hotline-pinned-list > #message-{second}")
        expect(pinned.locator(".countdown-ack")).to_have_class(re.compile(r"\boverdue\b"))
        red = bravo.evaluate(
            "() => { const probe = document.createElement('span');"
            " probe.style.color = 'var(--error)'; document.body.append(probe);"
            " const color = getComputedStyle(probe).color; probe.remove(); return color; }"
        )
        expect(pinned).to_have_css("border-top-color", red)
        expect(pinned.locator(".countdown-ack time.countdown")).to_have_css("color", red)

        # Filtering in place: htmx swaps the list and pushes the address, the page stays.
        bravo.select_option("#filter-precedence", "FLASH")
        expect(bravo).to_have_url(re.compile(r"/hotline\?precedence=FLASH$"))
        expect(bravo.locator("#hotline-message-list > li.message")).to_have_count(2)
        expect(
            bravo.locator('#hotline-message-list > li.message[data-precedence="FLASH"]')
        ).to_have_count(2)
        assert bravo.evaluate("window.hotlineStory") == "not reloaded"
    except BaseException:
        request.node.hotline_failed = True
        raise

    requests.assert_stayed_on(server)
