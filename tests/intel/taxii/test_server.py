"""The TAXII 2.1 server in process: discovery, API root, collections per organisation, adding
objects as a signed report with a status resource, reading them back page by page, and what
each organisation's collection holds."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.intel.factories import indicator, stix_id
from tests.intel.taxii.helpers import (
    PASSWORD,
    ROOT,
    TAXII,
    basic,
    envelope,
    posting,
    released,
    submitted,
)
from tests.querycount import assert_constant

from fusioncell.intel.models import Report, StixObject
from fusioncell.ledger.models import LogEntry


def test_discovery_names_the_cells_api_root_and_each_member_sees_their_organisations_collections(
    client: TestClient, demo: None
) -> None:
    found = client.get("/taxii2/", headers=basic("alpha.analyst"))
    assert found.status_code == 200, found.text
    assert found.headers["content-type"] == TAXII
    assert found.json()["api_roots"] == ["http://testserver/taxii2/cell/"]
    assert found.json()["default"] == "http://testserver/taxii2/cell/"
    root = client.get(f"{ROOT}/", headers=basic("alpha.analyst")).json()
    assert root["versions"] == [TAXII] and root["max_content_length"] > 0
    collections = client.get(f"{ROOT}/collections/", headers=basic("alpha.analyst")).json()
    assert [(c["id"], c["can_read"], c["can_write"]) for c in collections["collections"]] == [
        (released("ALPHA"), True, False),
        (submitted("ALPHA"), True, True),
    ]
    chair = client.get(f"{ROOT}/collections/", headers=basic("supervisor.chair")).json()
    assert [c["id"] for c in chair["collections"]] == [released("SUPERVISOR")]
    assert (
        client.get(
            f"{ROOT}/collections/{released('ALPHA')}/", headers=basic("bravo.analyst")
        ).status_code
        == 404
    )
    # A duty officer reads no intelligence: no API root is listed to it, none named default,
    # and the cell's root answers it 404, as discovery let it expect.
    duty = client.get("/taxii2/", headers=basic("alpha.duty"))
    assert duty.status_code == 200, duty.text
    assert duty.json()["api_roots"] == [] and "default" not in duty.json()
    assert client.get(f"{ROOT}/", headers=basic("alpha.duty")).status_code == 404


def test_a_party_adds_an_envelope_reads_it_back_and_a_retry_adds_nothing(
    client: TestClient, demo: None, db: Session
) -> None:
    objects = [indicator(f"Indicator {n}") for n in range(5)]
    url = f"{ROOT}/collections/{submitted('ALPHA')}/objects/"
    added = client.post(url, json=envelope(*objects), headers=posting("alpha.analyst"))
    assert added.status_code == 202, added.text
    status = added.json()
    assert status["status"] == "complete" and status["success_count"] == 5
    again = client.post(url, json=envelope(*objects), headers=posting("alpha.analyst"))
    assert again.status_code == 202 and again.json()["success_count"] == 5
    assert db.query(Report).count() == 1
    assert db.query(StixObject).filter(StixObject.stix_type == "indicator").count() == 5
    entries = [e.entry_type for e in db.query(LogEntry).order_by(LogEntry.index)]
    assert entries.count("intel.report.submitted") == 1
    db.rollback()

    read = client.get(url, headers=basic("alpha.analyst"))
    assert read.status_code == 200, read.text
    got = {o["id"] for o in read.json()["objects"] if o["type"] == "indicator"}
    assert got == {o["id"] for o in objects}
    assert read.headers["X-TAXII-Date-Added-First"] <= read.headers["X-TAXII-Date-Added-Last"]
    status_url = f"{ROOT}/status/{status['id']}/"
    assert client.get(status_url, headers=basic("alpha.analyst")).json()["id"] == status["id"]
    assert client.get(status_url, headers=basic("bravo.analyst")).status_code == 404

    # Without a releasability marking: the party and the supervisor only.
    for who, slug, count in (
        ("supervisor.chair", "SUPERVISOR", 5),
        ("bravo.analyst", "BRAVO", 0),
        ("verifier.lead", "VERIFIER", 0),
        ("alpha.liaison", "ALPHA", 5),
    ):
        page = client.get(
            f"{ROOT}/collections/{released(slug)}/objects/?match[type]=indicator",
            headers=basic(who),
        )
        assert page.status_code == 200, (who, page.text)
        assert len(page.json().get("objects", [])) == count, who


def test_pages_follow_next_and_changed_filters_are_refused(client: TestClient, demo: None) -> None:
    url = f"{ROOT}/collections/{submitted('BRAVO')}/objects/"
    objects = [indicator(f"Indicator {n}", id_=stix_id("indicator")) for n in range(7)]
    assert (
        client.post(url, json=envelope(*objects), headers=posting("bravo.analyst")).status_code
        == 202
    )
    seen: list[str] = []
    query = "?match[type]=indicator&limit=3"
    page = client.get(url + query, headers=basic("bravo.analyst")).json()
    seen += [o["id"] for o in page["objects"]]
    while page["more"]:
        following = client.get(
            url + query + f"&next={page['next']}", headers=basic("bravo.analyst")
        )
        assert following.status_code == 200, following.text
        page = following.json()
        seen += [o["id"] for o in page.get("objects", [])]
    assert sorted(seen) == sorted(o["id"] for o in objects) and len(seen) == 7
    first = client.get(url + query, headers=basic("bravo.analyst")).json()
    changed = client.get(
        url + f"?match[type]=report&limit=3&next={first['next']}", headers=basic("bravo.analyst")
    )
    assert changed.status_code == 400
    assert changed.headers["content-type"] == TAXII
    assert changed.json()["http_status"] == "400"


def test_wrong_media_types_and_credentials_are_taxii_errors(client: TestClient, demo: None) -> None:
    wrong = client.get("/taxii2/", headers={**basic("alpha.analyst"), "Accept": "text/html"})
    assert wrong.status_code == 406 and wrong.headers["content-type"] == TAXII
    url = f"{ROOT}/collections/{submitted('ALPHA')}/objects/"
    plain = client.post(
        url,
        json=envelope(indicator()),
        headers={**basic("alpha.analyst"), "Content-Type": "application/json"},
    )
    assert plain.status_code == 415 and "title" in plain.json()
    nobody = client.get("/taxii2/", headers={"Accept": TAXII})
    assert nobody.status_code == 401 and nobody.headers["www-authenticate"].startswith("Basic")
    bad = client.get("/taxii2/", headers=basic("alpha.analyst", "wrong"))
    assert bad.status_code == 401 and bad.json()["error_code"] == "invalid-credentials"


def test_bad_input_is_a_taxii_error_and_nothing_is_appended(
    client: TestClient, demo: None, db: Session, token_for: Callable[[str], dict[str, str]]
) -> None:
    def entries() -> int:
        count = db.query(LogEntry).count()
        db.rollback()
        return count

    before = entries()
    url = f"{ROOT}/collections/{submitted('ALPHA')}/objects/"
    broken = indicator()
    del broken["pattern"]
    invalid = client.post(url, json=envelope(broken), headers=posting("alpha.analyst"))
    assert invalid.status_code == 422 and invalid.headers["content-type"] == TAXII
    assert broken["id"] in invalid.json()["description"]
    assert invalid.json()["details"]["errors"][0]["object"] == broken["id"]
    assert entries() == before + 1  # the Basic login's token entry, nothing else

    read_only = client.post(
        f"{ROOT}/collections/{released('ALPHA')}/objects/",
        json=envelope(indicator()),
        headers=posting("alpha.analyst"),
    )
    assert read_only.status_code == 403 and read_only.json()["http_status"] == "403"
    observer = client.post(url, json=envelope(indicator()), headers=posting("host.observer"))
    assert observer.status_code == 404
    limit = client.get(f"{ROOT}/", headers=basic("alpha.analyst")).json()["max_content_length"]
    huge = json.dumps({"objects": [indicator(description="x" * (limit + 10))]}).encode()
    assert limit < len(huge) < limit + 2_000
    too_big = client.post(url, content=huge, headers=posting("alpha.analyst"))
    assert too_big.status_code == 413 and too_big.headers["content-type"] == TAXII
    not_json = client.post(url, content=b"{", headers=posting("alpha.analyst"))
    assert not_json.status_code == 400 and not_json.json()["http_status"] == "400"
    bad_limit = client.get(url + "?limit=zero", headers=basic("alpha.analyst"))
    assert bad_limit.status_code == 400
    bad_time = client.get(url + "?added_after=yesterday", headers=basic("alpha.analyst"))
    assert bad_time.status_code == 400
    unknown = client.get(f"{ROOT}/collections/nothing-here/", headers=basic("alpha.analyst"))
    assert unknown.status_code == 404 and unknown.headers["content-type"] == TAXII
    assert entries() == before + 2  # host.observer's login; still no report
    assert db.query(Report).count() == 0

    bearer = {**token_for("alpha.analyst"), "Accept": TAXII}
    assert client.get(f"{ROOT}/collections/", headers=bearer).status_code == 200


def test_basic_credentials_are_verified_once_and_not_after_a_password_change(
    client: TestClient, demo: None, app: FastAPI
) -> None:
    for _ in range(5):
        assert client.get("/taxii2/", headers=basic("alpha.analyst")).status_code == 200
    assert app.state.taxii_basic_logins.verified == 1
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a-new-long-password-9"},
        headers={k: v for k, v in basic("alpha.analyst").items() if k != "Accept"}
        | _bearer(client, "alpha.analyst"),
    )
    assert changed.status_code in (200, 204), changed.text
    assert client.get("/taxii2/", headers=basic("alpha.analyst")).status_code == 401
    fresh = basic("alpha.analyst", "a-new-long-password-9")
    assert client.get("/taxii2/", headers=fresh).status_code == 200


def _bearer(client: TestClient, username: str) -> dict[str, str]:
    issued = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {issued.json()['access_token']}"}


def test_a_page_of_objects_and_of_the_manifest_costs_the_same_however_many_objects(
    client: TestClient, demo: None, app: FastAPI
) -> None:
    url = f"{ROOT}/collections/{submitted('ALPHA')}/"
    headers = basic("alpha.analyst")

    def grow() -> None:
        more = [indicator(f"More {n}") for n in range(30)]
        added = client.post(
            url + "objects/", json=envelope(*more), headers=posting("alpha.analyst")
        )
        assert added.status_code == 202, added.text

    grow()
    for endpoint in ("objects/?limit=20", "manifest/?limit=20"):
        assert_constant(
            app.state.engine, lambda e=endpoint: client.get(url + e, headers=headers), grow
        )
