"""Honest limits in a real browser: a text field counts characters as the server does (code
points, not UTF-16 units or bytes), says when the text is too long, keeps every character
typed, and will not submit until it fits; the server refuses the same text with a clear
message."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.browsing import Requests, log_in, switch_language
from tests.e2e.conftest import ARTIFACTS

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
COUNTER = "#record-type + .char-counter"


def open_record(
    browser: Browser, server: str, password: str, *, language: str, viewport: str
) -> Page:
    context = browser.new_context(
        locale="en-GB", viewport=VIEWPORTS[viewport], is_mobile=viewport == "phone"
    )
    page = context.new_page()
    log_in(page, server, "alpha.liaison", password)
    if language != "en":
        switch_language(page, language)
    page.goto(f"{server}/record")
    return page


@pytest.mark.parametrize(
    ("language", "viewport"), [("en", "desktop"), ("ar", "phone"), ("he", "desktop")]
)
def test_a_text_field_counts_characters_as_the_server_does_and_cuts_nothing(
    browser: Browser, server: str, demo_password: str, language: str, viewport: str
) -> None:
    page = open_record(browser, server, demo_password, language=language, viewport=viewport)
    field = page.locator("#record-type")
    counter = page.locator(COUNTER)

    # The browser's own maxlength (UTF-16 units, silently cutting) is lifted; ours stays.
    expect(field).to_have_attribute("data-max-chars", "64")
    assert field.get_attribute("maxlength") is None
    expect(counter).to_have_attribute("data-over", "false")
    described = field.get_attribute("aria-describedby") or ""
    assert (counter.get_attribute("id") or "") in described.split()

    # 64 emoji are 64 characters for the server's len(), 128 UTF-16 units, 256 bytes: they fit.
    field.fill("\N{GRINNING FACE}" * 64)
    expect(counter).to_have_attribute("data-over", "false")
    assert page.evaluate("document.querySelector('#record-type').checkValidity()") is True
    if language == "en":
        expect(counter).to_have_text("64 of 64 characters")

    # One more is too long: said in the page's language, kept whole, and not submitted.
    field.fill("\N{GRINNING FACE}" * 65)
    expect(counter).to_have_attribute("data-over", "true")
    expect(counter).to_have_class(re.compile(r"\berror-message\b"))
    expect(field).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("[...document.querySelector('#record-type').value].length") == 65
    message = page.evaluate("document.querySelector('#record-type').validationMessage")
    if language == "en":
        expect(counter).to_have_text("65 of 64 characters")
        assert message.startswith("Too long: 65 characters, at most 64.")
    else:
        assert "Too long" not in message and message
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"limits-{language}-{viewport}.png"))
    url = page.url
    page.click(".record-search button[type=submit]")
    expect(page).to_have_url(url)

    # Back within the limit, the field is valid again and the search goes through.
    field.fill("log.policy")
    expect(counter).to_have_attribute("data-over", "false")
    assert field.get_attribute("aria-invalid") is None
    page.click(".record-search button[type=submit]")
    expect(page).to_have_url(re.compile(r"/record\?type=log\.policy$"))
    page.context.close()


def test_the_server_refuses_what_the_counter_refuses_with_a_clear_message(
    browser: Browser, server: str, demo_password: str, requests: Requests
) -> None:
    page = open_record(browser, server, demo_password, language="en", viewport="desktop")
    requests.watch(page)

    fits = page.goto(f"{server}/record?type={quote(chr(0x1F600) * 64)}")
    assert fits is not None and fits.status == 200
    too_long = page.goto(f"{server}/record?type={quote(chr(0x1F600) * 65)}")

    assert too_long is not None and too_long.status == 422
    expect(page.locator("main")).to_contain_text("64")
    requests.assert_stayed_on(server)
    page.context.close()
