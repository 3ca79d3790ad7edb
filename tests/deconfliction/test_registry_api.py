"""The registry, no-strike list, incident and early-warning API: answers, retries, exports
that say what was sent, and bad input or a refusal as problem+json that writes nothing."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.orm import Session
from tests.deconfliction.protection_factories import NEAR_SUWAYDA, SUWAYDA, log_size

from fusioncell.clock import ManualClock
from fusioncell.ledger.entries import canonical

PROBLEM = "application/problem+json"
COMMUNITY = {
    "kind": "community",
    "name": "Suwayda",
    "population": "Druze residents of Suwayda",
    "geometry": {"type": "Polygon", "coordinates": [SUWAYDA]},
}
KML = "{http://www.opengis.net/kml/2.2}"


def _agree(client: TestClient, token_for: Callable[[str], dict[str, str]], place: str) -> dict:
    body = {}
    for username in ("alpha.liaison", "bravo.liaison", "supervisor.chair"):
        response = client.post(
            f"/api/v1/protected-places/{place}/signatures", headers=token_for(username)
        )
        assert response.status_code == 201, response.text
        body = response.json()
    return body


def test_a_place_proposed_signed_and_in_force_and_a_retry_is_the_first(
    client: TestClient, db: Session, token_for: Callable[[str], dict[str, str]]
) -> None:
    hum = {**token_for("hum1.coordinator"), "Idempotency-Key": "suwayda-1"}
    first = client.post("/api/v1/protected-places", json=COMMUNITY, headers=hum)
    assert first.status_code == 201, first.text
    place = first.json()
    assert (place["agreed"], place["proposed_by"]) == (False, "HUM-1")
    assert place["awaiting"] == ["ALPHA", "BRAVO", "SUPERVISOR"]
    size = log_size(db)
    again = client.post("/api/v1/protected-places", json=COMMUNITY, headers=hum)
    assert again.status_code == 201 and again.json()["id"] == place["id"]
    db.rollback()
    assert log_size(db) == size
    agreed = _agree(client, token_for, place["id"])
    assert agreed["agreed"] is True and agreed["awaiting"] == []
    assert [s["organisation"] for s in agreed["signatures"]] == ["ALPHA", "BRAVO", "SUPERVISOR"]
    listed = client.get(
        "/api/v1/protected-places", params={"agreed": True}, headers=token_for("host.observer")
    )
    assert [p["id"] for p in listed.json()] == [place["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**COMMUNITY, "population": None}, "population"),
        ({**COMMUNITY, "geometry": {"type": "Point", "coordinates": [36.5, 32.7]}}, "geometry"),
        ({**COMMUNITY, "kind": "fortress"}, "kind"),
        ({**COMMUNITY, "buffer_m": 100_000}, "buffer_m"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(
    client: TestClient,
    db: Session,
    token_for: Callable[[str], dict[str, str]],
    body: dict,
    field: str,
) -> None:
    headers = token_for("hum1.coordinator")
    db.rollback()
    size = log_size(db)
    response = client.post("/api/v1/protected-places", json=body, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:fusioncell:problem:invalid-input" and problem["field"] == field
    db.rollback()
    assert log_size(db) == size


def test_a_non_signatory_is_refused_as_a_problem(
    client: TestClient, db: Session, token_for: Callable[[str], dict[str, str]]
) -> None:
    place = client.post(
        "/api/v1/protected-places", json=COMMUNITY, headers=token_for("hum1.coordinator")
    ).json()
    verifier = token_for("verifier.lead")  # issuing the token is an entry of its own
    db.rollback()
    size = log_size(db)
    refused = client.post(f"/api/v1/protected-places/{place['id']}/signatures", headers=verifier)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    db.rollback()
    assert log_size(db) == size


def test_each_party_gets_its_list_in_three_formats_that_agree_and_acknowledges_receipt(
    client: TestClient, token_for: Callable[[str], dict[str, str]]
) -> None:
    place = client.post(
        "/api/v1/protected-places", json=COMMUNITY, headers=token_for("hum1.coordinator")
    ).json()
    _agree(client, token_for, place["id"])
    sent = client.post("/api/v1/no-strike-lists", json={}, headers=token_for("supervisor.chair"))
    assert sent.status_code == 201, sent.text
    alpha = next(item for item in sent.json() if item["party"] == "ALPHA")
    assert alpha["places"] == 8 and alpha["acknowledged"] is False
    reader = token_for("bravo.liaison")
    geojson = client.get(alpha["exports"]["geojson"], headers=reader)
    assert geojson.headers["content-type"].startswith("application/geo+json")
    document = geojson.json()
    content = {"type": "FeatureCollection", "features": document["features"]}
    assert document["no_strike_list"]["sha256"] == alpha["sha256"]
    assert hashlib.sha256(canonical(content)).hexdigest() == alpha["sha256"]
    kml = client.get(alpha["exports"]["kml"], headers=reader)
    tree = etree.fromstring(kml.content)
    names = [n.text for n in tree.iter(f"{KML}name")]
    assert "Suwayda" in names and len(list(tree.iter(f"{KML}Placemark"))) == 8
    assert len(list(tree.iter(f"{KML}Polygon"))) == 1
    rows = list(
        csv.DictReader(io.StringIO(client.get(alpha["exports"]["csv"], headers=reader).text))
    )
    assert len(rows) == 8
    community = next(r for r in rows if r["kind"] == "community")
    assert community["wkt"].startswith("POLYGON") and community["sha256"] == alpha["sha256"]
    # Only ALPHA's focal point acknowledges ALPHA's list.
    url = f"/api/v1/no-strike-lists/{alpha['id']}/acknowledge"
    assert client.post(url, headers=token_for("bravo.liaison")).status_code == 403
    acked = client.post(url, headers=token_for("alpha.liaison"))
    assert acked.status_code == 200
    assert acked.json()["acknowledged"] is True
    assert acked.json()["meaning"] == "An acknowledgement is receipt, never approval."
    bad = client.get(
        f"/api/v1/no-strike-lists/{alpha['id']}/export", params={"format": "shp"}, headers=reader
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM


def test_an_incident_near_a_community_answers_with_its_alert_which_recipients_acknowledge(
    client: TestClient, clock: ManualClock, token_for: Callable[[str], dict[str, str]]
) -> None:
    place = client.post(
        "/api/v1/protected-places", json=COMMUNITY, headers=token_for("hum1.coordinator")
    ).json()
    _agree(client, token_for, place["id"])
    report = client.post(
        "/api/v1/incidents",
        json={
            "kind": "access_denied",
            "affects": "community",
            "target": place["id"],
            "occurred_at": (clock.now() - timedelta(minutes=5)).isoformat(),
            "description": "The road into the town was closed to the team",
            "location": {"type": "Point", "coordinates": list(NEAR_SUWAYDA)},
            "evidence": [{"sha256": "ef" * 32, "name": "log.txt", "size": 10}],
            "attributed_to": "BRAVO",
            "denied": "verifier",
        },
        headers=token_for("verifier.lead"),
    )
    assert report.status_code == 201, report.text
    incident = report.json()
    assert incident["attributed_to"] == "BRAVO" and incident["reported_by"] == "VERIFIER"
    [alert_id] = incident["alerts"]
    hum = token_for("hum1.coordinator")
    [alert] = client.get("/api/v1/early-warnings", headers=hum).json()
    assert alert["id"] == alert_id and alert["community_name"] == "Suwayda"
    assert {r["organisation"] for r in alert["recipients"]} == {"BRAVO", "HUM-1", "SUPERVISOR"}
    # The verifier reported it but is no recipient of the alert.
    missing = client.get(f"/api/v1/early-warnings/{alert_id}", headers=token_for("verifier.lead"))
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    acked = client.post(f"/api/v1/early-warnings/{alert_id}/acknowledge", headers=hum)
    assert acked.status_code == 200
    mine = next(r for r in acked.json()["recipients"] if r["organisation"] == "HUM-1")
    assert mine["acknowledged"] is True and acked.json()["meaning"].endswith("never approval.")
    listed = client.get(
        "/api/v1/incidents", params={"attributed_to": "BRAVO"}, headers=token_for("alpha.liaison")
    )
    assert [i["id"] for i in listed.json()] == [incident["id"]]
    assert json.loads(json.dumps(listed.json()))[0]["evidence"][0]["sha256"] == "ef" * 32


def test_a_party_that_acknowledged_the_alerts_hotline_message_has_received_the_alert(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    token_for: Callable[[str], dict[str, str]],
    log_in: Callable[..., str],
) -> None:
    """The duty officer's inbox is where a party hears an alert: its receipt there is the
    alert's receipt, on the alert's API and page."""
    from sqlalchemy import select

    from fusioncell.hotline.actions.channels import bilateral_channel_id
    from fusioncell.hotline.models import Message
    from fusioncell.scenario.demo import stable_id

    place = client.post(
        "/api/v1/protected-places", json=COMMUNITY, headers=token_for("hum1.coordinator")
    ).json()
    _agree(client, token_for, place["id"])
    incident = client.post(
        "/api/v1/incidents",
        json={
            "kind": "threat",
            "affects": "community",
            "target": place["id"],
            "occurred_at": (clock.now() - timedelta(minutes=5)).isoformat(),
            "description": "Armed men at the northern entrance",
            "location": {"type": "Point", "coordinates": list(NEAR_SUWAYDA)},
            "evidence": [{"sha256": "ef" * 32, "name": "photo.jpg", "size": 10}],
            "attributed_to": "BRAVO",
        },
        headers=token_for("hum1.coordinator"),
    ).json()
    [alert_id] = incident["alerts"]
    db.rollback()
    [message] = db.scalars(
        select(Message).where(
            Message.form == "early_warning_incident",
            Message.channel_id == bilateral_channel_id(stable_id("organisation", "BRAVO")),
        )
    ).all()

    def receipts() -> dict[str, tuple[bool, str | None]]:
        alert = client.get(
            f"/api/v1/early-warnings/{alert_id}", headers=token_for("supervisor.chair")
        ).json()
        return {
            r["organisation"]: (r["acknowledged"], r["acknowledged_through"])
            for r in alert["recipients"]
        }

    assert receipts()["BRAVO"] == (False, None)
    acked = client.post(f"/api/v1/messages/{message.id}/ack", headers=token_for("bravo.duty"))
    assert acked.status_code == 201, acked.text
    assert receipts() == {
        "BRAVO": (True, "hotline"),
        "HUM-1": (False, None),
        "SUPERVISOR": (False, None),
    }
    alert = client.get(f"/api/v1/early-warnings/{alert_id}", headers=token_for("bravo.liaison"))
    [bravo] = [r for r in alert.json()["recipients"] if r["organisation"] == "BRAVO"]
    assert bravo["ack_log_index"] == acked.json()["log_index"]
    # Acknowledging it here afterwards changes nothing of BRAVO's receipt.
    again = client.post(
        f"/api/v1/early-warnings/{alert_id}/acknowledge", headers=token_for("bravo.duty")
    )
    assert again.status_code == 200
    [bravo] = [r for r in again.json()["recipients"] if r["organisation"] == "BRAVO"]
    assert (bravo["acknowledged_through"], bravo["ack_log_index"]) == (
        "hotline",
        acked.json()["log_index"],
    )
    # The page says where BRAVO's receipt was given, to whoever reads the alert there.
    client.cookies.clear()
    log_in("supervisor.chair")
    page = client.get("/deconfliction/incidents", headers={"Accept": "text/html"})
    assert page.status_code == 200
    row = page.text[page.text.index(f'id="alert-{alert_id}"') :]
    bravo_row = row[row.index('data-organisation="BRAVO"') :]
    assert "receipt acknowledged" in bravo_row[: bravo_row.index("</li>")]
    assert "in its hotline inbox" in bravo_row[: bravo_row.index("</li>")]
