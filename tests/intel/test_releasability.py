"""Releasability on every read path, for a member of every demo organisation: the lists,
counts, search, single reads, a report's responses, the map layer, the export, the live
events and the record's bodies each show a member exactly the reports released to the
member's organisation; the rest is 404 and counts for nothing. The operator, who sits in the
supervising organisation, and a party's duty officer read no intelligence at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.intel.story import WORD, Story, tell

from fusioncell import bootstrap
from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.intel.models import Report
from fusioncell.live.queries import events_since

# One member per organisation (and the operator, and a party's duty officer, who read no
# intelligence by their roles), with the organisation whose releases apply.
READERS = {
    "alpha.analyst": "ALPHA",
    "alpha.liaison": "ALPHA",
    "alpha.duty": None,
    "bravo.duty": None,
    "supervisor.duty": "SUPERVISOR",
    "bravo.analyst": "BRAVO",
    "supervisor.chair": "SUPERVISOR",
    "verifier.lead": "VERIFIER",
    "host.observer": "HOST",
    "hum1.coordinator": "HUM-1",
    "cell.admin": None,
}
LISTED = {"to_supervisor", "to_both", "bravo_wide", "derived"}  # responses show with a report


@pytest.fixture
def story(db: Session, member: Callable[[str], Viewer], clock: ManualClock) -> Story:
    return tell(db, member, clock)


def _names(story: Story, ids: Any) -> set[str]:
    by_id = {str(v): k for k, v in story.reports.items()}
    return {by_id[str(i)] for i in ids}


@pytest.mark.parametrize("username", list(READERS))
def test_every_read_path_shows_exactly_what_is_released_to_the_members_organisation(
    client: TestClient,
    db: Session,
    member: Callable[[str], Viewer],
    token_for: Callable[[str], dict[str, str]],
    story: Story,
    username: str,
) -> None:
    organisation = READERS[username]
    visible = story.visible[organisation] if organisation else set()
    headers = token_for(username)
    api = "/api/v1/intel"

    listed = client.get(f"{api}/reports", params={"limit": 500}, headers=headers).json()
    assert _names(story, [r["id"] for r in listed]) == visible & LISTED
    count = client.get(f"{api}/reports/count", headers=headers).json()["count"]
    assert count == len(visible & LISTED)
    found = client.get(f"{api}/reports", params={"q": WORD}, headers=headers).json()
    assert _names(story, [r["id"] for r in found]) == visible & LISTED
    counted = client.get(f"{api}/reports/count", params={"q": WORD}, headers=headers).json()
    assert counted["count"] == len(visible & LISTED)
    for name, report_id in story.reports.items():
        one = client.get(f"{api}/reports/{report_id}", headers=headers)
        assert one.status_code == (200 if name in visible else 404), (name, one.text)
    if "derived" in visible:
        derived = client.get(f"{api}/reports/{story.reports['derived']}", headers=headers).json()
        assert _names(story, [r["id"] for r in derived["responses"]]) == {"disputed"} & visible
        # The link to the original only for whoever may see both.
        assert (derived["derived_from"] is not None) == ("to_supervisor" in visible)

    features = client.get(f"{api}/map", headers=headers).json()["features"]
    assert _names(story, {f["properties"]["report"] for f in features}) == visible & LISTED

    exported = client.get(f"{api}/export", headers=headers).json()["objects"]
    expected: set[str] = set()
    for name in visible:
        report = db.get(Report, story.reports[name])
        assert report is not None
        expected |= {o["id"] for o in report.bundle["objects"]}
    assert {o["id"] for o in exported} == expected

    viewer = member(username)
    events = [e for e in events_since(db, viewer, bootstrap.FEEDS, 0) if e.track == "intel"]
    assert _names(story, [e.subject for e in events]) == visible

    for name, report_id in story.reports.items():
        report = db.get(Report, report_id)
        assert report is not None
        entry = client.get(f"/api/v1/log/entries/{report.log_index}", headers=headers).json()
        assert (entry["body"] is not None) == (name in visible), name
        if entry["body"] is not None:
            assert entry["body"]["bundle"] == report.bundle
