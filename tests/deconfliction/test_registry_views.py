"""The deconfliction pages through a logged-in browser session: what each member sees (HUM-1
none of the parties' military content), the words on receipt in every language, the forms
that post to the actions, and the sections the live script fetches again."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.deconfliction.factories import NEAR_MAJDAL_SHAMS, notify
from tests.deconfliction.factories import point as notification_point
from tests.deconfliction.protection_factories import (
    NEAR_SUWAYDA,
    agreed_community,
    community,
    point,
)
from tests.helpers.pages import HTML

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.deconfliction.models import Incident, Notification, PlaceSignature
from fusioncell.deconfliction.models.registry import ProtectedPlace

RECEIPT = {
    "en": "An acknowledgement is receipt, never approval.",
    "ar": "الإقرار استلامٌ، وليس موافقة أبدًا.",
    "he": "אישור הוא קבלה, לעולם לא הסכמה.",
}


def _language(client: TestClient, csrf: str, language: str) -> None:
    response = client.post(
        "/language",
        data={"language": language, "next": "/", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303


@pytest.mark.parametrize("language", ["en", "ar", "he"])
@pytest.mark.parametrize(
    "path", ["/deconfliction", "/deconfliction/registry", "/deconfliction/incidents"]
)
def test_every_page_says_receipt_is_not_approval_in_the_members_language(
    client: TestClient, log_in: Callable[..., str], language: str, path: str
) -> None:
    csrf = log_in("hum1.coordinator")
    _language(client, csrf, language)
    response = client.get(path, headers=HTML)
    assert response.status_code == 200
    assert RECEIPT[language] in response.text
    assert ('dir="rtl"' in response.text) == (language != "en")


def test_hum1_sees_its_convoy_but_not_the_parties_military_activity(
    client: TestClient,
    new_client: Callable[[], TestClient],
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    log_in: Callable[..., str],
) -> None:
    notify(
        db,
        member("alpha.liaison"),
        now=clock.now(),
        geometry=notification_point(NEAR_MAJDAL_SHAMS),
        description="Engineering works at the northern ridge",
    )
    convoy = notify(
        db,
        member("hum1.coordinator"),
        now=clock.now(),
        kind="movement",
        ahead=timedelta(hours=50),
        description="Convoy of flour to Suwayda",
    )
    db.commit()
    log_in("hum1.coordinator")
    page = client.get("/deconfliction", headers=HTML).text
    assert "Convoy of flour to Suwayda" in page and f"notification-{convoy.id}" in page
    assert "northern ridge" not in page
    bravo = new_client()
    log_in("bravo.liaison", on=bravo)
    page = bravo.get("/deconfliction", headers=HTML).text
    assert "northern ridge" in page and "Convoy of flour" in page
    # BRAVO owes both an acknowledgement: the button posts to the acknowledgement form.
    assert page.count('class="dc-acknowledge"') == 2


def test_the_compose_form_sends_a_notification_and_the_preview_gives_the_verdict_first(
    client: TestClient, db: Session, clock: ManualClock, log_in: Callable[..., str]
) -> None:
    csrf = log_in("hum1.coordinator")
    starts = clock.now() + timedelta(hours=20)
    params = {
        "kind": "movement",
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "geometry": '{"type": "LineString", "coordinates": [[36.1, 32.62], [36.56, 32.71]]}',
    }
    verdict = client.get("/deconfliction/preview", params=params, headers=HTML)
    assert verdict.status_code == 200
    assert 'data-lead-time="late"' in verdict.text and "48" in verdict.text
    on_time = client.get(
        "/deconfliction/preview",
        params={**params, "starts_at": (starts + timedelta(hours=40)).strftime("%Y-%m-%dT%H:%M")},
        headers=HTML,
    )
    assert 'data-lead-time="on_time"' in on_time.text
    notification_id = uuid.uuid4()
    response = client.post(
        "/deconfliction/notifications",
        data={
            **params,
            "csrf_token": csrf,
            "id": str(notification_id),
            "ends_at": (starts + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"),
            "description": "Convoy of blankets",
            "vehicles": "3",
            "contact": "+000 111 222",
            "category": "convoy",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/deconfliction#notification-{notification_id}"
    sent = db.scalar(select(Notification).where(Notification.client_id == notification_id))
    assert sent is not None and sent.lead_time == "late" and sent.details["vehicles"] == 3


def test_bad_input_on_the_compose_form_is_shown_with_what_was_typed(
    client: TestClient, db: Session, clock: ManualClock, log_in: Callable[..., str]
) -> None:
    csrf = log_in("alpha.liaison")
    response = client.post(
        "/deconfliction/notifications",
        data={
            "csrf_token": csrf,
            "kind": "activity",
            "geometry": "not geojson",
            "starts_at": "2026-01-09T08:00",
            "ends_at": "2026-01-09T10:00",
            "description": "Kept as typed",
        },
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert 'id="dc-error"' in response.text and "Kept as typed" in response.text
    assert db.scalars(select(Notification)).all() == []


def test_the_registry_page_proposes_and_signs_and_lists_the_exports(
    client: TestClient,
    new_client: Callable[[], TestClient],
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    log_in: Callable[..., str],
) -> None:
    csrf = log_in("hum1.coordinator")
    response = client.post(
        "/deconfliction/registry/places",
        data={
            "csrf_token": csrf,
            "kind": "school",
            "name": "Shahba school",
            "geometry": '{"type": "Point", "coordinates": [36.63, 32.85]}',
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    place = db.scalar(select(ProtectedPlace).where(ProtectedPlace.name == "Shahba school"))
    assert place is not None
    # HUM-1 may not sign: the page has no button, and the route refuses.
    page = client.get("/deconfliction/registry", headers=HTML).text
    assert "dc-sign" not in page and "Shahba school" in page
    refused = client.post(
        f"/deconfliction/registry/places/{place.id}/sign",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    alpha = new_client()
    csrf = log_in("alpha.liaison", on=alpha)
    assert "dc-sign" in alpha.get("/deconfliction/registry", headers=HTML).text
    signed = alpha.post(
        f"/deconfliction/registry/places/{place.id}/sign",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    db.rollback()  # a fresh read, past the page's transaction
    assert len(db.scalars(select(PlaceSignature)).all()) == 1


def test_the_incident_form_reports_with_evidence_and_raises_the_alert_shown_to_hum1(
    client: TestClient,
    new_client: Callable[[], TestClient],
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    log_in: Callable[..., str],
) -> None:
    place = agreed_community(db, member, now=clock.now())
    db.commit()
    csrf = log_in("hum1.coordinator")
    response = client.post(
        "/deconfliction/incidents",
        data={
            "csrf_token": csrf,
            "kind": "threat",
            "affects": "community",
            "target": str(place.id),
            "occurred_at": clock.now().strftime("%Y-%m-%dT%H:%M"),
            "description": "Shots fired near the eastern road",
            "location": f'{{"type": "Point", "coordinates": [{NEAR_SUWAYDA[0]}, {NEAR_SUWAYDA[1]}]}}',
            "evidence": f"{'cd' * 32} video.mp4",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    [incident] = db.scalars(select(Incident)).all()
    assert incident.evidence == [{"sha256": "cd" * 32, "name": "video.mp4", "size": None}]
    page = client.get("/deconfliction/incidents", headers=HTML).text
    assert "Shots fired near the eastern road" in page
    assert 'class="dc-alert' in page and "dc-acknowledge" in page
    # The verifier reads the incident, but the alert was not sent to it.
    verifier = new_client()
    log_in("verifier.lead", on=verifier)
    page = verifier.get("/deconfliction/incidents", headers=HTML).text
    assert "Shots fired" in page and 'class="dc-alert' not in page


def test_the_sections_alone_answer_the_live_script(
    client: TestClient,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    log_in: Callable[..., str],
) -> None:
    community(db, member("hum1.coordinator"), now=clock.now())
    db.commit()
    log_in("bravo.liaison")
    for path, target in (
        ("/deconfliction", "deconfliction-sections"),
        ("/deconfliction/registry", "deconfliction-registry-sections"),
        ("/deconfliction/incidents", "deconfliction-incident-sections"),
    ):
        response = client.get(path, headers={**HTML, "HX-Target": target})
        assert response.status_code == 200
        assert response.text.lstrip().startswith(f'<div id="{target}"')
        assert "<html" not in response.text


def test_the_operator_is_refused_the_pages(client: TestClient, log_in: Callable[..., str]) -> None:
    log_in("cell.admin")
    for path in ("/deconfliction", "/deconfliction/registry", "/deconfliction/incidents"):
        assert client.get(path, headers=HTML).status_code == 403
    assert point  # the factories' helper, kept for symmetry with the action tests
