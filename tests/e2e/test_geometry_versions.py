"""Signing a geometry version on the map page, in a real browser: ALPHA proposes version 2
through the API and signs it; BRAVO's liaison officer sees it awaiting BRAVO and the
supervisor and signs it with the page's button; the chair signs last, and the page then names
version 2 as the one in force, which is what the zones layer now serves."""

from __future__ import annotations

import copy

import httpx
from playwright.sync_api import Page, expect
from tests.e2e.browsing import Requests, log_in

from fusioncell.geo.derive import demo_geometry_proposal


def _propose_and_sign_as_alpha(server: str, password: str) -> dict[str, object]:
    token = httpx.post(
        f"{server}/api/v1/auth/token", json={"username": "alpha.liaison", "password": password}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    collection = copy.deepcopy(demo_geometry_proposal())
    collection["features"].append(
        {
            "type": "Feature",
            "id": "new-clinic",
            "geometry": {"type": "Point", "coordinates": [35.95, 33.0]},
            "properties": {"kind": "protected_site", "name": "New clinic"},
        }
    )
    proposed = httpx.post(
        f"{server}/api/v1/geo/versions",
        json={"collection": collection, "source": "Joint survey, annex C"},
        headers=headers,
    )
    assert proposed.status_code == 201, proposed.text
    version: dict[str, object] = proposed.json()
    signed = httpx.post(
        f"{server}/api/v1/geo/versions/{version['id']}/signatures",
        json={"content_hash": version["content_hash"]},
        headers=headers,
    )
    assert signed.status_code == 201, signed.text
    return version


def test_the_last_signature_on_the_map_page_puts_version_2_in_force(
    page: Page, server: str, demo_password: str, requests: Requests
) -> None:
    version = _propose_and_sign_as_alpha(server, demo_password)

    log_in(page, server, "bravo.liaison", demo_password)
    page.goto(f"{server}/map")
    expect(page.locator("#geometry-in-force")).to_have_attribute("data-version", "1")
    pending = page.locator('#geometry-proposed li[data-version="2"]')
    expect(pending).to_contain_text("Signed by ALPHA. Awaiting BRAVO and the supervisor.")
    expect(pending).to_contain_text(str(version["content_hash"]))
    pending.get_by_role("button", name="Sign version 2").click()
    expect(pending).to_contain_text("Signed by ALPHA and BRAVO. Awaiting the supervisor.")
    expect(pending.get_by_role("button")).to_have_count(0)

    page.context.clear_cookies()
    log_in(page, server, "supervisor.chair", demo_password)
    page.goto(f"{server}/map")
    page.get_by_role("button", name="Sign version 2").click()

    expect(page.locator("#geometry-in-force")).to_have_attribute("data-version", "2")
    expect(page.locator("#geometry-in-force")).to_contain_text(
        "Geometry version 2, signed by ALPHA, BRAVO, and the supervisor on"
    )
    expect(page.locator("#geometry-proposed")).to_have_count(0)
    # The map's sites layer is the new version's: eight protected sites.
    sites = page.evaluate(
        "async () => (await (await fetch('/api/v1/geo/sites')).json()).features.length"
    )
    assert sites == 8
    requests.assert_stayed_on(server)
