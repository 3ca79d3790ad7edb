"""The de-escalation API end to end on the real app and database: observations by who may
post them, compliance within the viewer's releasability, the freeze, signed exceptions, bad
input refused with nothing written, and the rows checked against the log."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from tests.helpers.problems import assert_problem
from tests.helpers.verifying import tamper, verify_state
from tests.querycount import assert_constant

from fusioncell.clock import ManualClock
from fusioncell.deescalation.models import ObservationRow
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.verify import VerifyReport

Headers = Callable[[str], dict[str, str]]
URL = "/api/v1/deescalation"
# Inside ALPHA's 0-10 band (west of line A near Quneitra), BRAVO's 0-10 band (outside
# sector S) and ALPHA's 10-20 band.
ALPHA_0_10 = (35.75, 33.12)
BRAVO_0_10 = (35.95, 33.38)
ALPHA_10_20 = (35.68, 33.05)


def point(
    fid: str,
    where: tuple[float, float],
    *,
    party: str,
    category: str,
    count: int,
    source: str = "inspection",
    observed_at: str = "2026-01-06T07:00:00Z",
    **more: Any,
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": list(where)},
        "properties": {
            "unit": fid,
            "party": party,
            "category": category,
            "count": count,
            "observed_at": observed_at,
            "source": source,
            **more,
        },
    }


def collection(*features: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features), **more}


TANKS = collection(
    point("t1", ALPHA_0_10, party="ALPHA", category="tank", count=40),
    point("t2", ALPHA_0_10, party="ALPHA", category="tank", count=38),
)


@pytest.fixture
def verified(
    db: Session, engine: Engine, ledger: LedgerContext, clock: ManualClock
) -> Callable[[], VerifyReport]:
    """``fusioncell verify --database``'s state check over a checkpoint of everything so far."""

    def check() -> VerifyReport:
        do_sign_checkpoint(db, now=clock.now())
        return verify_state(engine, ledger)

    return check


def compliance(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = client.get(f"{URL}/compliance", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_an_inspection_over_the_limit_is_the_same_candidate_for_both_parties(
    client: TestClient, token_for: Headers, verified: Callable[[], VerifyReport], engine: Engine
) -> None:
    posted = client.post(f"{URL}/observations", json=TANKS, headers=token_for("verifier.lead"))
    assert posted.status_code == 201, posted.text
    body = posted.json()
    assert (body["stored"], body["new"]) == (2, 2)
    [raised] = body["candidates"]
    assert (raised["rule"], raised["zone"], raised["value"], raised["limit"]) == (
        "R2",
        "limitation-alpha-0-10",
        78,
        75,
    )
    seen = [
        compliance(client, token_for(u))["candidates"]
        for u in ("alpha.liaison", "bravo.liaison", "supervisor.chair", "verifier.lead")
    ]
    assert all(s == seen[0] for s in seen) and len(seen[0]) == 1
    assert seen[0][0]["observations"] == raised["observations"]
    # Released to the parties, the supervisor and the verifier only.
    host = compliance(client, token_for("host.observer"))
    assert host["holdings"] == [] and host["candidates"] == []
    assert_problem(
        client.get(f"{URL}/compliance", headers=token_for("cell.admin")), 403, "forbidden"
    )
    assert verified().ok


def test_a_retry_stores_nothing_again_and_other_content_under_an_id_is_a_conflict(
    client: TestClient, token_for: Headers, table_counts: Callable[[], dict[str, int]]
) -> None:
    headers = token_for("verifier.lead")
    assert client.post(f"{URL}/observations", json=TANKS, headers=headers).status_code == 201
    counts = table_counts()
    again = client.post(f"{URL}/observations", json=TANKS, headers=headers)
    assert again.status_code == 201
    assert (again.json()["stored"], again.json()["new"]) == (2, 0)
    changed = collection(point("t1", ALPHA_0_10, party="ALPHA", category="tank", count=41))
    assert_problem(
        client.post(f"{URL}/observations", json=changed, headers=headers),
        409,
        "idempotency-conflict",
    )
    assert table_counts() == counts


def test_who_may_post_what(client: TestClient, token_for: Headers) -> None:
    own = collection(
        point("d1", ALPHA_0_10, party="ALPHA", category="tank", count=5, source="declaration")
    )
    other = collection(
        point("d2", BRAVO_0_10, party="BRAVO", category="tank", count=5, source="declaration")
    )
    alpha = token_for("alpha.liaison")
    assert client.post(f"{URL}/observations", json=own, headers=alpha).status_code == 201
    assert_problem(client.post(f"{URL}/observations", json=other, headers=alpha), 403, "forbidden")
    # Inspections are the verifier's; a party's report is about the other party.
    assert_problem(client.post(f"{URL}/observations", json=TANKS, headers=alpha), 403, "forbidden")
    report_own = collection(
        point(
            "r1", ALPHA_0_10, party="ALPHA", category="tank", count=5, source="report", grade="B2"
        )
    )
    assert_problem(
        client.post(f"{URL}/observations", json=report_own, headers=alpha), 403, "forbidden"
    )
    assert_problem(
        client.post(f"{URL}/observations", json=own, headers=token_for("supervisor.chair")),
        403,
        "forbidden",
    )


def test_a_report_follows_its_reporters_releasability(
    client: TestClient, token_for: Headers, verified: Callable[[], VerifyReport], engine: Engine
) -> None:
    # BRAVO alleges ALPHA artillery of 25 km range in ALPHA's 10-20 band.
    report = collection(
        point(
            "a1",
            ALPHA_10_20,
            party="ALPHA",
            category="artillery",
            count=6,
            source="report",
            grade="B2",
            range_km=25,
        )
    )
    posted = client.post(f"{URL}/observations", json=report, headers=token_for("bravo.liaison"))
    assert posted.status_code == 201, posted.text
    [raised] = posted.json()["candidates"]
    assert (raised["rule"], raised["measure"], raised["value"]) == ("R3", "range_km", 25)
    for username in ("bravo.liaison", "supervisor.chair"):
        assert len(compliance(client, token_for(username), source="report")["candidates"]) == 1
    for username in ("alpha.liaison", "verifier.lead"):
        assert compliance(client, token_for(username), source="report")["candidates"] == []
    # Released further when the reporter says so.
    wider = collection(
        point(
            "a2",
            ALPHA_10_20,
            party="ALPHA",
            category="artillery",
            count=6,
            source="report",
            grade="C3",
            range_km=25,
        ),
        release_to=["VERIFIER"],
    )
    bravo = token_for("bravo.liaison")
    assert client.post(f"{URL}/observations", json=wider, headers=bravo).status_code == 201
    assert len(compliance(client, token_for("verifier.lead"), source="report")["candidates"]) == 1
    assert verified().ok


def _swapped(where: tuple[float, float]) -> tuple[float, float]:
    return (where[1], where[0])


BAD: dict[str, Any] = {
    "latitude first": collection(
        point("x", _swapped(ALPHA_0_10), party="ALPHA", category="tank", count=1)
    ),
    "self-intersecting polygon": collection(
        {
            **point("x", ALPHA_0_10, party="ALPHA", category="tank", count=1),
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[35.7, 33.1], [35.8, 33.2], [35.8, 33.1], [35.7, 33.2], [35.7, 33.1]]
                ],
            },
        }
    ),
    "unclosed polygon": collection(
        {
            **point("x", ALPHA_0_10, party="ALPHA", category="tank", count=1),
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[35.7, 33.1], [35.8, 33.2], [35.8, 33.1]]],
            },
        }
    ),
    "negative count": collection(point("x", ALPHA_0_10, party="ALPHA", category="tank", count=-1)),
    "unknown category": collection(
        point("x", ALPHA_0_10, party="ALPHA", category="cavalry", count=1)
    ),
    "unknown party": collection(point("x", ALPHA_0_10, party="CHARLIE", category="tank", count=1)),
    "in the future": collection(
        point(
            "x",
            ALPHA_0_10,
            party="ALPHA",
            category="tank",
            count=1,
            observed_at="2026-01-07T00:00:00Z",
        )
    ),
    "before T0": collection(
        point(
            "x",
            ALPHA_0_10,
            party="ALPHA",
            category="tank",
            count=1,
            observed_at="2026-01-05T23:59:59Z",
        )
    ),
    "no time zone": collection(
        point(
            "x",
            ALPHA_0_10,
            party="ALPHA",
            category="tank",
            count=1,
            observed_at="2026-01-06T07:00:00",
        )
    ),
    "not a collection": {"type": "Feature"},
    "a longitude beyond any float": collection(
        {
            **point("x", ALPHA_0_10, party="ALPHA", category="tank", count=1),
            "geometry": {"type": "Point", "coordinates": [10**400, 33.1]},
        }
    ),
    "a fractional count": collection(
        point("x", ALPHA_0_10, party="ALPHA", category="tank", count=1.5)  # type: ignore[arg-type]
    ),
    "two sources": collection(
        point("x", ALPHA_0_10, party="ALPHA", category="tank", count=1),
        point("y", ALPHA_0_10, party="ALPHA", category="tank", count=1, source="sensor"),
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_with_nothing_written(
    case: str,
    client: TestClient,
    token_for: Headers,
    table_counts: Callable[[], dict[str, int]],
) -> None:
    headers = token_for("verifier.lead")
    counts = table_counts()
    body = assert_problem(
        client.post(f"{URL}/observations", json=BAD[case], headers=headers), 422, "invalid-input"
    )
    assert body.get("field")
    assert table_counts() == counts


def test_the_freeze_binds_once_the_supervisor_accepts_the_baseline(
    client: TestClient,
    token_for: Headers,
    verified: Callable[[], VerifyReport],
    table_counts: Callable[[], dict[str, int]],
) -> None:
    alpha = token_for("alpha.liaison")
    holdings = [{"zone": "limitation-alpha-0-10", "category": "tank", "count": 60}]
    counts = table_counts()
    assert_problem(
        client.post(
            f"{URL}/baselines", json={"party": "BRAVO", "holdings": holdings}, headers=alpha
        ),
        403,
        "forbidden",
    )
    assert_problem(
        client.post(
            f"{URL}/baselines",
            json={
                "party": "ALPHA",
                "holdings": [{"zone": "nowhere", "category": "tank", "count": 1}],
            },
            headers=alpha,
        ),
        422,
        "invalid-input",
    )
    assert table_counts() == counts
    baseline_id = str(uuid.uuid4())
    declared = client.post(
        f"{URL}/baselines",
        json={"id": baseline_id, "party": "ALPHA", "holdings": holdings},
        headers=alpha,
    )
    assert declared.status_code == 201, declared.text
    assert declared.json()["accepted"] is False
    client.post(f"{URL}/observations", json=TANKS, headers=token_for("verifier.lead"))
    rules = {c["rule"] for c in compliance(client, alpha)["candidates"]}
    assert rules == {"R2"}  # not yet accepted: no freeze
    assert_problem(
        client.post(f"{URL}/baselines/{baseline_id}/accept", headers=token_for("verifier.lead")),
        403,
        "forbidden",
    )
    accepted = client.post(
        f"{URL}/baselines/{baseline_id}/accept", headers=token_for("supervisor.chair")
    )
    assert accepted.status_code == 200 and accepted.json()["accepted"] is True
    r6 = [c for c in compliance(client, alpha)["candidates"] if c["rule"] == "R6"]
    assert [(c["zone"], c["limit"], c["value"]) for c in r6] == [("limitation-alpha-0-10", 60, 78)]
    assert verified().ok


def test_an_exception_covers_the_candidate_only_once_all_signatories_signed(
    client: TestClient,
    token_for: Headers,
    clock: ManualClock,
    verified: Callable[[], VerifyReport],
    table_counts: Callable[[], dict[str, int]],
) -> None:
    client.post(f"{URL}/observations", json=TANKS, headers=token_for("verifier.lead"))
    proposal = {
        "party": "ALPHA",
        "zone": "limitation-alpha-0-10",
        "category": "tank",
        "max_count": 80,
        "valid_from": "2026-01-06T00:00:00Z",
        "valid_until": "2026-02-01T00:00:00Z",
        "note": "exercise relief",
    }
    proposed = client.post(
        f"{URL}/exceptions", json=proposal, headers=token_for("supervisor.chair")
    )
    assert proposed.status_code == 201, proposed.text
    exception = proposed.json()["id"]
    signatures = f"{URL}/exceptions/{exception}/signatures"
    refused = [token_for(u) for u in ("verifier.lead", "host.observer", "alpha.analyst")]
    counts = table_counts()
    for headers in refused:
        assert_problem(client.post(signatures, headers=headers), 403, "forbidden")
    assert table_counts() == counts
    for signer in ("alpha.liaison", "bravo.liaison"):
        signed = client.post(signatures, headers=token_for(signer))
        assert signed.status_code == 201 and signed.json()["agreed"] is False
        [candidate] = compliance(client, token_for(signer))["candidates"]
        assert candidate["exception"] is None
    done = client.post(signatures, headers=token_for("supervisor.chair"))
    assert done.json()["agreed"] is True
    assert done.json()["signed_by"] == ["ALPHA", "BRAVO", "SUPERVISOR"]
    [candidate] = compliance(client, token_for("bravo.liaison"))["candidates"]
    assert candidate["exception"] == exception
    # Signing again changes nothing.
    alpha = token_for("alpha.liaison")
    counts = table_counts()
    assert client.post(signatures, headers=alpha).status_code == 201
    assert table_counts() == counts
    # After its period, the candidate stands uncovered.
    after = compliance(client, token_for("alpha.liaison"), at="2026-02-02T00:00:00Z")
    assert after["candidates"][0]["exception"] is None
    assert verified().ok


def test_verify_names_an_observation_row_edited_behind_the_log(
    client: TestClient, token_for: Headers, verified: Callable[[], VerifyReport], engine: Engine
) -> None:
    client.post(f"{URL}/observations", json=TANKS, headers=token_for("verifier.lead"))
    assert verified().ok
    tamper(
        engine,
        update(ObservationRow).where(ObservationRow.feature_id == "t1").values(count=4),
    )
    report = verified()
    assert not report.ok
    assert report.reason is not None and "deescalation_observations" in report.reason
    assert "count" in report.reason


def test_compliance_refuses_an_unknown_source_class(client: TestClient, token_for: Headers) -> None:
    assert_problem(
        client.get(
            f"{URL}/compliance", params={"source": "rumour"}, headers=token_for("alpha.liaison")
        ),
        422,
        "invalid-input",
    )


def test_observations_dated_later_count_only_from_then(
    client: TestClient, token_for: Headers, clock: ManualClock
) -> None:
    clock.advance(timedelta(days=2).total_seconds())
    later = collection(
        point(
            "t3",
            ALPHA_0_10,
            party="ALPHA",
            category="tank",
            count=80,
            observed_at="2026-01-07T12:00:00Z",
        )
    )
    assert (
        client.post(f"{URL}/observations", json=later, headers=token_for("verifier.lead"))
    ).status_code == 201
    alpha = token_for("alpha.liaison")
    assert compliance(client, alpha, at="2026-01-07T11:00:00Z")["candidates"] == []
    assert len(compliance(client, alpha, at="2026-01-07T13:00:00Z")["candidates"]) == 1


def test_compliance_costs_the_same_statements_however_many_observations(
    app: FastAPI, client: TestClient, token_for: Headers
) -> None:
    verifier, alpha = token_for("verifier.lead"), token_for("alpha.liaison")
    client.post(f"{URL}/observations", json=TANKS, headers=verifier)
    baseline = {
        "party": "ALPHA",
        "holdings": [{"zone": "limitation-alpha-0-10", "category": "tank", "count": 60}],
    }
    declared = client.post(f"{URL}/baselines", json=baseline, headers=alpha).json()
    client.post(f"{URL}/baselines/{declared['id']}/accept", headers=token_for("supervisor.chair"))

    def more() -> None:
        many = collection(
            *(
                point(
                    f"m{i}",
                    ALPHA_0_10 if i % 2 else BRAVO_0_10,
                    party="ALPHA" if i % 2 else "BRAVO",
                    category="tank",
                    count=i,
                )
                for i in range(30)
            )
        )
        assert client.post(f"{URL}/observations", json=many, headers=verifier).status_code == 201

    assert_constant(app.state.engine, lambda: client.get(f"{URL}/compliance", headers=alpha), more)


@pytest.mark.parametrize(
    "at", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "2026-01-06T09:00:00"]
)
def test_compliance_refuses_a_time_out_of_range_or_without_its_zone(
    client: TestClient, token_for: Headers, at: str
) -> None:
    assert_problem(
        client.get(f"{URL}/compliance", params={"at": at}, headers=token_for("alpha.liaison")),
        422,
        "invalid-input",
    )
