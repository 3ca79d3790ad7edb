"""The map's layer of holdings (``GET /api/v1/deescalation/map``): RFC 7946 points, each
coloured for whoever asks (their own party, the other party, neutral for everyone else:
computed per request, never stored), the candidates flagged with the same observations as
compliance names, released exactly as compliance is, at any time since the freeze."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from tests.deescalation.test_api import (
    ALPHA_0_10,
    ALPHA_10_20,
    BRAVO_0_10,
    TANKS,
    URL,
    collection,
    compliance,
    point,
)
from tests.helpers.problems import assert_problem

from fusioncell.bootstrap import MAP_LAYERS
from fusioncell.deescalation.models import ObservationRow

Headers = Callable[[str], dict[str, str]]
HTML = {"Accept": "text/html"}

# The verifier counts 78 ALPHA tanks in ALPHA's 0-10 band (R2: at most 75) and 5,000 BRAVO
# personnel in BRAVO's (within); BRAVO reports ALPHA artillery of 25 km range in ALPHA's
# 10-20 band (R3), released to BRAVO and the supervisor only.
PERSONNEL = collection(
    point("men", BRAVO_0_10, party="BRAVO", category="personnel", count=5000),
)
REPORT = collection(
    point(
        "guns",
        ALPHA_10_20,
        party="ALPHA",
        category="artillery",
        count=6,
        source="report",
        grade="B2",
        range_km=25,
    )
)


def post(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> None:
    response = client.post(f"{URL}/observations", json=body, headers=headers)
    assert response.status_code == 201, response.text


def layer(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = client.get(f"{URL}/map", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["type"] == "FeatureCollection"
    for feature in body["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        longitude, latitude = feature["geometry"]["coordinates"]
        assert 35 < longitude < 37 and 32 < latitude < 34  # longitude first (RFC 7946)
    return body


def by_unit(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["unit"]: f["properties"] for f in body["features"]}


def stage(client: TestClient, token_for: Headers) -> None:
    post(client, token_for("verifier.lead"), TANKS)
    post(client, token_for("verifier.lead"), PERSONNEL)
    post(client, token_for("bravo.liaison"), REPORT)


def test_each_viewer_sees_their_own_party_the_other_party_or_neutral(
    client: TestClient, token_for: Headers
) -> None:
    stage(client, token_for)
    seen = {
        username: by_unit(layer(client, token_for(username)))
        for username in ("alpha.liaison", "bravo.liaison", "supervisor.chair", "verifier.lead")
    }
    assert {unit: p["affiliation"] for unit, p in seen["alpha.liaison"].items()} == {
        "t1": "own",
        "t2": "own",
        "men": "other",
    }
    assert {unit: p["affiliation"] for unit, p in seen["bravo.liaison"].items()} == {
        "t1": "other",
        "t2": "other",
        "men": "own",
        "guns": "other",
    }
    for username in ("supervisor.chair", "verifier.lead"):
        assert {p["affiliation"] for p in seen[username].values()} == {"neutral"}
    # Each holding as its source saw it.
    tank = seen["alpha.liaison"]["t1"]
    assert {k: tank[k] for k in ("category", "count", "party", "unit", "source")} == {
        "category": "tank",
        "count": 40,
        "party": "ALPHA",
        "unit": "t1",
        "source": "inspection",
    }
    # The same holding is the same fact for everyone but its colour.
    for username in ("bravo.liaison", "supervisor.chair", "verifier.lead"):
        other = dict(seen[username]["t1"])
        assert other.pop("affiliation") != "own"
        assert {k: v for k, v in tank.items() if k != "affiliation"} == other


def test_the_affiliation_is_computed_for_the_request_and_never_stored(
    client: TestClient, token_for: Headers, db: Any
) -> None:
    stage(client, token_for)
    layer(client, token_for("alpha.liaison"))
    columns = {c.name for c in ObservationRow.__table__.columns}
    assert not columns & {"affiliation", "friend", "hostile", "own", "other"}
    rows = db.query(ObservationRow).all()  # the rows as the database keeps them
    assert len(rows) == 4
    stored = json.dumps([{c: str(getattr(row, c)) for c in columns} for row in rows])
    assert not re.search(r"\b(own|other|neutral|friend|hostile)\b", stored)


def test_candidates_are_flagged_with_the_observations_compliance_names(
    client: TestClient, token_for: Headers
) -> None:
    stage(client, token_for)
    for username in ("alpha.liaison", "bravo.liaison", "supervisor.chair", "verifier.lead"):
        headers = token_for(username)
        body = layer(client, headers)
        flagged = {
            f["id"].split(":", 1)[1] for f in body["features"] if f["properties"]["candidate"]
        }
        named: set[str] = set()
        for source in ("declaration", "verification", "report"):
            for candidate in compliance(client, headers, source=source)["candidates"]:
                if candidate["exception"] is None:
                    named |= set(candidate["observations"])
        assert flagged == named, username
    seen = by_unit(layer(client, token_for("bravo.liaison")))
    assert (seen["t1"]["candidate"], seen["t1"]["rules"]) == (True, ["R2"])
    assert (seen["guns"]["candidate"], seen["guns"]["rules"]) == (True, ["R3"])
    assert (seen["men"]["candidate"], seen["men"]["rules"]) == (False, [])


def test_the_layer_releases_no_more_than_compliance(client: TestClient, token_for: Headers) -> None:
    stage(client, token_for)
    # BRAVO's report is BRAVO's and the supervisor's; the verifier and ALPHA do not read it.
    for username, reads_report in (
        ("alpha.liaison", False),
        ("bravo.liaison", True),
        ("supervisor.chair", True),
        ("verifier.lead", False),
    ):
        assert ("guns" in by_unit(layer(client, token_for(username)))) is reads_report
        assert [
            f["properties"]["unit"]
            for f in layer(client, token_for(username), source="report")["features"]
        ] == (["guns"] if reads_report else [])
    # The host's observer reads the track, and nothing of it is released to the host.
    assert layer(client, token_for("host.observer"))["features"] == []
    # The operator does not read the track at all.
    assert_problem(client.get(f"{URL}/map", headers=token_for("cell.admin")), 403, "forbidden")
    assert_problem(client.get(f"{URL}/map"), 401, "not-authenticated")


def test_at_shows_the_holdings_of_that_time(client: TestClient, token_for: Headers) -> None:
    battalion = point(
        "battalion", ALPHA_0_10, party="ALPHA", category="tank", count=30,
        observed_at="2026-01-06T02:00:00Z",
    )  # fmt: skip
    post(client, token_for("verifier.lead"), collection(battalion))
    headers = token_for("alpha.liaison")
    now = layer(client, headers)
    assert now["timeline"]["start"] == "2026-01-06T00:00:00.000Z"  # the freeze (C1)
    assert now["timeline"]["at"] == now["timeline"]["end"] == "2026-01-06T08:00:00.000Z"
    assert by_unit(now)["battalion"]["count"] == 30
    assert by_unit(layer(client, headers, at="2026-01-06T03:00:00Z"))["battalion"]["count"] == 30
    assert layer(client, headers, at="2026-01-06T01:00:00Z")["features"] == []
    earlier = layer(client, headers, at="2026-01-06T03:00:00+02:00")  # 01:00 UTC
    assert earlier["timeline"]["at"] == "2026-01-06T01:00:00.000Z"
    assert earlier["features"] == []


def test_a_unit_that_left_is_no_longer_on_the_map(client: TestClient, token_for: Headers) -> None:
    verifier = token_for("verifier.lead")
    here = point(
        "battalion", ALPHA_0_10, party="ALPHA", category="tank", count=30,
        observed_at="2026-01-06T02:00:00Z",
    )  # fmt: skip
    gone = point(
        "battalion-gone", ALPHA_0_10, party="ALPHA", category="tank", count=0,
        observed_at="2026-01-06T05:00:00Z",
    )  # fmt: skip
    gone["properties"]["unit"] = "battalion"
    post(client, verifier, collection(here))
    post(client, verifier, collection(gone))
    headers = token_for("alpha.liaison")
    assert by_unit(layer(client, headers, at="2026-01-06T04:00:00Z"))["battalion"]["count"] == 30
    assert layer(client, headers)["features"] == []


def test_bad_times_and_sources_are_refused(client: TestClient, token_for: Headers) -> None:
    headers = token_for("alpha.liaison")
    for params in ({"at": "yesterday"}, {"at": "2026-01-06T03:00:00"}, {"at": "1767225600"}):
        assert_problem(
            client.get(f"{URL}/map", params=params, headers=headers), 422, "invalid-input"
        )
    assert_problem(
        client.get(f"{URL}/map", params={"source": "rumour"}, headers=headers),
        422,
        "invalid-input",
    )


def test_the_map_page_offers_the_layer_to_whoever_reads_the_track(
    new_client: Callable[[], TestClient], log_in: Callable[..., str]
) -> None:
    import html

    assert ("/api/v1/deescalation/map", "Holdings") in [(x.url, x.label) for x in MAP_LAYERS]
    for username, shown in (
        ("alpha.liaison", True),
        ("verifier.lead", True),
        ("cell.admin", False),
    ):
        browser = new_client()
        log_in(username, on=browser)
        page = browser.get("/map", headers=HTML)
        assert page.status_code == 200
        found = re.search(r'data-layers="([^"]*)"', page.text)
        assert found is not None
        urls = [x["url"] for x in json.loads(html.unescape(found.group(1)))]
        assert ("/api/v1/deescalation/map" in urls) is shown, username


def test_a_unit_that_moved_is_drawn_as_its_track_coloured_for_each_viewer(
    client: TestClient, token_for: Headers
) -> None:
    """Its positions up to the time shown, in time order, as a LineString with its party and
    the viewer's affiliation; a unit seen in one place has no track."""
    west = (ALPHA_0_10[0] - 0.03, ALPHA_0_10[1])
    post(
        client,
        token_for("verifier.lead"),
        collection(
            *(
                point(
                    f"p{n}",
                    where,
                    party="ALPHA",
                    category="tank",
                    count=4,
                    unit="patrol",
                    observed_at=f"2026-01-06T07:{20 * n:02d}:00Z",
                )
                for n, where in enumerate((ALPHA_0_10, west, ALPHA_0_10))
            ),
            point("still", ALPHA_10_20, party="ALPHA", category="tank", count=2),
        ),
    )

    def tracks(username: str, **params: str) -> list[dict[str, Any]]:
        answer = client.get(f"{URL}/map", params=params, headers=token_for(username))
        assert answer.status_code == 200, answer.text
        return [f for f in answer.json()["features"] if f["properties"].get("kind") == "track"]

    for username, affiliation in (
        ("alpha.liaison", "own"),
        ("bravo.liaison", "other"),
        ("supervisor.chair", "neutral"),
    ):
        [track] = tracks(username)
        assert track["geometry"] == {
            "type": "LineString",
            "coordinates": [list(ALPHA_0_10), list(west), list(ALPHA_0_10)],
        }
        properties = track["properties"]
        assert (properties["party"], properties["unit"], properties["affiliation"]) == (
            "ALPHA",
            "patrol",
            affiliation,
        )
        assert properties["from"].startswith("2026-01-06T07:00")
    [earlier] = tracks("alpha.liaison", at="2026-01-06T07:30:00Z")
    assert earlier["geometry"]["coordinates"] == [list(ALPHA_0_10), list(west)]
    assert tracks("alpha.liaison", at="2026-01-06T07:10:00Z") == []
    assert tracks("host.observer") == []
