"""The intelligence pages: the list and its filters, a report for people, the common case's
form and the bundle upload, the supervisor's side-by-side release, and answering a report;
each shows only what is released to the member's organisation."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.helpers.pages import HTML
from tests.intel.factories import located_report, submit
from tests.intel.story import Story, tell

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.intel.models import Report

LogIn = Callable[..., str]


def _report_ids(html: str) -> set[str]:
    return set(re.findall(r'id="report-([0-9a-f-]{36})"', html))


def test_the_list_and_each_report_page_show_only_what_is_released(
    client: TestClient,
    new_client: Callable[[], TestClient],
    log_in: LogIn,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
) -> None:
    story: Story = tell(db, member, clock)
    listed = {"to_supervisor", "to_both", "bravo_wide", "derived"}
    for username, organisation in [
        ("alpha.analyst", "ALPHA"),
        ("bravo.liaison", "BRAVO"),
        ("verifier.lead", "VERIFIER"),
        ("hum1.coordinator", "HUM-1"),
        ("supervisor.chair", "SUPERVISOR"),
    ]:
        browser = new_client()
        log_in(username, on=browser)
        visible = story.visible[organisation]
        page = browser.get("/intel", headers=HTML)
        assert page.status_code == 200
        expected = {str(story.reports[n]) for n in visible & listed}
        assert _report_ids(page.text) == expected, username
        searched = browser.get("/intel", params={"q": "dusk"}, headers=HTML)
        assert _report_ids(searched.text) == {str(story.reports["bravo_wide"])} & expected
        for name, report_id in story.reports.items():
            one = browser.get(f"/intel/reports/{report_id}", headers=HTML, follow_redirects=False)
            assert one.status_code in ((200, 303) if name in visible else (404,)), (username, name)
    anonymous = client.get("/intel", headers=HTML, follow_redirects=False)
    assert anonymous.status_code in (303, 401)


def test_the_report_page_renders_the_objects_grade_tlp_and_responses(
    client: TestClient,
    log_in: LogIn,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
) -> None:
    story = tell(db, member, clock)
    log_in("alpha.liaison")
    page = client.get(f"/intel/reports/{story.reports['derived']}", headers=HTML)
    assert page.status_code == 200
    assert "B2" in page.text and "TLP:AMBER" in page.text
    assert "ALPHA, BRAVO" in page.text or "ALPHA" in page.text
    assert 'class="derived-from"' in page.text  # ALPHA may see both
    assert "Strongly disagree" in page.text and "no convoy there" in page.text
    assert 'class="geometry-map"' in page.text


def test_a_party_submits_an_observation_picked_on_the_map(
    client: TestClient, log_in: LogIn, db: Session
) -> None:
    csrf = log_in("alpha.analyst")
    form = client.get("/intel/new", headers=HTML)
    assert form.status_code == 200 and 'class="map-picker"' in form.text
    sent = client.post(
        "/intel/observations",
        data={
            "csrf_token": csrf,
            "title": "Ferry crossing",
            "description": "A ferry crossed at night",
            "location": json.dumps({"type": "Point", "coordinates": [35.85, 33.11]}),
            "observed_at": "2026-01-06T04:00",
            "release_to": ["BRAVO"],
            "tlp": "green",
            "grade": "B3",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    page = client.get(sent.headers["location"], headers=HTML)
    assert "Ferry crossing" in page.text and "B3" in page.text and "TLP:GREEN" in page.text
    missing = client.post(
        "/intel/observations",
        data={"csrf_token": csrf, "title": "x", "description": "y", "location": "", "grade": "B2"},
        headers=HTML,
    )
    assert missing.status_code == 422 and 'role="alert"' in missing.text


def test_a_bundle_upload_refuses_invalid_stix_with_the_object_named(
    client: TestClient, log_in: LogIn, db: Session
) -> None:
    csrf = log_in("bravo.analyst")
    data = located_report()
    data["objects"][1]["latitude"] = 200
    refused = client.post(
        "/intel/bundles",
        data={"csrf_token": csrf, "bundle": json.dumps(data), "grade": "C3"},
        headers=HTML,
    )
    assert refused.status_code == 422
    assert data["objects"][1]["id"] in refused.text
    data["objects"][1]["latitude"] = 33.0
    sent = client.post(
        "/intel/bundles",
        data={"csrf_token": csrf, "bundle": json.dumps(data), "grade": "C3"},
        headers=HTML,
        follow_redirects=False,
    )
    assert sent.status_code == 303


def test_the_supervisor_previews_side_by_side_and_releases(
    client: TestClient,
    log_in: LogIn,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
) -> None:
    original = submit(db, member("alpha.analyst"), clock)
    db.commit()
    csrf = log_in("supervisor.chair")
    preview = client.get(
        f"/intel/reports/{original.id}/release",
        params={"grid_km": "10", "anonymise_source": "1", "redact": "description"},
        headers=HTML,
    )
    assert preview.status_code == 200
    assert "a party of the cell" in preview.text and "Patrol 7" in preview.text
    assert 'class="changed"' in preview.text
    released = client.post(
        f"/intel/reports/{original.id}/releases",
        data={
            "csrf_token": csrf,
            "grid_km": "10",
            "anonymise_source": "1",
            "redact": "description",
            "release_to": ["BRAVO"],
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert released.status_code == 303, released.text
    derived = db.query(Report).filter(Report.derived_from == original.id).one()
    assert released.headers["location"] == f"/intel/reports/{derived.id}"


def test_the_navigation_shows_intelligence_to_readers_only(
    client: TestClient, log_in: LogIn
) -> None:
    log_in("alpha.analyst")
    assert 'href="/intel"' in client.get("/account", headers=HTML).text
