"""What every browser story does: log in through the form, and prove that no request left the
host (the cell is air-gapped)."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, Request, expect


def log_in(page: Page, server: str, username: str, password: str) -> None:
    page.goto(f"{server}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form.stacked button[type=submit]")
    expect(page.locator("a.account-link")).to_have_text(username)


def switch_language(page: Page, language: str) -> None:
    """From the header, or from the menu it folds into on a phone.

    The page script marks <html> with `js` once it has run; until then the phone's menu is
    neither folded nor offered, so wait for it before asking whether there is a menu to open.
    """
    page.wait_for_selector("html.js", state="attached")
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible():
        toggle.click()
    page.select_option("#language-select", language)
    page.click("form.language-switch button[name=switch]")
    expect(page.locator("html")).to_have_attribute("lang", language)


class Requests:
    """Every request the watched pages make, to prove none left the host."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.failed: list[Request] = []

    def watch(self, page: Page) -> Page:
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("requestfailed", lambda request: self.failed.append(request))
        return page

    def assert_stayed_on(self, server: str) -> None:
        host = urlsplit(server).netloc
        elsewhere = [url for url in self.urls if urlsplit(url).netloc not in {host, ""}]
        assert elsewhere == [], f"requests left the host: {elsewhere}"
        # A page that navigates away cuts what it was still reading (its event stream, a row or
        # the header strip being fetched), and htmx drops a read that a newer one replaced: an
        # aborted read is no failure. An aborted write, or any other failure, is.
        failed = [
            f"{request.method} {request.url} {request.failure}"
            for request in self.failed
            if not (request.method == "GET" and "ERR_ABORTED" in str(request.failure))
        ]
        assert failed == [], f"requests failed: {failed}"
