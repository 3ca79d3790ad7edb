"""The inspections page as a browser without script uses it: the schedule with overdue rows in
red, requests with their countdowns, access denied, the request form for a party's liaison
officer and the report form for the verifier, each calling its action; a refused form shows
its problem in the member's language and writes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.helpers.pages import HTML, session_cookie
from tests.helpers.tables import table_counts

from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.deescalation.models import (
    Incident,
    InspectionReport,
    InspectionRequest,
    ObservationRow,
)
from fusioncell.i18n import translate

PAGE = "/deescalation/inspections"


def _as(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, username: str
) -> str:
    client.cookies.clear()
    return session_cookie(client, db, clock, settings, username)


def _rows(html: str, css_class: str) -> list[str]:
    return re.findall(rf'<tr [^>]*class="{css_class}[^"]*"[^>]*>', html)


def test_a_liaison_requests_and_the_verifier_is_denied_access_through_the_forms(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, demo: None
) -> None:
    csrf = _as(client, db, clock, settings, "alpha.liaison")
    page = client.get(PAGE, headers=HTML)
    assert page.status_code == 200
    assert 'id="request-form"' in page.text and 'id="report-form"' not in page.text
    asked = client.post(
        f"{PAGE}/requests",
        data={
            "csrf_token": csrf,
            "id": "4a1f1d6e-0f47-4ec2-9b0e-5f7a0b0c0d01",
            "item": "limitation-bravo-10-20|BRAVO",
            "reason": "Artillery seen at the ridge",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert asked.status_code == 303, asked.text
    db.rollback()
    [request] = db.scalars(select(InspectionRequest)).all()
    assert asked.headers["location"] == f"{PAGE}#request-{request.id}"
    shown = client.get(PAGE, headers=HTML).text
    # Open, with its countdown to 48 hours after the request.
    [row] = _rows(shown, "request-row")
    assert 'data-status="open"' in row and 'data-overdue="false"' in row
    due_ms = int(request.due_at.timestamp() * 1000)
    assert f'data-deadline-ms="{due_ms}"' in shown
    assert request.due_at - request.requested_at == timedelta(hours=48)
    owed = f'id="console-item-inspection-request-{request.id}"'
    assert owed not in shown  # the party asked; the verifier owes it

    clock.advance(3600)
    csrf = _as(client, db, clock, settings, "verifier.lead")
    page = client.get(PAGE, headers=HTML).text
    assert 'id="report-form"' in page and 'id="request-form"' not in page
    # In the verifier's header strip on every page, counted down to its due time.
    assert owed in page and owed in client.get("/hotline", headers=HTML).text
    denied = client.post(
        f"{PAGE}/reports",
        data={
            "csrf_token": csrf,
            "item": "limitation-bravo-10-20|BRAVO",
            "inspected_at": (clock.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
            "outcome": "access_denied",
            "denied_by": "BRAVO",
            "request": str(request.id),
            "note": "Turned back",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert denied.status_code == 303, denied.text
    db.rollback()
    [incident] = db.scalars(select(Incident)).all()
    shown = client.get(PAGE, headers=HTML).text
    assert f'id="incident-{incident.id}"' in shown
    assert "Access denied by Party BRAVO" in shown
    [row] = _rows(shown, "request-row")
    assert 'data-status="access_denied"' in row
    assert owed not in shown


def test_the_verifier_reports_counted_holdings_and_the_schedule_shows_overdue_in_red(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, demo: None
) -> None:
    clock.advance(timedelta(days=16).total_seconds())  # past every zone's first due time
    csrf = _as(client, db, clock, settings, "verifier.lead")
    page = client.get(PAGE, headers=HTML).text
    assert len(_rows(page, "schedule-row state-overdue")) == 8
    reported = client.post(
        f"{PAGE}/reports",
        data={
            "csrf_token": csrf,
            "item": "limitation-alpha-0-10|ALPHA",
            "inspected_at": (clock.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "outcome": "completed",
            "holding-0-party": "ALPHA",
            "holding-0-category": "tank",
            "holding-0-count": "78",
            "holding-0-unit": "2nd armoured",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert reported.status_code == 303, reported.text
    db.rollback()
    [report] = db.scalars(select(InspectionReport)).all()
    [counted] = db.scalars(select(ObservationRow)).all()
    assert (counted.count, counted.unit, counted.source, counted.batch_id) == (
        78,
        "2nd armoured",
        "inspection",
        report.batch_id,
    )
    page = client.get(PAGE, headers=HTML).text
    overdue = _rows(page, "schedule-row state-overdue")
    assert len(overdue) == 7
    assert not any('data-zone="limitation-alpha-0-10"' in row for row in overdue)
    assert "78 tanks of Party ALPHA" in page
    # The liaison officers see the same schedule, red rows and all.
    _as(client, db, clock, settings, "bravo.liaison")
    assert len(_rows(client.get(PAGE, headers=HTML).text, "schedule-row state-overdue")) == 7


def test_a_refused_form_shows_its_problem_in_the_members_language_and_writes_nothing(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, demo: None
) -> None:
    csrf = _as(client, db, clock, settings, "verifier.lead")
    client.put("/api/v1/me/language", json={"language": "ar"}, headers={"x-csrf-token": csrf})
    before = table_counts(db)
    refused = client.post(
        f"{PAGE}/reports",
        data={
            "csrf_token": csrf,
            "item": "limitation-alpha-0-10|ALPHA",
            "inspected_at": (clock.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "outcome": "completed",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert translate("ar", "An inspection cannot be dated in the future.") in refused.text
    assert 'dir="rtl"' in refused.text
    assert table_counts(db) == before
    # A member who may not report is refused before the form is read.
    csrf = _as(client, db, clock, settings, "alpha.liaison")
    before = table_counts(db)
    assert (
        client.post(
            f"{PAGE}/reports", data={"csrf_token": csrf}, headers=HTML, follow_redirects=False
        ).status_code
        == 403
    )
    assert table_counts(db) == before
