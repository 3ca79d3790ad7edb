"""``/api/v1/projects`` in-process: a project from its proposal to a milestone decided on a
file and shipments passed and refused; who reads what; every refusal the issue lists is
problem+json with nothing written; every write is idempotent by the client's id or an
``Idempotency-Key``."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.commercial.factories import LINE, PLANT, Member, crossing
from tests.helpers.problems import assert_problem

from fusioncell.clock import ManualClock
from fusioncell.ledger.models import LogEntry

Headers = Callable[[str], dict[str, str]]
URL = "/api/v1/projects"


class Api:
    def __init__(self, client: TestClient, token_for: Headers, clock: ManualClock) -> None:
        self.client, self.clock, self._issue = client, clock, token_for
        self._tokens: dict[str, dict[str, str]] = {}

    def headers(self, who: str, **more: str) -> dict[str, str]:
        if who not in self._tokens:
            self._tokens[who] = self._issue(who)
        return {**self._tokens[who], **more}

    def post(self, path: str, who: str, body: dict[str, Any], status: int = 200) -> Any:
        response = self.client.post(f"{URL}{path}", json=body, headers=self.headers(who))
        assert response.status_code == status, response.text
        return response.json()

    def get(self, path: str, who: str, status: int = 200) -> Any:
        response = self.client.get(f"{URL}{path}", headers=self.headers(who))
        assert response.status_code == status, response.text
        return response.json()

    def project_body(self, **more: Any) -> dict[str, Any]:
        today = self.clock.now().date()
        return {
            "name": "Southern power plant",
            "description": "Adds some 800 MW (a placeholder figure).",
            "sponsors": ["Regional power company"],
            "financing": ["HOST"],
            "locations": [{"name": "Plant", "geometry": PLANT}, {"name": "Line", "geometry": LINE}],
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat(),
            **more,
        }

    def active_project(self, who: str = "alpha.liaison") -> dict[str, Any]:
        found: dict[str, Any] = self.post("", who, self.project_body(), 201)
        self.post(f"/{found['id']}/status", who, {"status": "active", "reason": "Financed."})
        return found


@pytest.fixture
def api(client: TestClient, token_for: Headers, clock: ManualClock) -> Api:
    return Api(client, token_for, clock)


def _log_size(db: Session) -> int:
    db.rollback()
    return int(db.scalar(select(func.count()).select_from(LogEntry)) or 0)


def test_a_milestone_is_decided_on_a_file_put_before_it_and_read_by_the_project_audience(
    api: Api, client: TestClient
) -> None:
    project = api.active_project()
    assert project["party"] == "ALPHA" and project["status"] == "proposed"
    assert project["locations"]["features"][0]["properties"] == {"name": "Plant"}
    due = api.clock.now().date() + timedelta(days=10)
    detail = api.post(
        f"/{project['id']}/milestones",
        "alpha.liaison",
        {"title": "Contracts signed", "due_on": due.isoformat()},
        201,
    )
    milestone = detail["milestones"][0]
    content = b"%PDF-1.4 contract"
    stored = client.post(
        f"{URL}/evidence",
        content=content,
        headers=api.headers("alpha.liaison", **{"Content-Type": "application/pdf"}),
    )
    assert stored.status_code == 201, stored.text
    sha256 = hashlib.sha256(content).hexdigest()
    assert stored.json()["sha256"] == sha256
    # Before it is put before a milestone, only ALPHA reads the file.
    headers = api.headers("host.observer")
    assert client.get(f"{URL}/evidence/{sha256}", headers=headers).status_code == 404
    path = f"/{project['id']}/milestones/{milestone['id']}"
    api.post(f"{path}/evidence", "alpha.liaison", {"evidence": [sha256], "note": "Signed."})
    decided = api.post(
        f"{path}/decision",
        "verifier.lead",
        {"decision": "met", "reason": "The contract is signed by both sponsors."},
    )
    assert decided["status"] == "active"
    shown = decided["milestones"][0]
    assert shown["status"] == "met" and shown["evidence"][0]["sha256"] == sha256
    for reader in ("host.observer", "bravo.analyst", "supervisor.chair"):
        got = client.get(f"{URL}/evidence/{sha256}", headers=api.headers(reader))
        assert got.status_code == 200 and got.content == content
    assert api.get(f"/{project['id']}", "hum1.coordinator", 404)
    assert api.get("", "hum1.coordinator") == []
    # Decided once.
    again = client.post(
        f"{URL}{path}/decision",
        json={"decision": "met", "reason": "Again."},
        headers=api.headers("supervisor.chair"),
    )
    assert_problem(again, 409, "conflict")


def test_shipments_are_declared_inspected_passed_or_refused_and_counted(
    api: Api, db: Session, member: Member
) -> None:
    crossing_id = crossing(db, member, now=api.clock.now())
    db.commit()
    project = api.active_project()
    later = api.clock.now() + timedelta(hours=50)
    on_time = api.post(
        f"/{project['id']}/shipments",
        "alpha.liaison",
        {"cargo": "Turbines", "crossing": crossing_id, "planned_at": later.isoformat()},
        201,
    )
    assert (on_time["lead_time"], on_time["state"], on_time["party"]) == (
        "on_time",
        "declared",
        "ALPHA",
    )
    soon = api.clock.now() + timedelta(hours=10)
    late = api.post(
        f"/{project['id']}/shipments",
        "bravo.liaison",
        {"cargo": "Cable drums", "crossing": crossing_id, "planned_at": soon.isoformat()},
        201,
    )
    assert (late["lead_time"], late["party"], late["required_lead_seconds"]) == (
        "late",
        "BRAVO",
        44 * 3600,
    )
    base = f"/{project['id']}/shipments"
    api.post(f"{base}/{on_time['id']}/inspection", "verifier.lead", {"note": "Seals intact."})
    passed = api.post(f"{base}/{on_time['id']}/passage", "verifier.lead", {})
    assert passed["state"] == "passed"
    refused = api.post(
        f"{base}/{late['id']}/refusal", "verifier.lead", {"reason": "Undeclared cargo."}
    )
    assert (refused["state"], refused["reason"]) == ("refused", "Undeclared cargo.")
    stats = api.get("/stats", "bravo.analyst")
    figures = {p["party"]: p for p in stats["parties"]}
    assert figures["ALPHA"]["shipments_declared"] == figures["ALPHA"]["shipments_passed"] == 1
    assert figures["BRAVO"]["shipments_late"] == figures["BRAVO"]["shipments_refused"] == 1
    assert figures["ALPHA"]["shipments_late"] == figures["BRAVO"]["shipments_passed"] == 0
    assert stats["method"]


def test_a_retry_returns_the_first_result_and_never_a_second_entry(
    api: Api, client: TestClient, db: Session
) -> None:
    headers = api.headers("alpha.liaison", **{"Idempotency-Key": "plant-1"})
    first = client.post(URL, json=api.project_body(), headers=headers)
    size = _log_size(db)
    second = client.post(URL, json=api.project_body(), headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"] and _log_size(db) == size
    other = client.post(URL, json=api.project_body(name="Another plant"), headers=headers)
    assert_problem(other, 409, "idempotency-conflict")
    step = {"id": str(uuid.uuid4()), "status": "active", "reason": "Financed."}
    project = first.json()["id"]
    api.post(f"/{project}/status", "alpha.liaison", step)
    size = _log_size(db)
    assert api.post(f"/{project}/status", "alpha.liaison", step)["status"] == "active"
    assert _log_size(db) == size


SELF_CROSSING = {
    "type": "Polygon",
    "coordinates": [[[35.9, 32.9], [36.0, 33.0], [36.0, 32.9], [35.9, 33.0], [35.9, 32.9]]],
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"locations": [{"name": "Plant", "geometry": SELF_CROSSING}]}, "locations"),
        (
            {
                "locations": [
                    {"name": "Plant", "geometry": {"type": "Point", "coordinates": [200, 1]}}
                ]
            },
            "locations",
        ),
        ({"locations": [{"name": "Plant", "geometry": {"type": "Circle"}}]}, "locations"),
        (
            {
                "locations": [
                    {"name": "Plant", "geometry": {"type": "Point", "coordinates": [True, 1]}}
                ]
            },
            "locations",
        ),
        ({"ends_on": "2025-01-01"}, "ends_on"),
        ({"financing": ["BRAVO"]}, "financing"),
        ({"sponsors": []}, "sponsors"),
        ({"party": "BRAVO"}, None),
    ],
)
def test_a_bad_project_is_refused_with_nothing_written(
    api: Api, client: TestClient, db: Session, change: dict[str, Any], field: str | None
) -> None:
    headers = api.headers("alpha.liaison")  # a token is an entry of its own
    size = _log_size(db)
    response = client.post(URL, json=api.project_body(**change), headers=headers)
    if field is None:  # a liaison officer proposes its own party's projects only
        assert_problem(response, 403, "forbidden")
    else:
        assert assert_problem(response, 422, "invalid-input")["field"] == field
    assert _log_size(db) == size


def test_bad_steps_are_refused_with_nothing_written(
    api: Api, client: TestClient, db: Session, member: Member
) -> None:
    crossing_id = crossing(db, member, now=api.clock.now())
    hospital = crossing(db, member, now=api.clock.now(), kind="hospital")
    db.commit()
    project = api.active_project()
    today = api.clock.now().date()
    detail = api.post(
        f"/{project['id']}/milestones",
        "alpha.liaison",
        {"title": "Commissioned", "due_on": (today + timedelta(days=2)).isoformat()},
        201,
    )
    path = f"/{project['id']}/milestones/{detail['milestones'][0]['id']}"
    soon = (api.clock.now() + timedelta(hours=50)).isoformat()
    past = (api.clock.now() - timedelta(hours=1)).isoformat()
    cases: list[tuple[str, str, dict[str, Any], int, str, str | None]] = [
        (
            f"/{project['id']}/milestones",
            "alpha.liaison",
            {"title": "After the end", "due_on": (today + timedelta(days=31)).isoformat()},
            422,
            "invalid-input",
            "due_on",
        ),
        (
            f"{path}/decision",
            "verifier.lead",
            {"decision": "met", "reason": "No file."},
            422,
            "invalid-input",
            "evidence",
        ),
        (
            f"{path}/decision",
            "supervisor.chair",
            {"decision": "missed", "reason": "Early."},
            422,
            "invalid-input",
            "decision",
        ),
        (
            f"{path}/decision",
            "alpha.liaison",
            {"decision": "met", "reason": "Mine."},
            403,
            "forbidden",
            None,
        ),
        (
            f"{path}/evidence",
            "alpha.liaison",
            {"evidence": ["0" * 64]},
            422,
            "invalid-input",
            "evidence",
        ),
        (
            f"/{project['id']}/shipments",
            "alpha.liaison",
            {"cargo": "Turbines", "crossing": hospital, "planned_at": soon},
            422,
            "invalid-input",
            "crossing",
        ),
        (
            f"/{project['id']}/shipments",
            "alpha.liaison",
            {"cargo": "Turbines", "crossing": str(uuid.uuid4()), "planned_at": soon},
            422,
            "invalid-input",
            "crossing",
        ),
        (
            f"/{project['id']}/shipments",
            "alpha.liaison",
            {"cargo": "Turbines", "crossing": crossing_id, "planned_at": past},
            422,
            "invalid-input",
            "planned_at",
        ),
        (
            f"/{project['id']}/shipments",
            "verifier.lead",
            {"cargo": "Turbines", "crossing": crossing_id, "planned_at": soon},
            403,
            "forbidden",
            None,
        ),
        (
            f"/{project['id']}/status",
            "alpha.liaison",
            {"status": "proposed", "reason": "Back."},
            409,
            "conflict",
            "status",
        ),
        (
            f"/{project['id']}/status",
            "bravo.liaison",
            {"status": "suspended", "reason": "No."},
            403,
            "forbidden",
            None,
        ),
    ]
    for who in ("alpha.liaison", "bravo.liaison", "verifier.lead", "supervisor.chair"):
        api.headers(who)  # a token is an entry of its own
    size = _log_size(db)
    for path_, who, body, status, code, field in cases:
        response = client.post(f"{URL}{path_}", json=body, headers=api.headers(who))
        problem = assert_problem(response, status, code)
        assert problem.get("field") == field, (path_, problem)
    wrong_type = client.post(
        f"{URL}/evidence",
        content=b"not a pdf",
        headers=api.headers("alpha.liaison", **{"Content-Type": "application/pdf"}),
    )
    assert assert_problem(wrong_type, 422, "invalid-input")["field"] == "type"
    assert _log_size(db) == size


def test_a_shipment_waits_for_an_active_project_and_its_steps_go_in_order(
    api: Api, client: TestClient, db: Session, member: Member
) -> None:
    crossing_id = crossing(db, member, now=api.clock.now())
    db.commit()
    proposed = api.post("", "supervisor.chair", api.project_body(party="BRAVO"), 201)
    assert proposed["party"] == "BRAVO"
    body = {
        "cargo": "Turbines",
        "crossing": crossing_id,
        "planned_at": (api.clock.now() + timedelta(hours=50)).isoformat(),
    }
    waiting = client.post(
        f"{URL}/{proposed['id']}/shipments", json=body, headers=api.headers("bravo.liaison")
    )
    assert_problem(waiting, 409, "conflict")
    project = api.active_project()
    shipment = api.post(f"/{project['id']}/shipments", "alpha.liaison", body, 201)
    early = client.post(
        f"{URL}/{project['id']}/shipments/{shipment['id']}/passage",
        json={},
        headers=api.headers("verifier.lead"),
    )
    assert_problem(early, 409, "conflict")


def test_the_routes_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        URL,
        f"{URL}/stats",
        f"{URL}/evidence",
        f"{URL}/{{project_id}}/milestones/{{milestone_id}}/decision",
        f"{URL}/{{project_id}}/shipments/{{shipment_id}}/refusal",
    ):
        assert path in paths, path
    assert "application/pdf" in paths[f"{URL}/evidence"]["post"]["requestBody"]["content"]
