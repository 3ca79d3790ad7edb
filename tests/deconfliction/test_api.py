"""The notifications API: 201 with the id, log index, lead-time verdict and conflicts; the
acknowledgement's answer says it is receipt, never approval, in the reader's language; bad
input is problem+json and writes nothing; a retry never duplicates."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from tests.deconfliction.factories import (
    AWAY_FROM_SITES_WEST,
    DARAA_TO_SUWAYDA,
    NEAR_MAJDAL_SHAMS,
    line,
    point,
)
from tests.helpers.problems import assert_problem

from fusioncell.clock import ManualClock
from fusioncell.ledger.models import LogEntry

Headers = Callable[[str], dict[str, str]]


def _time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def body(clock: ManualClock, **more: Any) -> dict[str, Any]:
    start = clock.now() + timedelta(hours=80)
    return {
        "kind": "activity",
        "category": "training",
        "geometry": point(AWAY_FROM_SITES_WEST),
        "starts_at": _time(start),
        "ends_at": _time(start + timedelta(hours=6)),
        "description": "Company-level training",
        **more,
    }


def convoy(clock: ManualClock, **more: Any) -> dict[str, Any]:
    given: dict[str, Any] = {
        "kind": "movement",
        "category": "convoy",
        "geometry": line(DARAA_TO_SUWAYDA),
        "description": "Food and medicine, Daraa to Suwayda",
        "details": {"vehicles": 6, "markings": "HUM-1 flags", "contact": "+000 1", "cargo": "food"},
    }
    return body(clock, **{**given, **more})


def _entries(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(LogEntry)).scalar_one())


def test_a_notification_is_201_with_its_id_log_index_lead_time_and_conflicts(
    client: TestClient, token_for: Headers, clock: ManualClock
) -> None:
    alpha = token_for("alpha.liaison")
    answer = client.post(
        "/api/v1/notifications",
        json=body(clock, geometry=point(NEAR_MAJDAL_SHAMS), buffer_m=500),
        headers=alpha,
    )
    assert answer.status_code == 201, answer.text
    got = answer.json()
    assert got["lead_time"] == "on_time" and got["required_lead_hours"] == 72
    [conflict] = got["conflicts"]
    assert conflict["with"] == "site" and conflict["id"] == "majdal-shams"
    assert conflict["name"] == "Majdal Shams" and conflict["required_m"] == 2500
    assert 1150 < conflict["distance_m"] < 1350
    assert set(conflict) >= {"from", "until", "noted"}
    assert isinstance(got["log_index"], int) and got["state"] == "distributed"
    clear = client.post("/api/v1/notifications", json=body(clock), headers=alpha).json()
    assert clear["conflicts"] == [] and clear["conflict_status"] == "clear"
    # Read back, one and all.
    one = client.get(f"/api/v1/notifications/{got['id']}", headers=alpha).json()
    assert one["id"] == got["id"] and one["conflicts"] == got["conflicts"]
    listed = client.get("/api/v1/notifications", headers=alpha).json()
    assert {n["id"] for n in listed} == {got["id"], clear["id"]}


def test_a_late_notification_is_accepted_and_marked_late(
    client: TestClient, token_for: Headers, clock: ManualClock
) -> None:
    start = clock.now() + timedelta(hours=47)
    answer = client.post(
        "/api/v1/notifications",
        json=convoy(clock, starts_at=_time(start), ends_at=_time(start + timedelta(hours=5))),
        headers=token_for("hum1.coordinator"),
    )
    assert answer.status_code == 201
    assert answer.json()["lead_time"] == "late"
    assert answer.json()["required_lead_hours"] == 48


@pytest.mark.parametrize("language", ["en", "ar", "he"])
def test_the_acknowledgement_says_it_is_receipt_never_approval_in_the_readers_language(
    client: TestClient, token_for: Headers, clock: ManualClock, language: str
) -> None:
    from fusioncell.i18n import translate

    created = client.post(
        "/api/v1/notifications", json=convoy(clock), headers=token_for("hum1.coordinator")
    ).json()
    bravo = token_for("bravo.duty")
    client.put("/api/v1/me/language", json={"language": language}, headers=bravo)
    answer = client.post(
        f"/api/v1/notifications/{created['id']}/acknowledge", json={}, headers=bravo
    )
    assert answer.status_code == 201, answer.text
    expected = translate(language, "An acknowledgement is receipt, never approval.")
    assert answer.json()["meaning"] == expected
    if language != "en":
        assert expected != "An acknowledgement is receipt, never approval."
    read = client.get(f"/api/v1/notifications/{created['id']}", headers=bravo).json()
    assert read["acknowledgements"]["meaning"] == expected
    parties = {r["party"]: r["acknowledged"] for r in read["acknowledgements"]["recipients"]}
    assert parties == {"ALPHA": False, "BRAVO": True}


def test_an_acknowledgement_retry_returns_the_first(
    client: TestClient, token_for: Headers, clock: ManualClock, engine: Engine
) -> None:
    created = client.post(
        "/api/v1/notifications", json=convoy(clock), headers=token_for("hum1.coordinator")
    ).json()
    alpha = token_for("alpha.duty")
    chosen = str(uuid.uuid4())
    first = client.post(
        f"/api/v1/notifications/{created['id']}/acknowledge", json={"id": chosen}, headers=alpha
    )
    count = _entries(engine)
    again = client.post(
        f"/api/v1/notifications/{created['id']}/acknowledge", json={"id": chosen}, headers=alpha
    )
    assert first.json() == again.json() and first.json()["id"] == chosen
    assert _entries(engine) == count


def test_a_submission_retry_by_idempotency_key_returns_the_first(
    client: TestClient, token_for: Headers, clock: ManualClock, engine: Engine
) -> None:
    headers = {**token_for("alpha.liaison"), "Idempotency-Key": "training-7"}
    first = client.post("/api/v1/notifications", json=body(clock), headers=headers)
    count = _entries(engine)
    again = client.post("/api/v1/notifications", json=body(clock), headers=headers)
    assert first.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert _entries(engine) == count
    other = client.post(
        "/api/v1/notifications", json=body(clock, description="other"), headers=headers
    )
    assert_problem(other, 409, "idempotency-conflict")


def _bad_inputs(clock: ManualClock) -> list[tuple[str, dict[str, Any], int, str]]:
    past = clock.now() - timedelta(hours=5)
    square = [[35.70, 33.20], [35.71, 33.20], [35.71, 33.21], [35.70, 33.21], [35.70, 33.20]]
    bowtie = [[35.70, 33.20], [35.71, 33.21], [35.71, 33.20], [35.70, 33.21], [35.70, 33.20]]
    return [
        ("no geometry type", {"geometry": {"coordinates": [35.7, 33.2]}}, 422, "invalid-input"),
        ("latitude first", {"geometry": point((33.2, 135.7))}, 422, "invalid-input"),
        (
            "NaN-free numbers",
            {"geometry": {"type": "Point", "coordinates": ["a", 1]}},
            422,
            "invalid-input",
        ),
        (
            "unclosed ring",
            {"geometry": {"type": "Polygon", "coordinates": [square[:-1]]}},
            422,
            "invalid-input",
        ),
        (
            "self-intersecting",
            {"geometry": {"type": "Polygon", "coordinates": [bowtie]}},
            422,
            "invalid-input",
        ),
        (
            "ends before it starts",
            {
                "starts_at": _time(clock.now() + timedelta(hours=90)),
                "ends_at": _time(clock.now() + timedelta(hours=80)),
            },
            422,
            "invalid-input",
        ),
        (
            "in the past",
            {"starts_at": _time(past - timedelta(hours=1)), "ends_at": _time(past)},
            422,
            "invalid-input",
        ),
        ("a number for a time", {"starts_at": 0.0}, 422, "invalid-input"),
        ("buffer over the maximum", {"buffer_m": 25001}, 422, "invalid-input"),
        ("negative buffer", {"buffer_m": -1}, 422, "invalid-input"),
        ("unknown kind", {"kind": "airstrike"}, 422, "invalid-input"),
        ("unknown category", {"category": "bombing"}, 422, "invalid-input"),
        ("empty description", {"description": "  "}, 422, "invalid-input"),
        ("FLASH activity", {"flash": True}, 422, "invalid-input"),
        ("details of another kind", {"details": {"cargo": "tanks"}}, 422, "invalid-input"),
    ]


def test_bad_input_is_problem_json_and_writes_nothing(
    client: TestClient, token_for: Headers, clock: ManualClock, engine: Engine
) -> None:
    alpha = token_for("alpha.liaison")
    count = _entries(engine)
    for name, change, status, code in _bad_inputs(clock):
        answer = client.post("/api/v1/notifications", json=body(clock, **change), headers=alpha)
        problem = assert_problem(answer, status, code)
        assert problem["detail"], name
    assert _entries(engine) == count


def test_a_route_that_is_not_a_linestring_and_a_convoy_without_its_details_are_refused(
    client: TestClient, token_for: Headers, clock: ManualClock, engine: Engine
) -> None:
    hum = token_for("hum1.coordinator")
    count = _entries(engine)
    polygon_route = convoy(clock, geometry=point(AWAY_FROM_SITES_WEST))
    problem = assert_problem(
        client.post("/api/v1/notifications", json=polygon_route, headers=hum), 422, "invalid-input"
    )
    assert problem["field"] == "geometry" and "LineString" in problem["detail"]
    bare = convoy(clock, details={"markings": "flags"})
    problem = assert_problem(
        client.post("/api/v1/notifications", json=bare, headers=hum), 422, "invalid-input"
    )
    assert problem["missing"] == ["vehicles", "contact"]
    assert _entries(engine) == count


def test_refusals_are_problem_json_and_write_nothing(
    client: TestClient, token_for: Headers, clock: ManualClock, engine: Engine
) -> None:
    alpha, bravo = token_for("alpha.liaison"), token_for("bravo.liaison")
    hum, alpha_duty = token_for("hum1.coordinator"), token_for("alpha.duty")
    created = client.post("/api/v1/notifications", json=body(clock), headers=alpha).json()
    count = _entries(engine)
    # An organisation that may not send that kind.
    assert_problem(
        client.post("/api/v1/notifications", json=body(clock), headers=hum),
        403,
        "forbidden",
    )
    # An acknowledgement by a party that is not a recipient (the sender's own).
    assert_problem(
        client.post(
            f"/api/v1/notifications/{created['id']}/acknowledge",
            json={},
            headers=alpha_duty,
        ),
        403,
        "forbidden",
    )
    # HUM-1 does not read the parties' military activity: 404, as if it did not exist.
    assert_problem(
        client.get(f"/api/v1/notifications/{created['id']}", headers=hum), 404, "not-found"
    )
    assert client.get("/api/v1/notifications", headers=hum).json() == []
    # An amendment by another party.
    amend = {k: v for k, v in body(clock).items() if k not in ("kind",)}
    assert_problem(
        client.post(
            f"/api/v1/notifications/{created['id']}/amend",
            json=amend,
            headers=bravo,
        ),
        403,
        "forbidden",
    )
    assert _entries(engine) == count
    # An amendment after completion.
    clock.advance(90 * 3600)
    alpha = token_for("alpha.liaison")  # the first has expired
    count = _entries(engine)
    amend = {k: v for k, v in body(clock).items() if k not in ("kind",)}
    assert_problem(
        client.post(
            f"/api/v1/notifications/{created['id']}/amend",
            json=amend,
            headers=alpha,
        ),
        409,
        "conflict",
    )
    assert _entries(engine) == count


def test_statistics_count_lateness_the_same_way_for_every_party(
    client: TestClient, token_for: Headers, clock: ManualClock
) -> None:
    for user in ("alpha.liaison", "bravo.liaison"):
        headers = token_for(user)
        client.post("/api/v1/notifications", json=body(clock), headers=headers)
        late_start = clock.now() + timedelta(hours=10)
        late = body(
            clock, starts_at=_time(late_start), ends_at=_time(late_start + timedelta(hours=1))
        )
        assert (
            client.post("/api/v1/notifications", json=late, headers=headers).json()["lead_time"]
            == "late"
        )
    clock.advance(2 * 3600)  # every acknowledgement (1 h, PRIORITY) is now missed
    stats = client.get(
        "/api/v1/notifications/statistics", headers=token_for("supervisor.chair")
    ).json()
    by = {s["organisation"]: s for s in stats}
    for party in ("ALPHA", "BRAVO"):
        assert (by[party]["notifications"], by[party]["on_time"], by[party]["late"]) == (2, 1, 1)
        assert (by[party]["acks_owed"], by[party]["acks_missed"]) == (2, 2)
        assert by[party]["by_kind"] == {"activity": {"on_time": 1, "late": 1}}
