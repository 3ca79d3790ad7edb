"""The intelligence API: submitting, releasing, answering and reading, its refusals as
problem+json with nothing written, idempotent retries, and lists whose cost does not grow."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.helpers.problems import assert_problem
from tests.helpers.tables import table_counts
from tests.intel.factories import bundle, identity, located_report, location, submit
from tests.querycount import assert_constant

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock

API = "/api/v1/intel"
Tokens = Callable[[str], dict[str, str]]


def test_a_party_submits_the_supervisor_relays_and_the_other_side_disputes(
    client: TestClient, token_for: Tokens
) -> None:
    alpha, chair, bravo = (
        token_for("alpha.analyst"),
        token_for("supervisor.chair"),
        token_for("bravo.analyst"),
    )
    sent = client.post(
        f"{API}/reports",
        json={"bundle": located_report(), "release_to": [], "tlp": "amber", "grade": "B2"},
        headers=alpha,
    )
    assert sent.status_code == 201, sent.text
    report = sent.json()
    assert report["released_to"] == ["ALPHA", "SUPERVISOR"] and report["grade"] == "B2"
    assert client.get(f"{API}/reports/{report['id']}", headers=bravo).status_code == 404

    preview = client.post(
        f"{API}/reports/{report['id']}/preview",
        json={"grid_km": 10, "anonymise_source": True, "redact": ["description"]},
        headers=chair,
    )
    assert preview.status_code == 200, preview.text
    assert len(preview.json()["original"]) == len(report["bundle"]["objects"])
    assert (
        client.post(f"{API}/reports/{report['id']}/preview", json={}, headers=alpha).status_code
        == 200
    )
    assert client.get(f"{API}/reports/count", headers=bravo).json() == {"count": 0}

    released = client.post(
        f"{API}/reports/{report['id']}/releases",
        json={"release_to": ["BRAVO"], "grid_km": 10, "anonymise_source": True},
        headers={**chair, "Idempotency-Key": "relay-1"},
    )
    assert released.status_code == 201, released.text
    derived = released.json()
    again = client.post(
        f"{API}/reports/{report['id']}/releases",
        json={"release_to": ["BRAVO"], "grid_km": 10, "anonymise_source": True},
        headers={**chair, "Idempotency-Key": "relay-1"},
    )
    assert again.json()["id"] == derived["id"]
    seen = client.get(f"{API}/reports/{derived['id']}", headers=bravo).json()
    assert seen["derived_from"] is None  # BRAVO may not see the original
    assert (
        client.get(f"{API}/reports/{derived['id']}", headers=alpha).json()["derived_from"]
        == report["id"]
    )

    disputed = client.post(
        f"{API}/reports/{derived['id']}/responses",
        json={"opinion": "strongly-disagree", "explanation": "Nothing moved there."},
        headers=bravo,
    )
    assert disputed.status_code == 201, disputed.text
    answers = client.get(f"{API}/reports/{derived['id']}", headers=alpha).json()["responses"]
    assert [(a["opinion"], a["author_organisation"]) for a in answers] == [
        ("strongly-disagree", "BRAVO")
    ]


def test_the_common_case_is_one_request(client: TestClient, token_for: Tokens) -> None:
    made = client.post(
        f"{API}/observations",
        json={
            "title": "Roadblock",
            "description": "A new roadblock on the coast road",
            "latitude": 33.01,
            "longitude": 35.9,
            "observed_at": "2026-01-06T06:00:00Z",
            "release_to": ["BRAVO"],
            "grade": "A1",
        },
        headers=token_for("alpha.liaison"),
    )
    assert made.status_code == 201, made.text
    assert made.json()["grade"] == "A1" and made.json()["bbox"] == [35.9, 33.01, 35.9, 33.01]


def test_refusals_are_problems_and_write_nothing(
    client: TestClient,
    token_for: Tokens,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
) -> None:
    alpha, bravo, duty = (
        token_for("alpha.analyst"),
        token_for("bravo.liaison"),
        token_for("alpha.duty"),
    )
    hidden = submit(db, member("alpha.analyst"), clock)
    shared = submit(db, member("alpha.analyst"), clock, release_to=("BRAVO",))
    db.commit()
    before = table_counts(db)
    bad = location(lat=91.0)
    problem = assert_problem(
        client.post(f"{API}/reports", json={"bundle": bundle(identity(), bad)}, headers=alpha),
        422,
        "invalid-input",
    )
    assert problem["errors"][0]["object"] == bad["id"]
    for body in (
        {"bundle": located_report(), "release_to": ["NOBODY"]},
        {"bundle": located_report(), "grade": "Z9"},
        {"bundle": located_report(), "tlp": "white"},
    ):
        assert_problem(
            client.post(f"{API}/reports", json=body, headers=alpha), 422, "invalid-input"
        )
    assert_problem(
        client.post(f"{API}/reports", json={"bundle": located_report()}, headers=duty),
        403,
        "forbidden",
    )
    assert_problem(
        client.post(
            f"{API}/reports/{hidden.id}/releases", json={"release_to": ["BRAVO"]}, headers=bravo
        ),
        404,
        "not-found",
    )
    assert_problem(
        client.post(
            f"{API}/reports/{shared.id}/releases", json={"release_to": ["HOST"]}, headers=bravo
        ),
        403,
        "forbidden",
    )
    assert_problem(
        client.post(
            f"{API}/reports/{hidden.id}/responses",
            json={"opinion": "agree", "explanation": "x"},
            headers=bravo,
        ),
        404,
        "not-found",
    )
    assert_problem(
        client.get(f"{API}/reports", params={"grade": "Q"}, headers=alpha), 422, "invalid-input"
    )
    assert_problem(
        client.get(f"{API}/reports", params={"bbox": "1,2,3"}, headers=alpha), 422, "invalid-input"
    )
    assert table_counts(db) == before


def test_a_changed_retry_under_the_same_id_is_a_conflict(
    client: TestClient, token_for: Tokens
) -> None:
    alpha = token_for("alpha.analyst")
    first = client.post(
        f"{API}/reports",
        json={"bundle": located_report()},
        headers={**alpha, "Idempotency-Key": "k"},
    )
    again = client.post(
        f"{API}/reports",
        json={"bundle": located_report()},
        headers={**alpha, "Idempotency-Key": "k"},
    )
    assert first.status_code == 201
    assert_problem(again, 409, "idempotency-conflict")


def test_the_report_list_costs_the_same_however_many_reports_it_shows(
    app: FastAPI,
    client: TestClient,
    token_for: Tokens,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
) -> None:
    headers = token_for("supervisor.chair")
    alpha = member("alpha.analyst")
    submit(db, alpha, clock)
    db.commit()

    def more() -> None:
        for _ in range(5):
            submit(db, alpha, clock, release_to=("BRAVO",))
        db.commit()

    assert_constant(
        app.state.engine,
        lambda: client.get(f"{API}/reports", params={"q": "artillery"}, headers=headers),
        more,
    )
