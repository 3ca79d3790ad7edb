"""Intelligence actions: each writes its report, releases and object versions with one signed
entry (whose body holds the bundle) and one event, in one transaction; a refused request
writes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.helpers.tables import refused
from tests.helpers.verifying import verify_state
from tests.intel.factories import (
    CREATED,
    SOURCE,
    bundle,
    dispute,
    identity,
    indicator,
    located_report,
    location,
    observe,
    release,
    submit,
)

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.errors import (
    Conflict,
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
)
from fusioncell.intel import stix
from fusioncell.intel.actions.reports import MAX_BUNDLE_BYTES, do_release_report
from fusioncell.intel.entries import IntelEntry
from fusioncell.intel.models import Release, Report, StixObject
from fusioncell.intel.queries import get_report
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import EntryBody, LogAudience, LogEntry
from fusioncell.live.models import Event
from fusioncell.scenario.demo import stable_id

ALPHA = stable_id("organisation", "ALPHA")
BRAVO = stable_id("organisation", "BRAVO")
SUPERVISOR = stable_id("organisation", "SUPERVISOR")
Member = Callable[[str], Viewer]


def _released(db: Session, report: Report) -> set[uuid.UUID]:
    return set(db.scalars(select(Release.organisation_id).where(Release.report_id == report.id)))


def _entry_body(db: Session, report: Report) -> dict:
    body = db.get(EntryBody, report.log_index)
    assert body is not None
    return dict(json.loads(body.body))


def test_a_submitted_report_is_stored_marked_signed_and_announced(
    db: Session, member: Member, clock: ManualClock, engine: Engine, ledger: LedgerContext
) -> None:
    analyst = member("alpha.analyst")
    report = submit(db, analyst, clock, release_to=("BRAVO",), tlp="green", grade="B2")
    db.commit()

    assert _released(db, report) == {ALPHA, BRAVO, SUPERVISOR}
    assert report.title == "Artillery moved forward"
    assert (report.reliability, report.credibility, report.source_ref) == ("B", 2, SOURCE)
    objects = report.bundle["objects"]
    tlp, releasability = objects[0], objects[1]
    assert tlp["id"] == stix.TLP_IDS["green"] and tlp["name"] == "TLP:GREEN"
    assert releasability["definition"]["statement"] == "Releasable to: ALPHA, BRAVO, SUPERVISOR"
    for item in objects[2:]:
        assert item["object_marking_refs"][:2] == [tlp["id"], releasability["id"]]
        assert item["confidence"] == 70  # credibility 2, on stix2's Admiralty scale
    assert {row.stix_type for row in db.scalars(select(StixObject))} == {
        "marking-definition", "identity", "location", "report",
    }  # fmt: skip
    assert len(db.scalars(select(StixObject)).all()) == 5
    # The located object sets the report's box.
    assert (report.west, report.south) == (35.8567, 33.1234)

    entry = db.get(LogEntry, report.log_index)
    assert entry is not None and entry.entry_type == IntelEntry.REPORT_SUBMITTED
    assert _entry_body(db, report)["bundle"] == report.bundle
    audience = set(
        db.scalars(select(LogAudience.value).where(LogAudience.entry_index == report.log_index))
    )
    assert audience == {str(ALPHA), str(BRAVO), str(SUPERVISOR)}
    event = db.scalars(select(Event).where(Event.track == "intel")).one()
    assert (event.kind, event.subject, event.log_index) == (
        "intel-report",
        str(report.id),
        report.log_index,
    )
    do_sign_checkpoint(db, now=clock.now())
    assert verify_state(engine, ledger).ok


def test_the_party_and_the_supervisor_are_always_in_the_audience(
    db: Session, member: Member, clock: ManualClock
) -> None:
    report = submit(db, member("bravo.liaison"), clock)
    assert _released(db, report) == {BRAVO, SUPERVISOR}


def test_the_common_case_is_built_into_stix_for_the_member(
    db: Session, member: Member, clock: ManualClock
) -> None:
    report = observe(db, member("alpha.liaison"), clock)
    kinds = [o["type"] for o in report.bundle["objects"]]
    assert kinds == [
        "marking-definition", "marking-definition", "identity", "location", "observed-data",
        "note",
    ]  # fmt: skip
    source = report.bundle["objects"][2]
    assert source["name"] == "Party ALPHA" and report.source_ref == source["id"]
    assert report.title == "Checkpoint moved"
    assert report.observed_at.isoformat().startswith("2026-01-06T05:30")
    assert str(stix.Grade("C", 3)) == "C3" and report.credibility == 3


def test_a_retry_returns_the_first_report_and_a_changed_retry_is_a_conflict(
    db: Session, member: Member, clock: ManualClock, count_rows: Callable[[type], int]
) -> None:
    analyst = member("alpha.analyst")
    data = located_report()
    client_id = uuid.uuid4()
    first = submit(db, analyst, clock, data, report_id=client_id)
    again = submit(db, analyst, clock, data, report_id=client_id)
    assert again.id == first.id == client_id
    assert count_rows(Report) == 1
    with refused(db, IdempotencyConflict):
        submit(db, analyst, clock, data, report_id=client_id, grade="A1")
    # Another member's choice of the same id is theirs alone.
    other = submit(db, member("bravo.analyst"), clock, located_report(), report_id=client_id)
    assert other.id != client_id and other.client_id == client_id


def test_invalid_stix_is_refused_naming_the_object_and_the_rule(
    db: Session, member: Member, clock: ManualClock
) -> None:
    bad = location(lat=123.0)
    with refused(db, InvalidInput) as raised:
        submit(db, member("alpha.analyst"), clock, bundle(identity(), bad))
    problem = raised.value.extensions["errors"][0]
    assert problem["object"] == bad["id"] and problem["type"] == "location"
    assert "latitude" in problem["rule"]
    assert bad["id"] in raised.value.detail


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"type": "bundle", "id": "bundle--x", "objects": []}, "no objects"),
        ({"type": "indicator"}, "a bundle has a list"),
        ({"type": "bundle", "objects": [{"type": "foo"}]}, "'id'"),
        ({"type": "bundle", "objects": ["text"]}, "a JSON object"),
    ],
)
def test_what_is_not_a_bundle_is_refused(
    db: Session, member: Member, clock: ManualClock, data: dict, why: str
) -> None:
    with refused(db, InvalidInput) as raised:
        submit(db, member("alpha.analyst"), clock, data)
    assert why in json.dumps([raised.value.detail, raised.value.extensions])


def test_a_bundle_over_the_size_limit_is_refused(
    db: Session, member: Member, clock: ManualClock
) -> None:
    huge = bundle(identity(), indicator(description="x" * MAX_BUNDLE_BYTES))
    with refused(db, PayloadTooLarge):
        submit(db, member("alpha.analyst"), clock, huge)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("release_to", {"release_to": ("GAMMA",)}),
        ("grade", {"grade": "G2"}),
        ("grade", {"grade": "A7"}),
        ("tlp", {"tlp": "white"}),
    ],
)
def test_bad_releasability_grade_or_tlp_is_refused(
    db: Session, member: Member, clock: ManualClock, field: str, kwargs: dict
) -> None:
    with refused(db, InvalidInput) as raised:
        submit(db, member("alpha.analyst"), clock, **kwargs)
    assert raised.value.extensions["errors"][0]["field"] == field


@pytest.mark.parametrize(
    "username", ["alpha.duty", "supervisor.chair", "verifier.lead", "cell.admin"]
)
def test_only_a_partys_analyst_or_liaison_submits(
    db: Session, member: Member, clock: ManualClock, username: str
) -> None:
    with refused(db, Forbidden):
        submit(db, member(username), clock)


def test_versions_are_kept_and_a_changed_version_under_the_same_modified_is_refused(
    db: Session, member: Member, clock: ManualClock, count_rows: Callable[[type], int]
) -> None:
    analyst = member("alpha.analyst")
    first = indicator(id_="indicator--2f0f0b7e-9a53-4d7a-9d7b-0c6b1f0a0001")
    submit(db, analyst, clock, bundle(identity(), first))
    newer = {**first, "modified": "2026-01-07T08:00:00.000Z", "name": "Convoy left"}
    submit(db, analyst, clock, bundle(identity(), newer))
    versions = db.scalars(select(StixObject.modified).where(StixObject.stix_id == first["id"]))
    assert sorted(versions) == [CREATED, "2026-01-07T08:00:00.000Z"]
    with refused(db, Conflict):
        submit(db, analyst, clock, bundle(identity(), {**first, "name": "Rewritten"}))
    # The same version again, in a report released elsewhere, carries that report's markings.
    again = submit(db, analyst, clock, bundle(identity(), first), release_to=("BRAVO",))
    assert count_rows(Report) == 3
    held = db.scalars(
        select(StixObject).where(
            StixObject.report_id == again.id, StixObject.stix_type != "marking-definition"
        )
    ).all()
    assert {row.content_hash for row in held} <= set(
        db.scalars(select(StixObject.content_hash).where(StixObject.report_id != again.id))
    )


def test_the_supervisor_releases_a_sanitised_derived_report(
    db: Session, member: Member, clock: ManualClock, engine: Engine, ledger: LedgerContext
) -> None:
    original = submit(db, member("alpha.analyst"), clock, located_report())  # supervisor only
    chair = member("supervisor.chair")
    place = next(o for o in original.bundle["objects"] if o["type"] == "location")
    derived = release(
        db,
        chair,
        clock,
        original,
        sanitisation=stix.Sanitisation(
            redact=frozenset({"description"}), grid_km=10, anonymise_source=True
        ),
    )
    db.commit()

    assert derived.kind == "derived" and derived.derived_from == original.id
    assert _released(db, derived) == {ALPHA, BRAVO, SUPERVISOR}
    assert _released(db, original) == {ALPHA, SUPERVISOR}
    objects = derived.bundle["objects"]
    ids = {o["id"] for o in objects}
    assert not ids & {
        o["id"] for o in original.bundle["objects"] if o["type"] != "marking-definition"
    }
    assert SOURCE not in json.dumps(objects)
    assert stix.PARTY_OF_THE_CELL["id"] in ids
    assert derived.source_ref == stix.PARTY_OF_THE_CELL["id"]
    new_place = next(o for o in objects if o["type"] == "location")
    assert (new_place["latitude"], new_place["longitude"]) != (
        place["latitude"],
        place["longitude"],
    )
    assert abs(new_place["latitude"] - place["latitude"]) < 0.05
    assert "latitude" in new_place["granular_markings"][0]["selectors"]
    assert new_place["granular_markings"][0]["marking_ref"] == stix.SANITISED_MARKING["id"]
    report_sdo = next(o for o in objects if o["type"] == "report")
    assert report_sdo["description"] == stix.REDACTED
    assert "description" in report_sdo["granular_markings"][0]["selectors"]
    assert derived.reliability == "B" and derived.credibility == 2
    body = _entry_body(db, derived)
    assert body["derived_from"] == str(original.id) and body["bundle"] == derived.bundle
    assert db.get(LogEntry, derived.log_index).entry_type == IntelEntry.REPORT_RELEASED
    do_sign_checkpoint(db, now=clock.now())
    assert verify_state(engine, ledger).ok
    # BRAVO sees the derived report, not the original.
    bravo = member("bravo.analyst")
    assert get_report(db, bravo, derived.id).id == derived.id
    with pytest.raises(NotFound):
        get_report(db, bravo, original.id)


def test_dropping_objects_leaves_them_and_references_to_them_out(
    db: Session, member: Member, clock: ManualClock
) -> None:
    data = located_report()
    sign = indicator()
    data["objects"][2]["object_refs"].append(sign["id"])
    data["objects"].append(sign)
    original = submit(db, member("alpha.analyst"), clock, data)
    place = data["objects"][1]
    derived = release(
        db,
        member("supervisor.chair"),
        clock,
        original,
        sanitisation=stix.Sanitisation(drop=frozenset({place["id"]})),
    )
    kinds = [o["type"] for o in derived.bundle["objects"]]
    assert "location" not in kinds and "indicator" in kinds and derived.west is None
    assert place["id"] not in json.dumps(derived.bundle)
    report_sdo = next(o for o in derived.bundle["objects"] if o["type"] == "report")
    assert len(report_sdo["object_refs"]) == 1
    assert "object_refs" in report_sdo["granular_markings"][0]["selectors"]


def test_a_release_by_anyone_but_the_supervisor_of_another_partys_report_is_refused(
    db: Session, member: Member, clock: ManualClock
) -> None:
    shared = submit(db, member("alpha.analyst"), clock, release_to=("BRAVO",))
    with refused(db, Forbidden):
        release(db, member("bravo.liaison"), clock, shared, release_to=("VERIFIER",))
    hidden = submit(db, member("alpha.analyst"), clock)
    with refused(db, NotFound):
        release(db, member("bravo.liaison"), clock, hidden)
    # A party releases its own report further (a derived report with new ids).
    own = release(db, member("alpha.liaison"), clock, hidden, release_to=("VERIFIER",))
    assert _released(db, own) == {ALPHA, SUPERVISOR, stable_id("organisation", "VERIFIER")}


def test_a_release_that_would_not_be_valid_stix_is_refused(
    db: Session, member: Member, clock: ManualClock
) -> None:
    original = submit(db, member("alpha.analyst"), clock, bundle(identity(), indicator()))
    with refused(db, InvalidInput) as raised:
        release(
            db,
            member("supervisor.chair"),
            clock,
            original,
            sanitisation=stix.Sanitisation(redact=frozenset({"pattern"})),
        )
    assert "pattern" in raised.value.detail.lower()


def test_a_retried_release_returns_the_first(
    db: Session, member: Member, clock: ManualClock, count_rows: Callable[[type], int]
) -> None:
    original = submit(db, member("alpha.analyst"), clock)
    chair = member("supervisor.chair")
    release_id = uuid.uuid4()
    for _ in range(2):
        do_release_report(
            db, chair, release_id=release_id, report_id=original.id, release_to=["BRAVO"],
            now=clock.now(),
        )  # fmt: skip
    assert count_rows(Report) == 2


def test_the_other_side_disputes_a_report_it_received(
    db: Session, member: Member, clock: ManualClock
) -> None:
    original = submit(db, member("alpha.analyst"), clock, release_to=("BRAVO",))
    response = dispute(db, member("bravo.analyst"), clock, original)
    db.commit()
    assert response.kind == "response" and response.responds_to == original.id
    assert response.opinion == "strongly-disagree"
    assert _released(db, response) == _released(db, original)
    opinion = next(o for o in response.bundle["objects"] if o["type"] == "opinion")
    assert opinion["explanation"] == "No batteries there"
    assert set(opinion["object_refs"]) <= {o["id"] for o in original.bundle["objects"]}
    assert db.get(LogEntry, response.log_index).entry_type == IntelEntry.REPORT_RESPONDED
    # The author sees it.
    assert get_report(db, member("alpha.liaison"), response.id).id == response.id
    # Whoever did not receive the report cannot answer it.
    with refused(db, NotFound):
        dispute(db, member("verifier.lead"), clock, original)
    with refused(db, InvalidInput):
        dispute(db, member("bravo.analyst"), clock, original, explanation=" ")
