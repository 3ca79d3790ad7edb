"""TAXII's versions and media types: STIX 2.0 objects added in an envelope (validated as 2.0,
served as application/stix+json;version=2.0), "last" and "first" chosen by ``modified`` as
instants whatever their fractional-second precision, ``match[spec_version]`` (without one,
each object's latest spec version), and a body over the app's limit refused as a TAXII error
message."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.intel.factories import indicator, stix_id
from tests.intel.taxii.helpers import ROOT, TAXII, basic, envelope, posting, submitted

from fusioncell.config import Settings
from fusioncell.intel.models import Report, StixObject
from fusioncell.intel.taxii.queries import sortable_version
from fusioncell.ledger.models import LogEntry

STIX_20 = "application/stix+json;version=2.0"
STIX_21 = "application/stix+json;version=2.1"
URL = f"{ROOT}/collections/{submitted('ALPHA')}/objects/"


def indicator_20(*, id_: str | None = None, modified: str = "2026-01-06T08:00:00.000Z") -> Any:
    """A STIX 2.0 indicator: no spec_version, labels required, no pattern_type."""
    return {
        "type": "indicator",
        "id": id_ or stix_id("indicator"),
        "created": "2026-01-06T08:00:00.000Z",
        "modified": modified,
        "labels": ["malicious-activity"],
        "name": "Convoy staging (2.0)",
        "pattern": "[ipv4-addr:value = '198.51.100.9']",
        "valid_from": "2026-01-06T08:00:00.000Z",
    }


def _get(client: TestClient, path: str) -> Any:
    found = client.get(path, headers=basic("alpha.analyst"))
    assert found.status_code == 200, found.text
    return found.json()


def test_stix_20_objects_are_validated_as_20_and_served_with_their_media_type(
    client: TestClient, demo: None, db: Session
) -> None:
    old = indicator_20()
    added = client.post(URL, json=envelope(old), headers=posting("alpha.analyst"))
    assert added.status_code == 202, added.text
    stored = db.query(StixObject).filter(StixObject.stix_id == old["id"]).one()
    assert stored.spec_version == "2.0"
    db.rollback()
    manifest = _get(client, f"{ROOT}/collections/{submitted('ALPHA')}/manifest/")
    media = {row["id"]: row["media_type"] for row in manifest["objects"]}
    assert media[old["id"]] == STIX_20
    assert STIX_20 in media.values() and STIX_21 in media.values()  # the markings are 2.1
    served = _get(client, f"{URL}{old['id']}/")["objects"]
    assert [o["id"] for o in served] == [old["id"]]
    assert "spec_version" not in served[0] and "confidence" not in served[0]
    assert served[0]["labels"] == ["malicious-activity"]

    # 2.0's own rules apply: an indicator without labels is valid 2.1 but not 2.0.
    before = db.query(LogEntry).count(), db.query(Report).count()
    db.rollback()
    unlabelled = {k: v for k, v in indicator_20().items() if k != "labels"}
    refused = client.post(URL, json=envelope(unlabelled), headers=posting("alpha.analyst"))
    assert refused.status_code == 422 and refused.headers["content-type"] == TAXII
    assert refused.json()["details"]["errors"][0]["object"] == unlabelled["id"]
    assert "labels" in refused.json()["details"]["errors"][0]["rule"]
    assert (db.query(LogEntry).count(), db.query(Report).count()) == before


def test_last_and_first_compare_modified_as_instants_not_text(
    client: TestClient, demo: None
) -> None:
    # As text ".000Z" sorts after ".0005Z" ("Z" after "5"); as instants it is earlier.
    object_id = stix_id("indicator")
    earlier, later = "2026-01-06T08:00:01.000Z", "2026-01-06T08:00:01.0005Z"
    for modified in (later, earlier):
        posted = client.post(
            URL,
            json=envelope(indicator(id_=object_id, modified=modified)),
            headers=posting("alpha.analyst"),
        )
        assert posted.status_code == 202, posted.text
    last = _get(client, f"{URL}{object_id}/")["objects"]
    assert [o["modified"] for o in last] == [later]
    first = _get(client, f"{URL}{object_id}/?match[version]=first")["objects"]
    assert [o["modified"] for o in first] == [earlier]
    listed = _get(client, f"{URL}?match[id]={object_id}")["objects"]
    assert [o["modified"] for o in listed] == [later]
    # A version named with another precision is the same instant.
    named = _get(client, f"{URL}{object_id}/?match[version]=2026-01-06T08:00:01.000500Z")
    assert [o["modified"] for o in named["objects"]] == [later]
    versions = _get(client, f"{URL}{object_id}/versions/")["versions"]
    assert sorted(versions, key=sortable_version) == [earlier, later]


def test_sortable_version_orders_instants() -> None:
    stamps = [
        "2026-01-06T08:00:01.5Z",
        "2026-01-06T08:00:01Z",
        "2026-01-06T08:00:01.0005Z",
        "2026-01-06T08:00:00.999999Z",
        "2026-01-06T08:00:01.123456789Z",
    ]
    assert sorted(stamps, key=sortable_version) == [
        "2026-01-06T08:00:00.999999Z",
        "2026-01-06T08:00:01Z",
        "2026-01-06T08:00:01.0005Z",
        "2026-01-06T08:00:01.123456789Z",
        "2026-01-06T08:00:01.5Z",
    ]
    assert sortable_version("2026-01-06T08:00:01Z") == sortable_version("2026-01-06T08:00:01.000Z")


def test_without_match_spec_version_each_object_is_served_in_its_latest_spec_version(
    client: TestClient, demo: None
) -> None:
    object_id = stix_id("indicator")
    # The 2.0 version is the later one: without match[spec_version] the 2.1 one still wins.
    for item in (
        indicator(id_=object_id, modified="2026-01-06T08:00:01.000Z"),
        indicator_20(id_=object_id, modified="2026-01-06T09:00:00.000Z"),
    ):
        posted = client.post(URL, json=envelope(item), headers=posting("alpha.analyst"))
        assert posted.status_code == 202, posted.text

    def modified(query: str) -> list[tuple[str, str]]:
        found = _get(client, f"{URL}?match[id]={object_id}{query}").get("objects", [])
        return [(o.get("spec_version", "2.0"), o["modified"]) for o in found]

    assert modified("") == [("2.1", "2026-01-06T08:00:01.000Z")]
    assert modified("&match[spec_version]=") == [("2.1", "2026-01-06T08:00:01.000Z")]
    assert modified("&match[spec_version]=2.0") == [("2.0", "2026-01-06T09:00:00.000Z")]
    assert modified("&match[spec_version]=2.0,2.1") == [("2.0", "2026-01-06T09:00:00.000Z")]
    assert sorted(modified("&match[spec_version]=2.0,2.1&match[version]=all")) == [
        ("2.0", "2026-01-06T09:00:00.000Z"),
        ("2.1", "2026-01-06T08:00:01.000Z"),
    ]
    manifest = _get(
        client, f"{ROOT}/collections/{submitted('ALPHA')}/manifest/?match[id]={object_id}"
    )
    assert [row["media_type"] for row in manifest["objects"]] == [STIX_21]
    versions = _get(client, f"{URL}{object_id}/versions/")["versions"]
    assert versions == ["2026-01-06T08:00:01.000Z"]


def test_a_body_over_the_apps_limit_is_a_taxii_error_elsewhere_a_problem(
    client: TestClient, demo: None, db: Session, settings: Settings
) -> None:
    limit = settings.max_body_bytes
    body = b'{"objects": [' + b" " * limit + b"]}"
    refused = client.post(URL, content=body, headers=posting("alpha.analyst"))
    assert refused.status_code == 413
    assert refused.headers["content-type"] == TAXII
    message = refused.json()
    assert message["http_status"] == "413" and message["error_code"] == "payload-too-large"
    assert db.query(Report).count() == 0
    db.rollback()
    # Not a TAXII route (an unknown API root, the app's API): problem+json as before.
    for path in ("/no-such-root/collections/x/objects/", "/api/v1/intel/reports"):
        other = client.post(path, content=body, headers=posting("alpha.analyst"))
        assert other.status_code == 413
        assert other.headers["content-type"] == "application/problem+json", path
