"""The operations room in real browsers: ALPHA's and BRAVO's liaison officers watch the map;
the verifier reports an ALPHA unit that moved and ALPHA notifies an activity, both through
the API; each page draws the unit's holding and its track in its own colours and the
notification's buffer, live on the page's one stream, and lists them on its timeline. The
party filter hides a party's features, the full-screen mode fills the screen and Escape
leaves it. The room is photographed in en / ar / he on a desktop and a phone."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.browsing import switch_language
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_deescalation import VIEWPORTS, token
from tests.e2e.test_intel import Members

pytestmark = pytest.mark.long

LIVE_MS = 10_000
START = (35.72, 33.20)
MOVED = (35.69, 33.17)


@pytest.fixture
def members(browser: Browser, server: str, demo_password: str) -> Iterator[Members]:
    opened = Members(browser, server, demo_password)
    yield opened
    opened.close()


def _time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def report_moving_unit(server: str, headers: dict[str, str]) -> None:
    """The verifier's sensor saw an ALPHA tank platoon at two places, ten minutes apart."""
    now = datetime.now(UTC)
    features = [
        {
            "type": "Feature",
            "id": f"ops-{uuid.uuid4()}",
            "geometry": {"type": "Point", "coordinates": list(where)},
            "properties": {
                "unit": "alpha-tank-platoon-7",
                "party": "ALPHA",
                "category": "tank",
                "count": 4,
                "observed_at": _time(now - timedelta(minutes=minutes)),
                "source": "sensor",
            },
        }
        for where, minutes in ((START, 20), (MOVED, 10))
    ]
    answer = httpx.post(
        f"{server}/api/v1/deescalation/observations",
        json={"type": "FeatureCollection", "features": features},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text


def notify_activity(server: str, headers: dict[str, str]) -> None:
    starts = datetime.now(UTC) + timedelta(hours=80)
    answer = httpx.post(
        f"{server}/api/v1/notifications",
        json={
            "kind": "activity",
            "category": "training",
            "geometry": {"type": "Point", "coordinates": [35.60, 33.10]},
            "starts_at": _time(starts),
            "ends_at": _time(starts + timedelta(hours=6)),
            "description": "Company-level training",
        },
        headers=headers,
    )
    assert answer.status_code == 201, answer.text


def open_room(members: Members, server: str, username: str, **options: object) -> Page:
    page = members.page(username, **options)
    page.goto(f"{server}/map")
    expect(page.locator("#map")).to_have_attribute("data-layers-drawn", "0,0,0", timeout=LIVE_MS)
    return page


def test_the_operations_room_draws_what_happens_live_for_each_side(
    members: Members, server: str, demo_password: str
) -> None:
    alpha = open_room(members, server, "alpha.liaison")
    bravo = open_room(members, server, "bravo.liaison")
    for page in (alpha, bravo):
        expect(page.locator("h1")).to_have_text("Operations room")
        expect(page.locator("#ops-timeline .ops-empty")).to_be_visible()

    report_moving_unit(server, token(server, "verifier.lead", demo_password))
    notify_activity(server, token(server, "alpha.liaison", demo_password))

    for page, affiliation in ((alpha, "own"), (bravo, "other")):
        # The holding and its track; the notification's buffer and shape.
        expect(page.locator("#map")).to_have_attribute(
            "data-layers-drawn", "0,2,2", timeout=LIVE_MS
        )
        symbol = page.locator(".leaflet-holdings-pane .holding-symbol")
        expect(symbol).to_have_count(1)
        expect(symbol).to_have_attribute("data-affiliation", affiliation)
        track = page.locator(f"path.unit-track.unit-track-{affiliation}.party-alpha")
        expect(track).to_have_count(1)
        expect(page.locator("path.notification-buffer.party-alpha")).to_have_count(1)
        live = page.locator("#ops-timeline li.ops-live")
        expect(live.filter(has_text="De-escalation").first).to_be_visible()
        expect(live.filter(has_text="Deconfliction").first).to_be_visible()
        assert page.locator("#ops-timeline li.ops-live a").first.get_attribute("href") in (
            "/deescalation",
            "/deconfliction",
        )

    # ALPHA's features hidden on BRAVO's screen, and shown again.
    bravo.locator("#ops-parties input[value=ALPHA]").uncheck()
    expect(bravo.locator(".leaflet-holdings-pane .holding-icon.party-alpha")).to_be_hidden()
    expect(bravo.locator("path.unit-track.party-alpha")).to_be_hidden()
    expect(bravo.locator("path.notification-buffer.party-alpha")).to_be_hidden()
    bravo.locator("#ops-parties input[value=ALPHA]").check()
    expect(bravo.locator(".leaflet-holdings-pane .holding-icon.party-alpha")).to_be_visible()

    # A wall display: the room fills the screen; Escape leaves it.
    button = alpha.locator("#ops-fullscreen")
    button.click()
    room = alpha.locator("#ops-room")
    expect(room).to_have_class(re.compile(r"\bops-fullscreen\b"))
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_text("Leave full screen")
    box = alpha.locator("#map").bounding_box()
    viewport = alpha.viewport_size
    assert box is not None and viewport is not None
    assert box["height"] > viewport["height"] * 0.6
    alpha.keyboard.press("Escape")
    expect(room).not_to_have_class(re.compile(r"\bops-fullscreen\b"))
    expect(button).to_have_attribute("aria-pressed", "false")
    members.requests.assert_stayed_on(server)


def test_the_operations_room_is_photographed_in_every_language(
    members: Members, server: str, demo_password: str
) -> None:
    report_moving_unit(server, token(server, "verifier.lead", demo_password))
    notify_activity(server, token(server, "alpha.liaison", demo_password))
    ARTIFACTS.mkdir(exist_ok=True)
    for viewport, size in VIEWPORTS.items():
        page = members.page("bravo.liaison", viewport=size)
        for language in ("en", "ar", "he"):
            page.goto(f"{server}/map")
            switch_language(page, language)
            page.goto(f"{server}/map")
            direction = "ltr" if language == "en" else "rtl"
            expect(page.locator("html")).to_have_attribute("dir", direction)
            expect(page.locator("#map")).to_have_attribute(
                "data-layers-drawn", "0,2,2", timeout=LIVE_MS
            )
            expect(page.locator("#ops-timeline li").first).to_be_visible()
            page.screenshot(path=ARTIFACTS / f"ops-room-{language}-{viewport}.png", full_page=True)
