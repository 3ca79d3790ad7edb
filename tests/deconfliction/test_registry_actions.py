"""The registry's actions as STYLE asks of every action: the rows, the entry (its audience),
the live event right after it, and a refused actor changing nothing."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.deconfliction.protection_factories import (
    SIGNATORIES,
    SUWAYDA,
    agree,
    agreed_community,
    community,
    log_size,
    point,
    polygon,
    site,
)

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.deconfliction.actions.early_warning import watch_viewer
from fusioncell.deconfliction.actions.registry import (
    do_acknowledge_no_strike_list,
    do_send_no_strike_lists,
    do_send_weekly_no_strike_lists,
    do_sign_place,
    week_period,
)
from fusioncell.deconfliction.entries import ProtectionEntry
from fusioncell.deconfliction.models.registry import NoStrikeList, PlaceSignature, ProtectedPlace
from fusioncell.deconfliction.protection import parse_protection
from fusioncell.deconfliction.queries.registry import (
    agreed_communities,
    agreed_places_for_engine,
    agreed_protected_geometries,
    list_places,
    no_strike_places,
)
from fusioncell.errors import Forbidden, IdempotencyConflict, InvalidInput, NotFound
from fusioncell.ledger.entries import canonical
from fusioncell.ledger.models import LogAudience, LogEntry
from fusioncell.live.models import Event
from fusioncell.scenario.demo import ORGANISATIONS, stable_id

EVERYONE = {str(stable_id("organisation", o.slug)) for o in ORGANISATIONS}


def _audience(db: Session, index: int) -> set[str]:
    return set(db.scalars(select(LogAudience.value).where(LogAudience.entry_index == index)))


def test_a_proposal_writes_its_row_entry_audience_and_event(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    hum = member("hum1.coordinator")
    place = community(db, hum, now=clock.now())
    row = db.get(ProtectedPlace, place.id)
    assert row is not None
    assert (row.kind, row.name, row.population) == (
        "community",
        "Suwayda",
        "Druze residents of Suwayda",
    )
    assert row.organisation_id == hum.organisation_id and row.agreed_log_index is None
    entry = db.get(LogEntry, row.log_index)
    assert entry is not None and entry.entry_type == ProtectionEntry.PLACE_PROPOSED
    # Shared with every organisation of the cell.
    assert _audience(db, row.log_index) == EVERYONE
    [event] = db.scalars(select(Event).where(Event.kind == "deconfliction-place")).all()
    assert (event.subject, event.log_index, event.payload["step"]) == (
        str(place.id),
        row.log_index,
        "proposed",
    )


def test_a_place_is_in_force_once_both_parties_and_the_supervisor_have_signed(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    place = site(db, member("hum1.coordinator"), now=clock.now())
    viewer = member("alpha.liaison")
    signatures = []
    for username in SIGNATORIES:
        assert agreed_protected_geometries(db, viewer) == []
        signatures.append(do_sign_place(db, member(username), place_id=place.id, now=clock.now()))
    db.refresh(place)
    # The signature that completed the set put it in force.
    assert place.agreed_log_index == signatures[-1].log_index
    entries = [db.get(LogEntry, s.log_index) for s in signatures]
    assert [e.entry_type for e in entries if e] == [ProtectionEntry.PLACE_SIGNED] * 3
    steps = [
        e.payload["step"]
        for e in db.scalars(
            select(Event).where(Event.kind == "deconfliction-place").order_by(Event.id)
        )
    ]
    assert steps == ["proposed", "signed", "signed", "agreed"]
    [found] = agreed_protected_geometries(db, viewer)
    assert (found.id, found.name, found.kind, found.source) == (
        str(place.id),
        "Suwayda national hospital",
        "hospital",
        "registry",
    )
    assert found.geometry.geom_type == "Point"
    assert [p.id for p in agreed_places_for_engine(db)] == [str(place.id)]


def test_a_second_signature_of_one_organisation_returns_the_first(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    place = site(db, member("alpha.liaison"), now=clock.now())
    first = do_sign_place(db, member("bravo.liaison"), place_id=place.id, now=clock.now())
    size = log_size(db)
    again = do_sign_place(db, member("bravo.liaison"), place_id=place.id, now=clock.now())
    assert again.log_index == first.log_index
    assert log_size(db) == size
    assert len(db.scalars(select(PlaceSignature)).all()) == 1


@pytest.mark.parametrize(
    "username",
    ["hum1.coordinator", "verifier.lead", "alpha.duty", "alpha.analyst", "host.observer"],
)
def test_only_a_party_liaison_or_the_supervisor_signs_and_a_refusal_writes_nothing(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock, username: str
) -> None:
    place = site(db, member("hum1.coordinator"), now=clock.now())
    db.commit()
    size = log_size(db)
    with pytest.raises(Forbidden):
        do_sign_place(db, member(username), place_id=place.id, now=clock.now())
    db.rollback()
    assert log_size(db) == size
    assert db.scalars(select(PlaceSignature)).all() == []


@pytest.mark.parametrize("username", ["alpha.duty", "alpha.analyst", "cell.admin"])
def test_only_an_organisations_lead_proposes(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock, username: str
) -> None:
    size = log_size(db)
    with pytest.raises(Forbidden):
        site(db, member(username), now=clock.now())
    db.rollback()
    assert log_size(db) == size and db.scalars(select(ProtectedPlace)).all() == []


@pytest.mark.parametrize("username", ["alpha.liaison", "supervisor.chair", "verifier.lead"])
def test_any_organisation_proposes(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock, username: str
) -> None:
    assert site(db, member(username), now=clock.now()).log_index >= 0


def test_a_retry_returns_the_first_proposal_and_a_different_one_is_a_conflict(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    hum = member("hum1.coordinator")
    place_id = uuid.uuid4()
    first = community(db, hum, now=clock.now(), place_id=place_id)
    size = log_size(db)
    again = community(db, hum, now=clock.now(), place_id=place_id)
    assert (again.id, again.log_index) == (first.id, first.log_index)
    with pytest.raises(IdempotencyConflict):
        community(db, hum, now=clock.now(), place_id=place_id, name="Another")
    db.rollback()
    assert log_size(db) == size
    # Another proposer's id is theirs: the same client id does not return HUM-1's place.
    other = community(db, member("alpha.liaison"), now=clock.now(), place_id=place_id)
    assert other.id != first.id


UNCLOSED = [[36.54, 32.69], [36.60, 32.69], [36.60, 32.74], [36.54, 32.74]]
BOWTIE = [[36.54, 32.69], [36.60, 32.74], [36.60, 32.69], [36.54, 32.74], [36.54, 32.69]]
HUGE = [[35.0, 32.0], [37.0, 32.0], [37.0, 34.0], [35.0, 34.0], [35.0, 32.0]]


@pytest.mark.parametrize(
    ("kind", "more", "field"),
    [
        ("castle", {"geometry": point((36.5, 32.7))}, "kind"),
        ("hospital", {"geometry": polygon(SUWAYDA)}, "geometry"),
        ("hospital", {"geometry": point((36.5, 32.7)), "population": "Druze"}, "population"),
        ("hospital", {"geometry": point((190.0, 32.7))}, "geometry"),
        ("hospital", {"geometry": {"type": "Point", "coordinates": [36.5]}}, "geometry"),
        ("hospital", {"geometry": point((36.5, 32.7)), "name": " "}, "name"),
        ("hospital", {"geometry": point((36.5, 32.7)), "name": "x" * 201}, "name"),
        ("hospital", {"geometry": point((36.5, 32.7)), "buffer_m": 25_001}, "buffer_m"),
        ("hospital", {"geometry": point((36.5, 32.7)), "buffer_m": True}, "buffer_m"),
        ("hospital", {"geometry": point((36.5, 32.7)), "note": "n" * 501}, "note"),
        ("community", {"geometry": point((36.5, 32.7)), "population": "Druze"}, "geometry"),
        ("community", {"geometry": polygon(SUWAYDA)}, "population"),
        ("community", {"geometry": polygon(UNCLOSED), "population": "Druze"}, "geometry"),
        ("community", {"geometry": polygon(BOWTIE), "population": "Druze"}, "geometry"),
        ("community", {"geometry": polygon(HUGE), "population": "Druze"}, "geometry"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    kind: str,
    more: dict[str, Any],
    field: str,
) -> None:
    from fusioncell.deconfliction.actions.registry import do_propose_place

    size = log_size(db)
    arguments: dict[str, Any] = {"name": "A place", **more}
    with pytest.raises(InvalidInput) as raised:
        do_propose_place(
            db,
            member("hum1.coordinator"),
            place_id=uuid.uuid4(),
            kind=kind,
            now=clock.now(),
            **arguments,
        )
    assert raised.value.extensions["field"] == field
    db.rollback()
    assert log_size(db) == size and db.scalars(select(ProtectedPlace)).all() == []


def test_the_operator_reads_no_registry(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    agreed_community(db, member, now=clock.now())
    assert list_places(db, member("cell.admin")) == []
    assert agreed_communities(db, member("cell.admin")) == []
    assert len(agreed_communities(db, member("host.observer"))) == 1


# -- the no-strike lists --------------------------------------------------------------------


def test_the_weekly_send_gives_each_party_the_places_in_force_once_a_week(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    place = agreed_community(db, member, now=clock.now())
    site(db, member("hum1.coordinator"), now=clock.now())  # proposed, not in force
    cell = watch_viewer(db)
    assert cell is not None
    sent = do_send_weekly_no_strike_lists(db, cell, now=clock.now())
    assert sorted(db.get(NoStrikeList, s.id).party_id for s in sent) == sorted(  # type: ignore[union-attr]
        [stable_id("organisation", "ALPHA"), stable_id("organisation", "BRAVO")]
    )
    content = sent[0].content
    ids = [f["id"] for f in content["features"]]
    # The agreed geometry's seven protected sites, then the registry's place in force.
    assert str(place.id) in ids and len(ids) == 8
    assert sent[0].digest == hashlib.sha256(canonical(content)).hexdigest()
    entry = db.get(LogEntry, sent[0].log_index)
    assert entry is not None and entry.entry_type == ProtectionEntry.NO_STRIKE_LIST_SENT
    assert sent[0].ack_due_at == sent[0].sent_at + timedelta(hours=24)
    # The same week again: nothing more.
    size = log_size(db)
    assert do_send_weekly_no_strike_lists(db, cell, now=clock.now() + timedelta(hours=1)) == []
    assert log_size(db) == size
    # The next week: a new list each.
    assert len(do_send_weekly_no_strike_lists(db, cell, now=clock.now() + timedelta(days=7))) == 2


def test_the_focal_point_acknowledges_receipt_of_its_own_list_only(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    sent = do_send_no_strike_lists(
        db, member("supervisor.chair"), request_id=uuid.uuid4(), now=clock.now()
    )
    alpha = next(s for s in sent if s.party_id == stable_id("organisation", "ALPHA"))
    for username in ("bravo.liaison", "alpha.duty", "supervisor.chair", "hum1.coordinator"):
        with pytest.raises(Forbidden):
            do_acknowledge_no_strike_list(db, member(username), list_id=alpha.id, now=clock.now())
        db.rollback()
    with pytest.raises(NotFound):
        do_acknowledge_no_strike_list(
            db, member("alpha.liaison"), list_id=uuid.uuid4(), now=clock.now()
        )
    db.rollback()
    acked = do_acknowledge_no_strike_list(
        db, member("alpha.liaison"), list_id=alpha.id, now=clock.now()
    )
    assert acked.acknowledged_by == stable_id("member", "alpha.liaison")
    assert acked.ack_log_index is not None
    entry = db.get(LogEntry, acked.ack_log_index)
    assert entry is not None and entry.entry_type == ProtectionEntry.NO_STRIKE_LIST_ACKNOWLEDGED
    size = log_size(db)
    again = do_acknowledge_no_strike_list(
        db, member("alpha.liaison"), list_id=alpha.id, now=clock.now()
    )
    assert again.ack_log_index == acked.ack_log_index and log_size(db) == size


def test_only_the_supervisor_sends_lists_on_demand_and_a_retry_sends_nothing_more(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    with pytest.raises(Forbidden):
        do_send_no_strike_lists(
            db, member("alpha.liaison"), request_id=uuid.uuid4(), now=clock.now()
        )
    db.rollback()
    request_id = uuid.uuid4()
    first = do_send_no_strike_lists(
        db, member("supervisor.chair"), request_id=request_id, now=clock.now()
    )
    assert len(first) == 2
    assert (
        do_send_no_strike_lists(
            db, member("supervisor.chair"), request_id=request_id, now=clock.now()
        )
        == []
    )


@pytest.mark.parametrize(
    ("now", "period", "due"),
    [
        # Monday 06:00 UTC is the send; a Monday before six belongs to the week before.
        (datetime(2026, 1, 5, 6, 0, tzinfo=UTC), "2026-W02", datetime(2026, 1, 5, 6, tzinfo=UTC)),
        (
            datetime(2026, 1, 5, 5, 59, tzinfo=UTC),
            "2026-W01",
            datetime(2025, 12, 29, 6, tzinfo=UTC),
        ),
        (datetime(2026, 1, 11, 23, 0, tzinfo=UTC), "2026-W02", datetime(2026, 1, 5, 6, tzinfo=UTC)),
        (datetime(2026, 1, 7, 12, 0, tzinfo=UTC), "2026-W02", datetime(2026, 1, 5, 6, tzinfo=UTC)),
    ],
)
def test_the_week_due_is_the_latest_send_at_or_before_now(
    now: datetime, period: str, due: datetime
) -> None:
    assert week_period(now, parse_protection({})) == (period, due)


def test_the_no_strike_places_are_the_geometry_sites_and_the_registry_in_force(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    place = agree(
        db, member, site(db, member("hum1.coordinator"), now=clock.now()), now=clock.now()
    )
    features = no_strike_places(db, member("bravo.liaison"))["features"]
    sources = [f["properties"]["source"] for f in features]
    assert sources.count("geometry") == 7 and sources.count("registry") == 1
    mine = next(f for f in features if f["id"] == str(place.id))
    assert mine["properties"]["agreed_log_index"] == place.agreed_log_index
    assert SUWAYDA  # the community ring stays the factories' own


def test_a_place_in_force_joins_the_conflict_check_with_its_own_buffer(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    from tests.deconfliction.factories import notify

    from fusioncell.deconfliction.models import ConflictRow

    school = agree(
        db,
        member,
        site(
            db,
            member("hum1.coordinator"),
            now=clock.now(),
            kind="school",
            name="Hader school",
            where=(35.70, 33.21),
            buffer_m=1500,
        ),
        now=clock.now(),
    )
    # About 1.1 km from the school (ALPHA's 0-10 km band): within 1.5 km + the activity's 2 km.
    activity = notify(db, member("alpha.liaison"), now=clock.now(), geometry=point((35.70, 33.20)))
    [conflict] = [
        c
        for c in db.scalars(select(ConflictRow).where(ConflictRow.notification_id == activity.id))
        if c.other_id == str(school.id)
    ]
    assert conflict.required_m == 3500.0 and 1000 < conflict.distance_m < 1200


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"early_warning_m": -1}, "early_warning_m"),
        ({"alert_precedence": "SOON"}, "alert_precedence"),
        ({"no_strike_weekday": 8}, "no_strike_weekday"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_protection_rules_are_refused(table: dict[str, Any], problem: str) -> None:
    from fusioncell.deconfliction.rules import RulesError, load_rules, parse_rules

    document = {**load_rules().document, "protection": table}
    with pytest.raises(RulesError, match=problem):
        parse_rules(document)
