"""The commercial story through the actions: every entry type, the rows each leaves, the
live events, the statistics (the same method for every party, R13), refusals that write
nothing, and ``fusioncell verify`` over the whole."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.commercial.factories import (
    Member,
    activate,
    assert_verifies,
    crossing,
    declare,
    project,
    tell_story,
)

from fusioncell.clock import ManualClock
from fusioncell.commercial.actions.shipments import do_inspect_shipment
from fusioncell.commercial.entries import CommercialEntry
from fusioncell.commercial.models import Milestone, Shipment
from fusioncell.commercial.queries.projects import get_project, list_projects
from fusioncell.commercial.queries.stats import statistics
from fusioncell.errors import Forbidden, InvalidInput, NotFound
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import LogEntry
from fusioncell.live.models import Event


def _log_size(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(LogEntry)) or 0)


def test_the_story_leaves_its_rows_entries_and_events_and_verifies(
    db: Session, engine: Engine, ledger: LedgerContext, member: Member, clock: ManualClock
) -> None:
    found = tell_story(db, member, clock)
    types = set(
        db.scalars(select(LogEntry.entry_type).where(LogEntry.entry_type.like("commercial.%")))
    )
    assert types == {t.value for t in CommercialEntry}
    milestones = {m.title: m for m in db.scalars(select(Milestone))}
    assert milestones["Contracts signed"].status == "met"
    assert milestones["First unit commissioned"].status == "missed"
    shipments = sorted(db.scalars(select(Shipment)), key=lambda s: s.log_index)
    assert [(s.lead_time, s.state) for s in shipments] == [
        ("on_time", "passed"),
        ("late", "refused"),
    ]
    events = db.scalars(select(Event.kind).where(Event.track == "commercial")).all()
    assert {"commercial-project", "commercial-shipment", "commercial-evidence"} == set(events)
    assert found.status == "active"
    assert_verifies(db, engine, ledger, clock.now())


def test_statistics_count_every_party_by_one_method(
    db: Session, member: Member, clock: ManualClock
) -> None:
    tell_story(db, member, clock)
    for viewer in ("bravo.analyst", "supervisor.chair", "verifier.lead"):
        figures = {s.party: s for s in statistics(db, member(viewer))}
        alpha, bravo = figures["ALPHA"], figures["BRAVO"]
        assert (alpha.shipments_declared, alpha.shipments_late) == (2, 1)
        assert (alpha.shipments_passed, alpha.shipments_refused) == (1, 1)
        assert (alpha.milestones_met, alpha.milestones_missed, alpha.milestones_open) == (1, 1, 0)
        assert bravo.shipments_declared == bravo.milestones_met == 0


def test_a_project_is_read_by_the_parties_the_supervisor_the_verifier_and_its_financers(
    db: Session, member: Member, clock: ManualClock
) -> None:
    found = project(db, member("bravo.liaison"), now=clock.now(), financing=["HOST"])
    for reader in ("alpha.analyst", "bravo.duty", "supervisor.chair", "verifier.lead"):
        assert get_project(db, member(reader), found.id).id == found.id
    assert [p.id for p in list_projects(db, member("host.observer"))] == [found.id]
    for outsider in ("hum1.coordinator", "cell.admin"):
        with pytest.raises(NotFound):
            get_project(db, member(outsider), found.id)
        assert list_projects(db, member(outsider)) == []


@pytest.mark.parametrize(
    ("who", "error"),
    [("alpha.analyst", Forbidden), ("verifier.lead", Forbidden), ("host.observer", Forbidden)],
)
def test_who_may_not_run_a_project_writes_nothing(
    db: Session, member: Member, clock: ManualClock, who: str, error: type[Exception]
) -> None:
    before = _log_size(db)
    with pytest.raises(error):
        project(db, member(who), now=clock.now())
    assert _log_size(db) == before


def test_a_party_declares_for_itself_and_only_the_verifier_inspects(
    db: Session, member: Member, clock: ManualClock
) -> None:
    crossing_id = crossing(db, member, now=clock.now())
    found = project(db, member("alpha.liaison"), now=clock.now())
    activate(db, member("alpha.liaison"), found, now=clock.now())
    shipment = declare(db, member("bravo.liaison"), found, crossing_id, now=clock.now())
    assert db.get(Shipment, shipment.id) is not None
    assert shipment.party_id != found.party_id  # BRAVO's shipment counts for BRAVO
    before = _log_size(db)
    for who in ("supervisor.chair", "alpha.liaison"):
        with pytest.raises(Forbidden):
            do_inspect_shipment(
                db,
                member(who),
                found.id,
                shipment.id,
                step_id=uuid.uuid4(),
                note="x",
                now=clock.now(),
            )
    assert _log_size(db) == before


def test_a_crossing_must_be_an_agreed_crossing(
    db: Session, member: Member, clock: ManualClock
) -> None:
    hospital = crossing(db, member, now=clock.now(), kind="hospital")
    found = project(db, member("alpha.liaison"), now=clock.now())
    activate(db, member("alpha.liaison"), found, now=clock.now())
    before = _log_size(db)
    for wrong in (hospital, str(uuid.uuid4()), "not-an-id"):
        with pytest.raises(InvalidInput):
            declare(db, member("alpha.liaison"), found, wrong, now=clock.now())
    assert _log_size(db) == before


def test_the_lead_time_is_judged_from_the_log_time_of_the_declaration(
    db: Session, member: Member, clock: ManualClock
) -> None:
    crossing_id = crossing(db, member, now=clock.now())
    found = project(db, member("alpha.liaison"), now=clock.now())
    activate(db, member("alpha.liaison"), found, now=clock.now())
    alpha = member("alpha.liaison")
    exact = declare(db, alpha, found, crossing_id, now=clock.now(), ahead=timedelta(hours=44))
    short = declare(
        db, alpha, found, crossing_id, now=clock.now(), ahead=timedelta(hours=44, seconds=-1)
    )
    assert (exact.lead_time, short.lead_time) == ("on_time", "late")
    assert exact.required_lead_s == 44 * 3600
