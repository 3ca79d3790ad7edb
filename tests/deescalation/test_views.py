"""The de-escalation page without a browser: who may open it, the same bars for both parties
(one scale per row), the candidates with their evidence as the viewer may read it, the time
and source chosen in the address, and the sections alone for the page's live refresh."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from tests.deescalation.test_map_layer import stage

HTML = {"Accept": "text/html"}
Headers = Callable[[str], dict[str, str]]
TANKS_ROW = re.compile(
    r'<tr class="deesc-row" data-row="own:0-10:tank" data-category="tank" data-scale="(\d+)">'
    r"(.*?)</tr>",
    re.S,
)


def page_of(
    new_client: Callable[[], TestClient], log_in: Callable[..., str], username: str
) -> TestClient:
    browser = new_client()
    log_in(username, on=browser)
    return browser


def test_only_readers_of_the_track_open_the_page(
    new_client: Callable[[], TestClient], log_in: Callable[..., str]
) -> None:
    for username, status in (
        ("alpha.liaison", 200),
        ("verifier.lead", 200),
        ("host.observer", 200),
        ("cell.admin", 403),
    ):
        browser = page_of(new_client, log_in, username)
        response = browser.get("/deescalation", headers=HTML)
        assert response.status_code == status, username
        assert ('href="/deescalation"' in response.text) is (status == 200), username


def test_both_parties_see_the_same_bars_and_candidates(
    client: TestClient,
    token_for: Headers,
    new_client: Callable[[], TestClient],
    log_in: Callable[..., str],
) -> None:
    stage(client, token_for)
    rows = {}
    for username in ("alpha.liaison", "bravo.liaison"):
        text = page_of(new_client, log_in, username).get("/deescalation", headers=HTML).text
        found = TANKS_ROW.search(text)
        assert found is not None
        rows[username] = found.groups()
        assert 'id="candidate-R2-ALPHA-limitation-alpha-0-10-tank-count"' in text
        assert 'data-observation="' in text  # the evidence
        # BRAVO's report is BRAVO's: ALPHA's page does not show its candidate.
        assert ('id="candidate-R3-ALPHA-limitation-alpha-10-20-artillery-range_km"' in text) is (
            False
        )
    assert rows["alpha.liaison"] == rows["bravo.liaison"]
    scale, cells = rows["alpha.liaison"]
    assert scale == "78"
    assert 'data-party="ALPHA"' in cells and 'data-width="100.00%"' in cells
    assert 'style="inset-inline-start: 96.15%"' in cells  # the limit, 75 of 78

    reports = page_of(new_client, log_in, "bravo.liaison").get(
        "/deescalation?source=report", headers=HTML
    )
    assert 'id="candidate-R3-ALPHA-limitation-alpha-10-20-artillery-range_km"' in reports.text


def test_the_time_in_the_address_and_the_live_sections(
    client: TestClient,
    token_for: Headers,
    new_client: Callable[[], TestClient],
    log_in: Callable[..., str],
) -> None:
    stage(client, token_for)
    browser = page_of(new_client, log_in, "alpha.liaison")
    before = browser.get("/deescalation?at=2026-01-06T06:00", headers=HTML)
    assert before.status_code == 200
    assert 'id="no-candidates"' in before.text
    assert 'data-at="2026-01-06T06:00:00+00:00"' in before.text
    bad = browser.get("/deescalation?at=tomorrow", headers=HTML)
    assert bad.status_code == 422
    assert "Give the time as a date and a time." in bad.text
    sections = browser.get(
        "/deescalation",
        headers={**HTML, "HX-Request": "true", "HX-Target": "deescalation-sections"},
    )
    assert sections.status_code == 200
    assert sections.text.lstrip().startswith('<div id="deescalation-sections"')
    assert "<html" not in sections.text
    assert 'id="candidate-R2-ALPHA-limitation-alpha-0-10-tank-count"' in sections.text
    assert sections.headers["vary"] == "HX-Target"
