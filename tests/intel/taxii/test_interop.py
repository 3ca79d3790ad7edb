"""Real TAXII clients against a live server: taxii2-client (discovery, collections,
add_objects and status, as_pages, manifest, versions, delete) and stix2's
TAXIICollectionSink/Source round trip, keeping markings and confidence; releasability across
TAXII for every demo organisation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stix2  # type: ignore[import-untyped]
from fastapi import FastAPI
from taxii2client.v21 import Collection, Server, as_pages  # type: ignore[import-untyped]
from tests.intel.factories import indicator, stix_id
from tests.intel.taxii.helpers import PASSWORD, released, submitted
from tests.servers import serve_in_thread

from fusioncell.intel import stix

MEMBERS = {
    "ALPHA": "alpha.analyst",
    "BRAVO": "bravo.analyst",
    "SUPERVISOR": "supervisor.chair",
    "VERIFIER": "verifier.lead",
    "HOST": "host.observer",
    "HUM-1": "hum1.coordinator",
}


@pytest.fixture
def base(app: FastAPI, demo: None) -> Iterator[str]:
    with serve_in_thread(app) as url:
        yield url


def collection(base: str, collection_id: str, username: str) -> Collection:
    return Collection(
        f"{base}/taxii2/cell/collections/{collection_id}/", user=username, password=PASSWORD
    )


def test_taxii2_client_discovers_adds_pages_and_deletes(base: str) -> None:
    server = Server(f"{base}/taxii2/", user="alpha.analyst", password=PASSWORD)
    assert server.title and server.default.url == f"{base}/taxii2/cell/"
    root = server.api_roots[0]
    assert root.max_content_length > 0
    by_id = {c.id: c for c in root.collections}
    assert set(by_id) == {released("ALPHA"), submitted("ALPHA")}
    own = by_id[submitted("ALPHA")]
    assert own.can_write and not by_id[released("ALPHA")].can_write

    objects = [indicator(f"Indicator {n}") for n in range(45)]
    status = own.add_objects({"objects": objects})
    assert status.status == "complete" and status.success_count == 45
    status.refresh()
    assert status.total_count == 45

    seen: list[str] = []
    for page in as_pages(own.get_objects, per_request=20, **{"type": "indicator"}):
        seen += [o["id"] for o in page.get("objects", [])]
    assert sorted(seen) == sorted(o["id"] for o in objects)

    manifest = own.get_manifest(type="indicator")
    assert {m["id"] for m in manifest["objects"]} <= {o["id"] for o in objects}
    assert all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest["objects"])

    first = objects[0]
    newer = {**first, "modified": "2026-01-07T08:00:00.000Z", "name": "Indicator 0, revised"}
    own.add_objects({"objects": [newer]})
    versions = own.object_versions(first["id"])
    assert sorted(versions["versions"]) == [first["modified"], newer["modified"]]
    latest = own.get_object(first["id"])
    assert [o["name"] for o in latest["objects"]] == ["Indicator 0, revised"]

    own.delete_object(first["id"])
    with pytest.raises(requests.HTTPError):
        own.get_object(first["id"])
    remaining = own.get_objects(type="indicator")
    assert first["id"] not in {o["id"] for o in remaining["objects"]}


def test_stix2_sink_and_source_round_trip_keeps_markings_and_confidence(base: str) -> None:
    statement = stix2.MarkingDefinition(
        definition_type="statement", definition=stix2.StatementMarking("Handle with care")
    )
    made = stix2.Indicator(
        name="Launcher seen",
        pattern="[ipv4-addr:value = '203.0.113.9']",
        pattern_type="stix",
        valid_from="2026-01-06T08:00:00Z",
        confidence=85,
        object_marking_refs=[stix.TLP_IDS["amber+strict"], statement.id],
    )
    sink = stix2.TAXIICollectionSink(collection(base, submitted("BRAVO"), "bravo.analyst"))
    sink.add([statement, made])
    source = stix2.TAXIICollectionSource(collection(base, submitted("BRAVO"), "bravo.analyst"))
    back = source.get(made.id)
    assert back is not None
    assert back.confidence == 85
    assert stix.TLP_IDS["amber+strict"] in back.object_marking_refs
    assert statement.id in back.object_marking_refs
    assert source.get(statement.id) is not None
    # Without a releasability marking: BRAVO and the supervisor, nobody else.
    chair = stix2.TAXIICollectionSource(
        collection(base, released("SUPERVISOR"), "supervisor.chair")
    )
    assert chair.get(made.id) is not None


def _held(base: str, slug: str, wanted: set[str]) -> set[str] | None:
    """What an organisation's member reads of ``wanted`` through its collection (None: the
    member has no collection)."""
    server = Server(f"{base}/taxii2/", user=MEMBERS[slug], password=PASSWORD)
    collections = server.default.collections
    if not collections:
        return None
    (own,) = [c for c in collections if c.id == released(slug)]
    found: set[str] = set()
    for page in as_pages(own.get_objects, per_request=50):
        found |= {o["id"] for o in page.get("objects", [])} & wanted
    for item in wanted:
        try:
            own.get_object(item)
            found.add(item)
        except requests.HTTPError:
            pass
    return found


@pytest.mark.parametrize("release_to", [(), ("BRAVO",), ("VERIFIER", "HUM-1"), ("HOST",)])
def test_each_organisations_collection_holds_exactly_what_is_released_to_it(
    base: str, release_to: tuple[str, ...]
) -> None:
    marking = stix.releasability_marking(release_to) if release_to else None
    extra = {"object_marking_refs": [marking["id"]]} if marking else {}
    objects: list[dict[str, Any]] = [indicator("Released", id_=stix_id("indicator"), **extra)]
    if marking:
        objects.insert(0, marking)
    own = collection(base, submitted("ALPHA"), "alpha.liaison")
    assert own.add_objects({"objects": objects}).success_count == len(objects)
    wanted = {objects[-1]["id"]}
    audience = {"ALPHA", "SUPERVISOR", *release_to}
    for slug in MEMBERS:
        held = _held(base, slug, wanted)
        if slug in audience:
            assert held == wanted, slug
        else:
            assert not held, slug
