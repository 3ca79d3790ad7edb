"""The map page: the version in force, who signed it and when, and the versions awaiting
signatures with a Sign button for a signatory whose organisation has not signed yet."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.helpers.pages import HTML, session_cookie
from tests.helpers.tables import table_counts

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.geo import queries

from .versions import propose, sign

Lookup = Callable[[str], Viewer]
SIGN_FORM = re.compile(r'<form method="post" action="/map/versions/([0-9a-f-]+)/sign"')


def _page(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, user: str
) -> str:
    session_cookie(client, db, clock, settings, user)
    response = client.get("/map", headers=HTML)
    assert response.status_code == 200, response.text
    return response.text


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "Geometry version 1, signed by ALPHA, BRAVO, and the supervisor on"),
        ("ar", "نسخة الهندسة 1، وقّعها ALPHA وBRAVO والمشرف في"),
        ("he", "גרסת הגאומטריה 1, נחתמה בידי ALPHA, BRAVO והמפקח ב־"),
    ],
)
def test_the_map_says_which_version_is_in_force_and_who_signed_it(
    client: TestClient, log_in: Callable[..., str], language: str, sentence: str
) -> None:
    csrf = log_in("host.observer")
    spoken = client.post(
        "/language",
        data={"language": language, "next": "/map", "csrf_token": csrf},
        headers=HTML,
        follow_redirects=False,
    )
    assert spoken.status_code == 303

    text = html.unescape(client.get("/map", headers=HTML).text)

    assert 'id="geometry-in-force" data-version="1"' in text
    assert sentence in text
    assert 'id="geometry-proposed"' not in text


def test_a_proposed_version_is_listed_with_a_sign_button_for_the_signatories_awaited(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, member: Lookup
) -> None:
    version = propose(db, member("alpha.liaison"), clock)
    sign(db, member, clock, version, ["alpha.liaison"])

    for username, button in (
        ("alpha.liaison", False),  # ALPHA has signed
        ("bravo.liaison", True),
        ("supervisor.chair", True),
        ("bravo.analyst", False),  # not a signatory
        ("verifier.lead", False),
    ):
        client.cookies.clear()
        text = _page(client, db, clock, settings, username)
        assert 'id="geometry-proposed"' in text, username
        assert "Version 2, proposed on" in text
        assert "Signed by ALPHA. Awaiting BRAVO and the supervisor." in text
        assert version.content_hash in text
        assert SIGN_FORM.findall(text) == ([str(version.id)] if button else []), username


def test_signing_on_the_page_puts_the_version_in_force_once_the_last_signs(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, member: Lookup
) -> None:
    version = propose(db, member("bravo.liaison"), clock)
    sign(db, member, clock, version, ["alpha.liaison", "bravo.liaison"])
    csrf = session_cookie(client, db, clock, settings, "supervisor.chair")

    response = client.post(
        f"/map/versions/{version.id}/sign",
        data={"csrf_token": csrf, "content_hash": version.content_hash},
        headers=HTML,
        follow_redirects=False,
    )

    assert (response.status_code, response.headers["location"]) == (303, "/map")
    in_force = queries.version_in_force(db, member("host.observer"))
    assert in_force is not None and in_force.number == 2
    text = client.get("/map", headers=HTML).text
    assert 'data-version="2"' in text and 'id="geometry-proposed"' not in text


def test_a_stale_hash_on_the_page_is_refused_with_a_message_and_nothing_is_written(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, member: Lookup
) -> None:
    version = propose(db, member("bravo.liaison"), clock)
    csrf = session_cookie(client, db, clock, settings, "alpha.liaison")
    before = table_counts(db)

    response = client.post(
        f"/map/versions/{version.id}/sign",
        data={"csrf_token": csrf, "content_hash": "0" * 64},
        headers=HTML,
    )

    assert response.status_code == 422
    assert "This version&#39;s content hash is not the one you say you sign." in response.text
    assert table_counts(db) == before


def test_a_member_who_is_not_a_signatory_is_refused_on_the_page(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, member: Lookup
) -> None:
    version = propose(db, member("bravo.liaison"), clock)
    csrf = session_cookie(client, db, clock, settings, "verifier.lead")
    before = table_counts(db)

    response = client.post(
        f"/map/versions/{version.id}/sign",
        data={"csrf_token": csrf, "content_hash": version.content_hash},
        headers=HTML,
    )

    assert response.status_code == 403
    assert table_counts(db) == before


@pytest.mark.parametrize(
    ("username", "live_kinds", "absent_kinds"),
    [
        ("alpha.liaison", {"deescalation-observations"}, set()),
        ("cell.admin", set(), {"deescalation-observations"}),
    ],
)
def test_the_map_is_the_operations_room_with_its_filters_timeline_and_live_layers(
    client: TestClient,
    log_in: Callable[..., str],
    username: str,
    live_kinds: set[str],
    absent_kinds: set[str],
) -> None:
    """A checkbox per party, the full-screen button and the timeline; the frames that redraw
    the map are those of the tracks whose layers the viewer is shown (and the geometry's),
    each named by its track's page."""
    log_in(username)
    text = client.get("/map", headers=HTML).text
    assert "<h1>Operations room</h1>" in text
    room = re.search(r'<div id="ops-room"[^>]*data-tracks="([^"]*)"', text)
    assert room is not None
    tracks = json.loads(html.unescape(room.group(1)))
    assert live_kinds <= set(tracks) and not absent_kinds & set(tracks)
    if "deescalation-observations" in tracks:
        assert tracks["deescalation-observations"] == {
            "label": "De-escalation",
            "url": "/deescalation",
        }
    boxes = re.findall(r'<input type="checkbox" value="([A-Z]+)" checked>', text)
    assert boxes == ["ALPHA", "BRAVO"]
    assert 'id="ops-fullscreen"' in text and 'aria-pressed="false"' in text
    assert 'id="ops-timeline"' in text and "/static/js/ops-room.js" in text
