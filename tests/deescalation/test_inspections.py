"""Inspections end to end on the real app and database (R7, R12): a party's request due in
48 hours, the verifier's reports (counted holdings recorded as inspection observations, or
access denied, an incident of its own attributed to the party that denied it), the schedule
of every zone and side, who may do what, retries, bad input refused with nothing written,
and the rows checked against the log."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from tests.helpers.problems import assert_problem
from tests.helpers.tables import table_counts
from tests.helpers.verifying import tamper, verify_state

from fusioncell.clock import ManualClock
from fusioncell.deescalation.entries import DeescalationEntry
from fusioncell.deescalation.models import Incident, InspectionRequest
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import LogAudience, LogEntry, LogKey
from fusioncell.scenario.demo import stable_id

Headers = Callable[[str], dict[str, str]]
URL = "/api/v1/deescalation"
ALPHA_0_10 = (35.75, 33.12)
BRAVO_0_10 = (35.95, 33.38)
SHARED = {str(stable_id("organisation", s)) for s in ("ALPHA", "BRAVO", "SUPERVISOR", "VERIFIER")}
EVERY_ZONE_AND_SIDE = {
    (zone, side)
    for side in ("ALPHA", "BRAVO")
    for zone in (
        "area-of-separation",
        f"limitation-{side.lower()}-0-10",
        f"limitation-{side.lower()}-10-20",
        f"limitation-{side.lower()}-20-25",
    )
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def tanks(fid: str, count: int, where: tuple[float, float] = ALPHA_0_10) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": list(where)},
        "properties": {"unit": fid, "party": "ALPHA", "category": "tank", "count": count},
    }


def counted(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def overview(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"{URL}/inspections", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def row_of(body: dict[str, Any], zone: str, side: str) -> dict[str, Any]:
    [row] = [r for r in body["schedule"] if (r["zone"], r["side"]) == (zone, side)]
    return row


def entries_of(db: Session, kind: DeescalationEntry) -> list[LogEntry]:
    db.rollback()
    return list(db.scalars(select(LogEntry).where(LogEntry.entry_type == kind.value)))


@pytest.fixture
def verified(
    db: Session, engine: Engine, ledger: LedgerContext, clock: ManualClock
) -> Callable[[], bool]:
    def check() -> bool:
        do_sign_checkpoint(db, now=clock.now())
        db.commit()
        report = verify_state(engine, ledger)
        assert report.ok, report.reason
        return True

    return check


def test_every_zone_and_side_is_due_fifteen_days_after_its_last_inspection(
    client: TestClient, token_for: Headers, clock: ManualClock
) -> None:
    start = clock.now()  # 2026-01-06 08:00, the freeze's day
    first = overview(client, token_for("alpha.liaison"))
    assert {(r["zone"], r["side"]) for r in first["schedule"]} == EVERY_ZONE_AND_SIDE
    assert (first["interval_days"], first["request_hours"]) == (15, 48)
    # Nothing inspected yet: everything is due 15 days after the freeze (T0, midnight).
    assert {r["due_by"] for r in first["schedule"]} == {"2026-01-21T00:00:00Z"}
    assert not any(r["overdue"] for r in first["schedule"])

    clock.advance(timedelta(days=3).total_seconds())
    inspected = start + timedelta(days=2)
    verifier = token_for("verifier.lead")  # a token lasts an hour: asked for after the clock moves
    done = client.post(
        f"{URL}/inspections",
        json={
            "zone": "limitation-alpha-0-10",
            "inspected_at": iso(inspected),
            "outcome": "completed",
        },
        headers=verifier,
    )
    assert done.status_code == 201, done.text
    assert done.json()["side"] == "ALPHA"
    # Access denied is no inspection: BRAVO's side of the area of separation stays due.
    denied = client.post(
        f"{URL}/inspections",
        json={
            "zone": "area-of-separation",
            "side": "BRAVO",
            "inspected_at": iso(inspected),
            "outcome": "access_denied",
            "denied_by": "BRAVO",
        },
        headers=verifier,
    )
    assert denied.status_code == 201, denied.text

    clock.advance(timedelta(days=13).total_seconds())  # 2026-01-22 08:00
    seen = [
        overview(client, token_for(u))
        for u in ("alpha.liaison", "bravo.liaison", "supervisor.chair", "verifier.lead")
    ]
    assert all(s["schedule"] == seen[0]["schedule"] for s in seen)
    band = row_of(seen[0], "limitation-alpha-0-10", "ALPHA")
    assert band["last_inspected"] == "2026-01-08T08:00:00Z"
    assert band["due_by"] == "2026-01-23T08:00:00Z"
    assert (band["overdue"], band["due_soon"]) == (False, True)
    separation = row_of(seen[0], "area-of-separation", "BRAVO")
    assert (separation["last_inspected"], separation["overdue"]) == (None, True)
    overdue = {(r["zone"], r["side"]) for r in seen[0]["schedule"] if r["overdue"]}
    assert overdue == EVERY_ZONE_AND_SIDE - {("limitation-alpha-0-10", "ALPHA")}
    # Observers read none of it; the operator is refused.
    assert overview(client, token_for("host.observer"))["schedule"] == []
    assert_problem(
        client.get(f"{URL}/inspections", headers=token_for("cell.admin")), 403, "forbidden"
    )


def test_a_request_is_due_in_48_hours_and_access_denied_is_an_incident_of_the_party(
    client: TestClient,
    token_for: Headers,
    clock: ManualClock,
    db: Session,
    verified: Callable[[], bool],
) -> None:
    asked = client.post(
        f"{URL}/inspections/requests",
        json={
            "zone": "limitation-bravo-10-20",
            "reason": "Artillery of 25 km range reported in the band",
        },
        headers=token_for("alpha.liaison"),
    )
    assert asked.status_code == 201, asked.text
    request = asked.json()
    requested_at = datetime.fromisoformat(request["requested_at"].replace("Z", "+00:00"))
    assert request["due_at"] == iso(requested_at + timedelta(hours=48))
    assert (request["party"], request["side"], request["status"]) == ("ALPHA", "BRAVO", "open")
    assert not request["overdue"]

    clock.advance(timedelta(hours=47).total_seconds())
    [open_] = overview(client, token_for("bravo.liaison"))["requests"]
    assert (open_["status"], open_["overdue"]) == ("open", False)
    clock.advance(timedelta(hours=2).total_seconds())
    [late] = overview(client, token_for("supervisor.chair"))["requests"]
    assert (late["status"], late["overdue"]) == ("open", True)

    denied = client.post(
        f"{URL}/inspections",
        json={
            "zone": "limitation-bravo-10-20",
            "inspected_at": iso(requested_at + timedelta(hours=30)),
            "outcome": "access_denied",
            "denied_by": "BRAVO",
            "request": request["id"],
            "note": "Turned back at the checkpoint",
        },
        headers=token_for("verifier.lead"),
    )
    assert denied.status_code == 201, denied.text
    report = denied.json()
    assert (report["outcome"], report["denied_by"], report["holdings"]) == (
        "access_denied",
        "BRAVO",
        [],
    )
    [carried] = overview(client, token_for("alpha.liaison"))["requests"]
    assert (carried["status"], carried["overdue"], carried["report"]) == (
        "access_denied",
        False,
        report["id"],
    )
    # The incident, attributed to BRAVO, signed by the verifier, for the four readers.
    for username in ("alpha.liaison", "bravo.liaison", "supervisor.chair", "verifier.lead"):
        response = client.get(f"{URL}/incidents", headers=token_for(username))
        assert response.status_code == 200, response.text
        [incident] = response.json()
        assert (incident["kind"], incident["party"], incident["report"], incident["request"]) == (
            "access_denied",
            "BRAVO",
            report["id"],
            request["id"],
        )
        assert incident["id"] == report["incident"]
    assert client.get(f"{URL}/incidents", headers=token_for("host.observer")).json() == []
    assert_problem(
        client.get(f"{URL}/incidents", headers=token_for("cell.admin")), 403, "forbidden"
    )
    [entry] = entries_of(db, DeescalationEntry.INCIDENT_RECORDED)
    [reported] = entries_of(db, DeescalationEntry.INSPECTION_REPORTED)
    assert entry.index == reported.index + 1
    # Both signed by the verifier's key.
    assert entry.author_key_id == reported.author_key_id
    key = db.get(LogKey, entry.author_key_id)
    assert key is not None and key.member_id == stable_id("member", "verifier.lead")
    audience = set(
        db.scalars(select(LogAudience.value).where(LogAudience.entry_index == entry.index))
    )
    assert audience == SHARED
    [row] = db.scalars(select(Incident)).all()
    assert row.party_id == stable_id("organisation", "BRAVO")
    # A request is carried out once.
    again = client.post(
        f"{URL}/inspections",
        json={
            "zone": "limitation-bravo-10-20",
            "inspected_at": iso(clock.now()),
            "outcome": "completed",
            "request": request["id"],
        },
        headers=token_for("verifier.lead"),
    )
    assert_problem(again, 409, "conflict")
    assert verified()


def test_counted_holdings_are_inspection_observations_and_raise_their_candidates(
    client: TestClient, token_for: Headers, clock: ManualClock, verified: Callable[[], bool]
) -> None:
    clock.advance(3600)
    posted = client.post(
        f"{URL}/inspections",
        json={
            "zone": "limitation-alpha-0-10",
            "side": "ALPHA",
            "inspected_at": iso(clock.now() - timedelta(minutes=30)),
            "outcome": "completed",
            "holdings": counted(tanks("insp-t1", 40), tanks("insp-t2", 38)),
        },
        headers=token_for("verifier.lead"),
    )
    assert posted.status_code == 201, posted.text
    body = posted.json()
    assert sorted((h["id"], h["count"]) for h in body["holdings"]) == [
        ("insp-t1", 40),
        ("insp-t2", 38),
    ]
    assert {h["observed_at"] for h in body["holdings"]} == {body["inspected_at"]}
    # No baseline is in force here, so the freeze (R6) raises nothing.
    assert {(c["rule"], c["value"]) for c in body["candidates"]} == {("R2", 78)}
    for username in ("alpha.liaison", "bravo.liaison"):
        found = client.get(
            f"{URL}/compliance", params={"source": "verification"}, headers=token_for(username)
        ).json()
        assert {(c["rule"], c["zone"], c["value"]) for c in found["candidates"]} == {
            ("R2", "limitation-alpha-0-10", 78)
        }
        [report] = overview(client, token_for(username))["reports"]
        assert report["batch"] == body["batch"] and len(report["holdings"]) == 2
    assert verified()


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("alpha.liaison", True),
        ("bravo.liaison", True),
        ("alpha.duty", False),
        ("alpha.analyst", False),
        ("supervisor.chair", False),
        ("verifier.lead", False),
        ("host.observer", False),
        ("cell.admin", False),
    ],
)
def test_only_a_party_liaison_requests_an_inspection(
    client: TestClient, token_for: Headers, db: Session, username: str, allowed: bool
) -> None:
    headers = token_for(username)
    before = table_counts(db)
    response = client.post(
        f"{URL}/inspections/requests",
        json={"zone": "limitation-alpha-10-20", "reason": "Routine"},
        headers=headers,
    )
    if allowed:
        assert response.status_code == 201, response.text
        return
    assert_problem(response, 403, "forbidden")
    # Refused before the body is read: a bad body is refused as well, not found invalid.
    for bad in (b"{", b"[]", b'{"zone": 3}'):
        assert_problem(
            client.post(
                f"{URL}/inspections/requests",
                content=bad,
                headers={**headers, "content-type": "application/json"},
            ),
            403,
            "forbidden",
        )
    assert table_counts(db) == before


@pytest.mark.parametrize(
    "username",
    [
        "alpha.liaison",
        "bravo.liaison",
        "alpha.duty",
        "supervisor.chair",
        "host.observer",
        "cell.admin",
    ],
)
def test_only_the_verifier_reports_an_inspection_and_observations_are_refused_first(
    client: TestClient, token_for: Headers, db: Session, clock: ManualClock, username: str
) -> None:
    headers = token_for(username)
    before = table_counts(db)
    response = client.post(
        f"{URL}/inspections",
        json={
            "zone": "limitation-alpha-0-10",
            "inspected_at": iso(clock.now()),
            "outcome": "completed",
        },
        headers=headers,
    )
    assert_problem(response, 403, "forbidden")
    for bad in (b"not json", b"[]", b'{"outcome": 1}'):
        for path in ("/inspections", "/observations"):
            if path == "/observations" and username in ("alpha.liaison", "bravo.liaison"):
                continue  # a liaison records declarations and reports
            assert_problem(
                client.post(
                    f"{URL}{path}",
                    content=bad,
                    headers={**headers, "content-type": "application/json"},
                ),
                403,
                "forbidden",
            )
    assert table_counts(db) == before


def test_retries_return_the_first_result_and_other_content_is_a_conflict(
    client: TestClient, token_for: Headers, db: Session, clock: ManualClock
) -> None:
    alpha, verifier = token_for("alpha.liaison"), token_for("verifier.lead")
    ask = {"id": str(uuid.uuid4()), "zone": "limitation-bravo-0-10", "reason": "Tanks seen"}
    first = client.post(f"{URL}/inspections/requests", json=ask, headers=alpha)
    again = client.post(f"{URL}/inspections/requests", json=ask, headers=alpha)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert_problem(
        client.post(f"{URL}/inspections/requests", json={**ask, "reason": "Other"}, headers=alpha),
        409,
        "idempotency-conflict",
    )
    keyed = {"zone": "area-of-separation", "side": "ALPHA", "reason": "Patrol"}
    key = {**alpha, "Idempotency-Key": "request-1"}
    assert (
        client.post(f"{URL}/inspections/requests", json=keyed, headers=key).json()["id"]
        == client.post(f"{URL}/inspections/requests", json=keyed, headers=key).json()["id"]
    )
    assert len(entries_of(db, DeescalationEntry.INSPECTION_REQUESTED)) == 2

    clock.advance(600)
    report = {
        "id": str(uuid.uuid4()),
        "zone": "limitation-bravo-0-10",
        "inspected_at": iso(clock.now()),
        "outcome": "completed",
        "request": first.json()["id"],
        "holdings": counted(tanks("retry-1", 5, BRAVO_0_10)),
    }
    done = client.post(f"{URL}/inspections", json=report, headers=verifier)
    redone = client.post(f"{URL}/inspections", json=report, headers=verifier)
    assert (done.status_code, redone.status_code) == (201, 201), redone.text
    assert done.json()["id"] == redone.json()["id"]
    assert done.json()["holdings"] == redone.json()["holdings"]
    for changed in (
        {"note": "Changed"},
        {"holdings": counted(tanks("retry-1", 6, BRAVO_0_10))},
        {"holdings": None},
    ):
        assert_problem(
            client.post(f"{URL}/inspections", json={**report, **changed}, headers=verifier),
            409,
            "idempotency-conflict",
        )
    # Counted holdings are new observations: an id recorded before is not counted again.
    assert_problem(
        client.post(
            f"{URL}/inspections",
            json={**report, "id": str(uuid.uuid4()), "request": None},
            headers=verifier,
        ),
        409,
        "idempotency-conflict",
    )
    assert len(entries_of(db, DeescalationEntry.INSPECTION_REPORTED)) == 1
    assert len(entries_of(db, DeescalationEntry.OBSERVATIONS_RECORDED)) == 1


def _bad_reports(now: datetime, request_id: str) -> list[tuple[dict[str, Any], str]]:
    good: dict[str, Any] = {
        "zone": "limitation-alpha-0-10",
        "inspected_at": iso(now),
        "outcome": "completed",
    }
    outside = tanks("far", 3, BRAVO_0_10)
    report_source = tanks("graded", 3)
    report_source["properties"].update(source="report", grade="B2")
    return [
        ({**good, "zone": "nowhere"}, "zone"),
        ({**good, "zone": "area-of-separation"}, "zone"),
        ({**good, "side": "BRAVO"}, "side"),
        ({**good, "zone": "sector-s"}, "zone"),
        ({**good, "inspected_at": iso(now + timedelta(minutes=5))}, "inspected_at"),
        ({**good, "inspected_at": "2026-01-05T23:00:00Z"}, "inspected_at"),
        ({**good, "inspected_at": "2026-01-06T07:00:00"}, "inspected_at"),
        ({**good, "outcome": "postponed"}, "outcome"),
        ({**good, "outcome": "access_denied"}, "denied_by"),
        ({**good, "outcome": "access_denied", "denied_by": "VERIFIER"}, "denied_by"),
        ({**good, "denied_by": "ALPHA"}, "denied_by"),
        (
            {
                **good,
                "outcome": "access_denied",
                "denied_by": "ALPHA",
                "holdings": counted(tanks("x", 1)),
            },
            "holdings",
        ),
        ({**good, "holdings": counted(outside)}, "geometry"),
        ({**good, "holdings": counted(report_source)}, "source"),
        ({**good, "holdings": {"type": "FeatureCollection", "features": []}}, "features"),
        (
            {
                **good,
                "holdings": counted(
                    {
                        **tanks("neg", 1),
                        "properties": {**tanks("neg", 1)["properties"], "count": -1},
                    }
                ),
            },
            "count",
        ),
        ({**good, "note": "x" * 501}, "note"),
        ({**good, "request": str(uuid.uuid4())}, "request"),
        ({**good, "request": request_id}, "request"),
        ({**good, "surprise": True}, "surprise"),
    ]


def test_bad_input_is_refused_with_nothing_written(
    client: TestClient, token_for: Headers, db: Session, clock: ManualClock
) -> None:
    alpha = token_for("alpha.liaison")
    for bad, field in (
        ({"zone": "nowhere", "reason": "x"}, "zone"),
        ({"zone": "area-of-separation", "reason": "x"}, "zone"),
        ({"zone": "limitation-alpha-0-10", "side": "BRAVO", "reason": "x"}, "side"),
        ({"zone": "limitation-alpha-0-10", "reason": "   "}, "reason"),
        ({"zone": "limitation-alpha-0-10", "reason": "x" * 501}, "reason"),
        ({"zone": "limitation-alpha-0-10"}, "reason"),
    ):
        before = table_counts(db)
        problem = assert_problem(
            client.post(f"{URL}/inspections/requests", json=bad, headers=alpha),
            422,
            "invalid-input",
        )
        assert field in str(problem), (bad, problem)
        assert table_counts(db) == before
    asked = client.post(
        f"{URL}/inspections/requests",
        json={"zone": "limitation-bravo-10-20", "reason": "Artillery"},
        headers=alpha,
    )
    assert asked.status_code == 201
    clock.advance(60)
    verifier = token_for("verifier.lead")
    for bad, field in _bad_reports(clock.now(), asked.json()["id"]):
        before = table_counts(db)
        problem = assert_problem(
            client.post(f"{URL}/inspections", json=bad, headers=verifier), 422, "invalid-input"
        )
        assert field in str(problem), (bad, problem)
        assert table_counts(db) == before
    # A request is carried out by an inspection after it, not before.
    before = table_counts(db)
    early = {
        "zone": "limitation-bravo-10-20",
        "inspected_at": iso(clock.now() - timedelta(hours=1)),
        "outcome": "completed",
        "request": asked.json()["id"],
    }
    assert_problem(
        client.post(f"{URL}/inspections", json=early, headers=verifier), 422, "invalid-input"
    )
    assert_problem(
        client.post(
            f"{URL}/inspections",
            content=b"{",
            headers={**verifier, "content-type": "application/json"},
        ),
        400,
        "malformed-json",
    )
    assert table_counts(db) == before


def test_verify_compares_requests_reports_and_incidents_with_the_log(
    client: TestClient,
    token_for: Headers,
    engine: Engine,
    db: Session,
    clock: ManualClock,
    ledger: LedgerContext,
) -> None:
    asked = client.post(
        f"{URL}/inspections/requests",
        json={"zone": "limitation-alpha-10-20", "reason": "Rockets"},
        headers=token_for("bravo.liaison"),
    ).json()
    clock.advance(120)
    client.post(
        f"{URL}/inspections",
        json={
            "zone": "limitation-alpha-10-20",
            "inspected_at": iso(clock.now()),
            "outcome": "access_denied",
            "denied_by": "ALPHA",
            "request": asked["id"],
        },
        headers=token_for("verifier.lead"),
    ).raise_for_status()
    do_sign_checkpoint(db, now=clock.now())
    db.commit()
    assert verify_state(engine, ledger).ok
    tamper(engine, update(Incident).values(party_id=stable_id("organisation", "BRAVO")))
    report = verify_state(engine, ledger)
    assert not report.ok and "deescalation_incidents" in (report.reason or "")
    tamper(engine, update(Incident).values(party_id=stable_id("organisation", "ALPHA")))
    tamper(engine, update(InspectionRequest).values(due_at=datetime(2026, 3, 1, tzinfo=UTC)))
    report = verify_state(engine, ledger)
    assert not report.ok and "deescalation_inspection_requests" in (report.reason or "")
