"""The first story: log in, switch to Arabic, open the map — and nothing leaves the machine."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from tests.e2e.browsing import Requests, log_in, switch_language


def test_a_liaison_logs_in_switches_to_arabic_and_sees_the_zones_without_leaving_the_host(
    page: Page, server: str, demo_password: str, requests: Requests
) -> None:

    log_in(page, server, "alpha.liaison", demo_password)

    switch_language(page, "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    page.goto(f"{server}/map")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    map_element = page.locator("#map")
    page.wait_for_selector("#map.map-ready", timeout=15_000)
    assert map_element.get_attribute("data-zones-drawn") == "8"
    assert map_element.get_attribute("data-sites-drawn") == "7"
    assert page.locator("#map path.zone").count() >= 8
    assert page.locator("#map path.zone-separation").count() == 1
    assert page.locator("#map path.zone-limitation").count() == 6
    assert page.locator("#map path.site").count() == 7
    assert int(map_element.get_attribute("data-basemap-drawn") or 0) > 0

    requests.assert_stayed_on(server)
