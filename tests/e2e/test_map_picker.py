"""Places on a map, not in JSON: alpha.liaison picks an incident's location on the compose form's
map, the message carries it as GeoJSON, and bravo.duty sees it on a small map in the message's
row and on the main map; in English and Arabic (right to left), on a desktop and a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.e2e.browsing import Requests, log_in

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
MAP_SECONDS = 15


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def open_as(
    browser: Browser,
    contexts: list[BrowserContext],
    requests: Requests,
    server: str,
    username: str,
    password: str,
    *,
    language: str,
    viewport: str,
) -> Page:
    context = browser.new_context(
        locale="en-GB", viewport=VIEWPORTS[viewport], is_mobile=viewport == "phone"
    )
    contexts.append(context)
    page = requests.watch(context.new_page())
    log_in(page, server, username, password)
    if language != "en":
        # The header's language switch, submitted as it is even where a phone folds it away.
        page.eval_on_selector(
            "form.language-switch",
            "(form, language) => { form.language.value = language; form.submit(); }",
            language,
        )
        expect(page.locator("html")).to_have_attribute("lang", language)
    return page


MAP_REQUESTS = ("/static/vendor/", "/static/js/map", "/static/js/geometry", "/static/css/map",
                "/api/v1/geo/", "/api/v1/messages/")  # fmt: skip


def assert_maps_stayed_on(requests: Requests, server: str) -> None:
    """No request left the host, and every one the maps made was answered."""
    host = urlsplit(server).netloc
    assert [url for url in requests.urls if urlsplit(url).netloc not in {host, ""}] == []
    failed = [r.url for r in requests.failed if urlsplit(r.url).path.startswith(MAP_REQUESTS)]
    assert failed == []


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"map-picker-{name}.png"))


def choose_incident(page: Page) -> None:
    toggle = page.locator("#compose-toggle")  # the form opens on demand
    if toggle.count() and toggle.get_attribute("open") is None:
        toggle.locator("summary").click()
    page.select_option("#compose-channel", index=0)  # the cell-wide channel comes first
    page.select_option("#compose-precedence", "IMMEDIATE")
    page.select_option("#compose-form", "incident_alert")
    page.fill("#compose-incident_alert-occurred_at", "2026-01-06T10:30")
    page.fill("#compose-incident_alert-description", "Shots heard near the crossing")


@pytest.mark.parametrize(("language", "viewport"), [("en", "desktop"), ("ar", "phone")])
def test_a_point_picked_on_the_map_arrives_as_geojson_and_is_drawn_for_the_recipient(
    browser: Browser,
    contexts: list[BrowserContext],
    requests: Requests,
    server: str,
    demo_password: str,
    language: str,
    viewport: str,
) -> None:
    sender = open_as(
        browser, contexts, requests, server, "alpha.liaison", demo_password,
        language=language, viewport=viewport,
    )  # fmt: skip
    sender.goto(f"{server}/hotline")
    message_id = sender.locator("#hotline-compose input[name=id]").input_value()
    choose_incident(sender)
    picker = sender.locator("#hotline-compose fieldset[data-form=incident_alert] .map-picker")
    expect(picker).to_have_attribute("data-picker-ready", "true", timeout=MAP_SECONDS * 1000)
    expect(picker.locator(".picker-map")).to_have_class(
        re.compile(r"\bmap-ready\b"), timeout=MAP_SECONDS * 1000
    )
    assert int(picker.locator(".picker-map").get_attribute("data-zones-drawn") or 0) > 0
    # Leaflet's zoom buttons sit in the corner the page's direction starts from.
    corner = ".leaflet-top.leaflet-right" if language == "ar" else ".leaflet-top.leaflet-left"
    expect(picker.locator(f"{corner} .leaflet-control-zoom")).to_be_visible()
    expect(picker.locator(".leaflet-control-scale")).to_be_visible()

    picker.locator(".picker-map").click()  # its centre, among the zones
    expect(picker).to_have_attribute("data-vertices", "1")
    expect(picker.locator(".leaflet-marker-icon")).to_have_count(1)
    typed = sender.locator("#compose-incident_alert-location").input_value()
    assert typed.startswith('{"type":"Point","coordinates":[')
    shoot(sender, f"compose-{language}-{viewport}")
    sender.click("#hotline-compose button.send")
    expect(sender.locator("#hotline-compose .notice")).to_be_visible()

    sent = sender.request.get(f"{server}/api/v1/messages/{message_id}")
    assert sent.ok
    location = sent.json()["fields"]["location"]
    assert location["type"] == "Point"
    longitude, latitude = location["coordinates"]
    assert 33.5 <= longitude <= 38.5 and 31.0 <= latitude <= 35.5
    assert f'{{"type":"Point","coordinates":[{longitude},{latitude}]}}' == typed

    recipient = open_as(
        browser, contexts, requests, server, "bravo.duty", demo_password,
        language=language, viewport=viewport,
    )  # fmt: skip
    recipient.goto(f"{server}/hotline")
    # The first of the message's rows: it may be pinned above the list, awaiting acknowledgement.
    row = recipient.locator(f"li.message[data-message='{message_id}']").first
    small_map = row.locator(".geometry-map")
    expect(small_map).to_have_attribute("data-drawn", "1", timeout=MAP_SECONDS * 1000)
    expect(small_map.locator(".leaflet-marker-icon")).to_have_count(1)
    row.scroll_into_view_if_needed()
    shoot(recipient, f"row-{language}-{viewport}")

    row.locator("a.show-on-map").click()
    main_map = recipient.locator("#map")
    expect(main_map).to_have_attribute("data-shown", "1", timeout=MAP_SECONDS * 1000)
    expect(main_map.locator(".leaflet-marker-icon")).to_have_count(1)
    expect(main_map.locator(".leaflet-control-scale")).to_be_visible()
    expect(main_map.locator(".zone-label").first).to_be_visible()
    main_map.hover(position={"x": 200, "y": 200})
    readout = main_map.locator(".map-readout")
    expect(readout).to_have_attribute("data-mgrs", re.compile(r"^3[67]S [A-Z]{2} \d{5} \d{5}$"))
    shoot(recipient, f"main-map-{language}-{viewport}")
    assert_maps_stayed_on(requests, server)


def test_a_position_typed_as_mgrs_or_degrees_is_placed_and_an_area_is_drawn_corner_by_corner(
    page: Page, server: str, demo_password: str
) -> None:
    log_in(page, server, "alpha.liaison", demo_password)
    page.goto(f"{server}/hotline")
    choose_incident(page)
    location = page.locator("#hotline-compose fieldset[data-form=incident_alert] .map-picker")
    expect(location).to_have_attribute("data-picker-ready", "true", timeout=MAP_SECONDS * 1000)

    typed = page.locator("#compose-incident_alert-location-typed")
    typed.fill("36S YB 12345 67890")
    typed.press("Enter")
    point = page.locator("#compose-incident_alert-location").input_value()
    assert point.startswith('{"type":"Point","coordinates":[35.')
    typed.fill("33.2, 35.9")
    location.locator("button.map-picker-place").click()
    expect(page.locator("#compose-incident_alert-location")).to_have_value(
        '{"type":"Point","coordinates":[35.9,33.2]}'
    )
    typed.fill("somewhere north")
    typed.press("Enter")
    expect(location.locator(".map-picker-status")).to_be_visible()

    page.select_option("#compose-form", "activity_notification")
    activity = page.locator("#hotline-compose fieldset[data-form=activity_notification]")
    area = activity.locator(".map-picker[data-kinds=Polygon]")
    expect(area).to_have_attribute("data-picker-ready", "true", timeout=MAP_SECONDS * 1000)
    area_map = area.locator(".picker-map")
    for x, y in ((100, 80), (200, 80), (150, 160)):
        area_map.click(position={"x": x, "y": y})
    polygon = page.locator("#compose-activity_notification-area").input_value()
    assert polygon.startswith('{"type":"Polygon","coordinates":[[[')
    area.locator("button.map-picker-undo").click()
    expect(page.locator("#compose-activity_notification-area")).to_have_value("")
    expect(area.locator(".map-picker-status")).to_be_visible()

    route = activity.locator(".map-picker[data-kinds=LineString]")
    route.scroll_into_view_if_needed()
    expect(route).to_have_attribute("data-picker-ready", "true", timeout=MAP_SECONDS * 1000)
    for x, y in ((100, 80), (200, 120)):
        route.locator(".picker-map").click(position={"x": x, "y": y})
    line = page.locator("#compose-activity_notification-route").input_value()
    assert line.startswith('{"type":"LineString","coordinates":[[')
