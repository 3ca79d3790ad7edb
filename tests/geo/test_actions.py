"""Geometry versions through their actions: a version is in force only once both parties and
the supervisor have signed its content hash; each proposal and signature is a signed entry;
bad geometry, a stranger's signature or a wrong hash writes nothing; retries write nothing
new."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.conftest import DEMO_PASSWORD
from tests.helpers.tables import table_counts

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.deescalation.queries import geometry_in_force
from fusioncell.errors import Conflict, Forbidden, IdempotencyConflict, InvalidInput
from fusioncell.geo import queries
from fusioncell.geo.actions import do_sign_geometry_version
from fusioncell.geo.collection import content_hash
from fusioncell.geo.derive import demo_geometry_proposal, demo_site_features, demo_zone_features
from fusioncell.geo.entries import GeoEntry
from fusioncell.geo.models import GeometrySignature, GeometryVersion
from fusioncell.ledger.entries import parse_leaf
from fusioncell.ledger.models import EntryBody, LogAudience, LogEntry, LogKey
from fusioncell.scenario import geometry
from fusioncell.scenario.demo import stable_id

from .versions import SIGNATORIES, SOURCE, demo_with, feature, propose, sign

Lookup = Callable[[str], Viewer]


def _entries(db: Session, entry_type: GeoEntry) -> list[tuple[LogEntry, dict[str, Any]]]:
    rows = db.scalars(
        select(LogEntry).where(LogEntry.entry_type == entry_type.value).order_by(LogEntry.index)
    ).all()
    out = []
    for row in rows:
        body = db.get(EntryBody, row.index)
        assert body is not None
        out.append((row, json.loads(body.body)))
    return out


def _author(db: Session, entry: LogEntry) -> str | None:
    key = db.get(LogKey, parse_leaf(entry.leaf).header["author"])
    return None if key is None else str(key.member_id)


def test_the_demo_geometry_is_version_1_signed_by_both_parties_and_the_supervisor(
    db: Session, member: Lookup
) -> None:
    viewer = member("host.observer")
    version = queries.version_in_force(db, viewer)

    assert version is not None and version.number == 1
    assert version.authoritative is False
    assert version.proposed_by == stable_id("member", "supervisor.chair")
    signed = queries.signatures_of(db, viewer, [version.id])[version.id]
    assert {s.member_id for s in signed} == {stable_id("member", u) for u in SIGNATORIES}
    assert version.in_force_log_index == max(s.log_index for s in signed)
    # The zones and sites it serves are those the demo always had.
    assert queries.list_zones(db, viewer)["features"] == sorted(
        demo_zone_features(), key=lambda f: (f["properties"]["kind"], f["id"])
    )
    assert queries.list_sites(db, viewer)["features"] == sorted(
        demo_site_features(), key=lambda f: f["id"]
    )


def test_a_version_comes_into_force_only_when_both_parties_and_the_supervisor_have_signed(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    observer = member("host.observer")
    clock.advance(3600)
    version = propose(db, member("alpha.liaison"), clock)
    assert version.number == 2
    assert version.in_force_from is None

    for count, username in enumerate(SIGNATORIES, start=1):
        in_force = queries.version_in_force(db, observer)
        assert in_force is not None and in_force.number == 1, username
        sign(db, member, clock, version, [username])
        db.expire_all()
        assert len(queries.signatures_of(db, observer, [version.id])[version.id]) == count

    in_force = queries.version_in_force(db, observer)
    assert in_force is not None and in_force.id == version.id
    last = db.scalars(
        select(GeometrySignature).order_by(GeometrySignature.log_index.desc()).limit(1)
    ).one()
    assert (in_force.in_force_log_index, in_force.in_force_from) == (
        last.log_index,
        last.signed_at,
    )
    served = queries.list_sites(db, observer)
    assert served["version"]["number"] == 2
    assert "new-site" in {f["id"] for f in served["features"]}


def test_each_proposal_and_signature_is_an_entry_for_everyone_by_its_author(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    version = propose(db, member("bravo.liaison"), clock)
    sign(db, member, clock, version)

    [*_, (proposed, body)] = _entries(db, GeoEntry.GEO_VERSION_PROPOSED)
    assert body["version"] == str(version.id)
    assert (
        body["content_hash"]
        == version.content_hash
        == content_hash(body["collection"], authoritative=False, source=SOURCE)
    )
    assert body["signatories"] == ["ALPHA", "BRAVO", "SUPERVISOR"]
    assert body["member"] == str(stable_id("member", "bravo.liaison"))
    assert _author(db, proposed) == body["member"]
    signatures = [
        e for e in _entries(db, GeoEntry.GEO_VERSION_SIGNED) if e[1]["version"] == str(version.id)
    ]
    assert [(b["organisation"], b["content_hash"], b["version_index"]) for _, b in signatures] == [
        (o, version.content_hash, proposed.index) for o in ("ALPHA", "BRAVO", "SUPERVISOR")
    ]
    for entry, signed in signatures:
        assert _author(db, entry) == signed["member"]
    for entry in [proposed, *(e for e, _ in signatures)]:
        audience = db.scalars(
            select(LogAudience).where(LogAudience.entry_index == entry.index)
        ).all()
        assert [(a.kind, a.value) for a in audience] == [("all", "")]


@pytest.mark.parametrize("username", ["alpha.liaison", "supervisor.chair", "cell.admin"])
def test_a_liaison_officer_the_supervisor_or_the_operator_proposes(
    db: Session, clock: ManualClock, member: Lookup, username: str
) -> None:
    version = propose(db, member(username), clock)

    assert version.proposed_by == stable_id("member", username)
    assert version.number == 2


@pytest.mark.parametrize(
    "username", ["alpha.analyst", "bravo.duty", "verifier.lead", "host.observer"]
)
def test_others_may_not_propose_and_nothing_is_written(
    db: Session, clock: ManualClock, member: Lookup, username: str
) -> None:
    actor = member(username)
    before = table_counts(db)

    with pytest.raises(Forbidden):
        propose(db, actor, clock)

    assert table_counts(db) == before


@pytest.mark.parametrize(
    "username",
    ["alpha.analyst", "alpha.duty", "bravo.duty", "verifier.lead", "host.observer", "cell.admin"],
)
def test_someone_who_is_not_a_signatory_may_not_sign_and_nothing_is_written(
    db: Session, clock: ManualClock, member: Lookup, username: str
) -> None:
    version = propose(db, member("alpha.liaison"), clock)
    actor = member(username)
    before = table_counts(db)

    with pytest.raises(Forbidden):
        do_sign_geometry_version(
            db, actor, version_id=version.id, content_hash=version.content_hash, now=clock.now()
        )

    assert table_counts(db) == before


def test_signing_twice_is_one_signature(db: Session, clock: ManualClock, member: Lookup) -> None:
    version = propose(db, member("alpha.liaison"), clock)
    sign(db, member, clock, version, ["bravo.liaison"])
    before = table_counts(db)
    [first] = db.scalars(
        select(GeometrySignature).where(GeometrySignature.version_id == version.id)
    ).all()

    clock.advance(60)
    again = do_sign_geometry_version(
        db,
        member("bravo.liaison"),
        version_id=version.id,
        content_hash=version.content_hash,
        now=clock.now(),
    )

    assert (again.log_index, again.signed_at) == (first.log_index, first.signed_at)
    assert table_counts(db) == before


def test_signing_a_hash_that_is_not_the_versions_writes_nothing(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    version = propose(db, member("alpha.liaison"), clock)
    other = propose(db, member("alpha.liaison"), clock, demo_with(sites=[("x", 36.0, 33.0)]))
    before = table_counts(db)

    with pytest.raises(InvalidInput) as raised:
        do_sign_geometry_version(
            db,
            member("bravo.liaison"),
            version_id=version.id,
            content_hash=other.content_hash,
            now=clock.now(),
        )

    assert raised.value.extensions["content_hash"] == version.content_hash
    assert table_counts(db) == before


def test_a_version_older_than_the_one_in_force_can_no_longer_be_signed(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    older = propose(db, member("alpha.liaison"), clock)
    newer = propose(db, member("bravo.liaison"), clock, demo_with(sites=[("y", 36.0, 33.1)]))
    sign(db, member, clock, newer)
    before = table_counts(db)

    with pytest.raises(Conflict):
        sign(db, member, clock, older, ["alpha.liaison"])

    assert table_counts(db) == before


def test_proposing_again_with_the_same_id_is_one_version(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    actor = member("alpha.liaison")
    version_id = uuid.uuid4()
    first = propose(db, actor, clock, version_id=version_id)
    after_first = table_counts(db)
    clock.advance(60)

    again = propose(db, actor, clock, version_id=version_id)

    assert (again.id, again.number, again.log_index) == (first.id, first.number, first.log_index)
    assert table_counts(db) == after_first
    with pytest.raises(IdempotencyConflict):
        propose(db, actor, clock, demo_with(), version_id=version_id)
    assert table_counts(db) == after_first


def test_another_members_id_is_not_theirs_to_reuse(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    version_id = uuid.uuid4()
    first = propose(db, member("alpha.liaison"), clock, version_id=version_id)

    second = propose(db, member("bravo.liaison"), clock, version_id=version_id)

    assert second.id != first.id and second.number == first.number + 1


def _swapped(coordinates: Any) -> Any:
    if isinstance(coordinates[0], int | float):
        return [coordinates[1], coordinates[0]]
    return [_swapped(c) for c in coordinates]


def _edit(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    collection = copy.deepcopy(demo_geometry_proposal())
    change(collection)
    return collection


def _set_geometry(feature_id: str, geometry: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda c: feature(c, feature_id).update(geometry=geometry)


def _set_property(feature_id: str, name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda c: feature(c, feature_id)["properties"].update({name: value})


def _drop(feature_id: str) -> Callable[[dict[str, Any]], None]:
    return lambda c: c.update(features=[f for f in c["features"] if f["id"] != feature_id])


def _all_latitude_first(collection: dict[str, Any]) -> None:
    for f in collection["features"]:
        f["geometry"]["coordinates"] = _swapped(f["geometry"]["coordinates"])


def _unclosed(collection: dict[str, Any]) -> None:
    ring = feature(collection, "sector-s")["geometry"]["coordinates"][0]
    ring.pop()


BOW_TIE = {
    "type": "Polygon",
    "coordinates": [[[35.9, 33.0], [36.0, 33.1], [36.0, 33.0], [35.9, 33.1], [35.9, 33.0]]],
}
BAD: list[tuple[str, Any]] = [
    ("not a collection", {"type": "Feature", "geometry": None, "properties": {}}),
    ("no features", {"type": "FeatureCollection"}),
    ("a self-intersecting sector", _edit(_set_geometry("sector-s", BOW_TIE))),
    ("an unclosed ring", _edit(_unclosed)),
    ("latitude first", _edit(_all_latitude_first)),
    (
        "latitude out of range",
        _edit(_set_geometry("hader", {"type": "Point", "coordinates": [35.83, 95.0]})),
    ),
    (
        "a point outside the map",
        _edit(_set_geometry("hader", {"type": "Point", "coordinates": [0.0, 0.0]})),
    ),
    (
        "a position of one number",
        _edit(_set_geometry("hader", {"type": "Point", "coordinates": [35.83]})),
    ),
    ("a polygon for a site", _edit(_set_geometry("hader", BOW_TIE))),
    ("an unknown kind", _edit(_set_property("hader", "kind", "fortress"))),
    ("a limitation area given", _edit(_set_property("sector-s", "kind", "limitation"))),
    ("a side that is no party", _edit(_set_property("sector-s", "side", "CHARLIE"))),
    ("no name", _edit(_set_property("hader", "name", ""))),
    ("a line without its side", _edit(_set_property("line-a", "side", None))),
    ("both lines on one side", _edit(_set_property("line-b", "side", "ALPHA"))),
    ("one line only", _edit(_drop("line-b"))),
    ("no area of separation", _edit(_drop("area-of-separation"))),
    (
        "a line off the area's edge",
        _edit(
            _set_geometry(
                "line-a", {"type": "LineString", "coordinates": [[35.7, 33.4], [35.7, 32.8]]}
            )
        ),
    ),
    ("a bad id", _edit(lambda c: c["features"][0].update(id="Not An Id!"))),
    ("two features with one id", _edit(lambda c: c["features"].append(c["features"][-1]))),
]


@pytest.mark.parametrize("collection", [c for _, c in BAD], ids=[label for label, _ in BAD])
def test_geometry_that_is_not_valid_is_refused_and_nothing_is_written(
    db: Session, clock: ManualClock, member: Lookup, collection: Any
) -> None:
    actor = member("supervisor.chair")
    before = table_counts(db)

    with pytest.raises(InvalidInput):
        propose(db, actor, clock, collection)

    assert table_counts(db) == before


@pytest.mark.parametrize("source", ["", "   ", "x" * 2001])
def test_a_version_says_where_it_comes_from(
    db: Session, clock: ManualClock, member: Lookup, source: str
) -> None:
    before = table_counts(db)

    with pytest.raises(InvalidInput):
        propose(db, member("supervisor.chair"), clock, source=source)

    assert table_counts(db) == before


def test_the_limitation_areas_are_derived_from_the_proposed_area_of_separation(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    observer = member("host.observer")
    version = propose(
        db, member("supervisor.chair"), clock, demo_geometry_proposal(), source=geometry.SOURCE
    )
    assert version.collection == queries.version_in_force(db, observer).collection  # type: ignore[union-attr]
    assert version.content_hash == queries.version_in_force(db, observer).content_hash  # type: ignore[union-attr]

    kinds = [f["properties"]["kind"] for f in version.collection["features"]]
    assert kinds.count("limitation") == 6 and kinds.count("line") == 2


def test_the_engine_reads_the_zones_of_the_version_in_force(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    """A version that moves sector S changes the de-escalation engine's sector once, and only
    once, it is in force."""
    verifier = member("verifier.lead")
    moved = demo_geometry_proposal()
    feature(moved, "sector-s")["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[36.0, 32.7], [36.2, 32.7], [36.2, 33.0], [36.0, 33.0], [36.0, 32.7]]],
    }

    def sector_bounds() -> tuple[float, ...]:
        zones = {z.id: z for z in geometry_in_force(db, verifier).zones}
        return tuple(zones["sector-s"].geometry.bounds)

    assert sector_bounds() == (35.87, 32.6, 36.3, 33.35)
    version = propose(db, member("supervisor.chair"), clock, moved)
    sign(db, member, clock, version, SIGNATORIES[:2])
    assert sector_bounds() == (35.87, 32.6, 36.3, 33.35)
    sign(db, member, clock, version, SIGNATORIES[2:])
    assert sector_bounds() == (36.0, 32.7, 36.2, 33.0)
    # A past time still reads the first version, and so does the engine at that time; a
    # time before the first version came into force reads the first version too.
    past = queries.list_zones(db, verifier, at=clock.now() - timedelta(minutes=2))
    assert past["version"]["number"] == 1
    for before in (timedelta(minutes=2), timedelta(days=300)):
        then = geometry_in_force(db, verifier, at=clock.now() - before)
        zones = {z.id: z for z in then.zones}
        assert tuple(zones["sector-s"].geometry.bounds) == (35.87, 32.6, 36.3, 33.35)
    now = {z.id: z for z in geometry_in_force(db, verifier, at=clock.now()).zones}
    assert tuple(now["sector-s"].geometry.bounds) == (36.0, 32.7, 36.2, 33.0)


def test_before_any_version_is_in_force_there_are_no_zones(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    served = queries.list_zones(db, member("alpha.liaison"), at=clock.now() - timedelta(days=1))

    assert served == {"type": "FeatureCollection", "version": None, "features": []}


def test_the_version_rows_keep_every_version(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    for n in range(3):
        clock.advance(60)
        sign(
            db,
            member,
            clock,
            propose(
                db,
                member("supervisor.chair"),
                clock,
                demo_with(sites=[(f"s{n}", 36.0, 33.0 + n / 10)]),
            ),
        )

    numbers = db.scalars(select(GeometryVersion.number).order_by(GeometryVersion.number)).all()
    assert numbers == [1, 2, 3, 4]
    in_force = queries.version_in_force(db, member("alpha.liaison"))
    assert in_force is not None and in_force.number == 4


def test_loading_the_demo_again_from_a_fresh_session_changes_nothing(
    db: Session, clock: ManualClock, demo: None, app: FastAPI
) -> None:
    """Version 1 and its three signatures are found again by their ids: no new version, no
    new signature, no new entry."""
    from fusioncell.scenario.demo import load_demo

    before = table_counts(db)
    with app.state.sessions() as fresh:
        clock.advance(3600)
        load_demo(fresh, password=DEMO_PASSWORD, now=clock.now(), hash_profile="fast-insecure")
        fresh.commit()

    assert table_counts(db) == before
