"""Who reads, submits and releases intelligence, by role: the cell's policy grants it with
permissions of their own (``intel:report:*``), and every intelligence path asks them."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from tests.helpers.pages import HTML

from fusioncell.bootstrap import FEEDS, MAP_LAYERS
from fusioncell.cell.models import Role
from fusioncell.cell.policy import ROLE_PERMISSIONS, Permission, Viewer
from fusioncell.intel import policy

INTEL = {Permission.INTEL_READ, Permission.INTEL_SUBMIT, Permission.INTEL_RELEASE}

GRANTS = {
    Role.LIAISON: {Permission.INTEL_READ, Permission.INTEL_SUBMIT},
    Role.ANALYST: {Permission.INTEL_READ, Permission.INTEL_SUBMIT},
    Role.SUPERVISOR: {Permission.INTEL_READ, Permission.INTEL_RELEASE},
    Role.VERIFIER: {Permission.INTEL_READ},
    Role.OBSERVER: {Permission.INTEL_READ},
    Role.DUTY_OFFICER: set(),
    Role.AUDITOR: set(),
    Role.ADMIN: set(),
}


def test_each_role_holds_exactly_its_intelligence_permissions() -> None:
    assert set(GRANTS) == set(Role)
    for role, expected in GRANTS.items():
        assert ROLE_PERMISSIONS[role] & INTEL == expected, role


@pytest.mark.parametrize(
    ("username", "reads", "submits", "releases_any"),
    [
        ("alpha.analyst", True, True, False),
        ("alpha.liaison", True, True, False),
        ("alpha.duty", False, False, False),
        ("supervisor.chair", True, False, True),
        ("supervisor.duty", True, False, True),
        ("verifier.lead", True, False, False),
        ("host.observer", True, False, False),
        ("cell.admin", False, False, False),
    ],
)
def test_the_tracks_rules_follow_the_permissions(
    member: Callable[[str], Viewer], username: str, reads: bool, submits: bool, releases_any: bool
) -> None:
    viewer = member(username)
    assert policy.may_read(viewer) is reads
    assert policy.may_submit(viewer) is submits
    assert policy.may_release_any(viewer) is releases_any


def test_a_duty_officer_neither_sees_the_link_nor_opens_the_pages(
    new_client: Callable[[], TestClient], log_in: Callable[..., str]
) -> None:
    duty = new_client()
    log_in("alpha.duty", on=duty)
    home = duty.get("/hotline", headers=HTML)
    assert home.status_code == 200 and 'href="/intel"' not in home.text
    assert duty.get("/intel", headers=HTML).status_code == 403
    analyst = new_client()
    log_in("alpha.analyst", on=analyst)
    assert 'href="/intel"' in analyst.get("/hotline", headers=HTML).text


def test_the_map_page_offers_the_intelligence_layer_to_whoever_reads_intelligence(
    new_client: Callable[[], TestClient], log_in: Callable[..., str]
) -> None:
    assert ("/api/v1/intel/map", "Intelligence reports") in [
        (layer.url, layer.label) for layer in MAP_LAYERS
    ]
    for username, shown in (("bravo.analyst", True), ("alpha.duty", False), ("cell.admin", False)):
        browser = new_client()
        log_in(username, on=browser)
        page = browser.get("/map", headers=HTML)
        assert page.status_code == 200
        found = re.search(r'data-layers="([^"]*)"', page.text)
        assert found is not None
        # The intelligence layer among the tracks' layers (de-escalation's has its own test).
        layers = [
            layer
            for layer in json.loads(html.unescape(found.group(1)))
            if layer["url"].startswith("/api/v1/intel/")
        ]
        assert layers == (
            [{"url": "/api/v1/intel/map", "label": "Intelligence reports"}] if shown else []
        )


def test_every_page_names_every_feeds_live_kinds_for_the_one_stream(
    new_client: Callable[[], TestClient], log_in: Callable[..., str]
) -> None:
    browser = new_client()
    log_in("alpha.analyst", on=browser)
    page = browser.get("/intel", headers=HTML).text
    found = re.search(r'data-stream-kinds="([^"]*)"', page)
    assert found is not None
    kinds = set(found.group(1).split())
    assert kinds == {kind for feed in FEEDS for kind in feed.kinds}
    assert {"intel-report", "intel-response", "message", "acknowledged"} <= kinds
