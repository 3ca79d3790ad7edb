"""Submitting many bundles at once (``do_submit_reports``): each becomes its own report with
its own signed entry and event, all in one transaction; one refused bundle refuses the whole
batch naming it; a retried batch writes nothing new."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.helpers.tables import refused
from tests.helpers.verifying import verify_state
from tests.intel.factories import bundle, identity, indicator, located_report, location

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.errors import Conflict, Forbidden, IdempotencyConflict, InvalidInput
from fusioncell.intel.actions.reports import Submission, do_submit_reports
from fusioncell.intel.entries import IntelEntry
from fusioncell.intel.models import Release, Report, StixObject
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import EntryBody, LogEntry
from fusioncell.live.models import Event
from fusioncell.scenario.demo import stable_id

BRAVO = stable_id("organisation", "BRAVO")
Member = Callable[[str], Viewer]


def _batch(count: int) -> list[Submission]:
    return [
        Submission(
            report_id=uuid.uuid4(),
            bundle=bundle(identity(), indicator(f"Convoy {n}"), location(33.0 + n / 100, 35.5)),
            release_to=("BRAVO",) if n % 2 else (),
            tlp="green",
            grade="C3",
        )
        for n in range(count)
    ]


def test_each_bundle_is_a_report_with_its_own_signed_entry(
    db: Session, member: Member, clock: ManualClock, engine: Engine, ledger: LedgerContext
) -> None:
    submissions = _batch(6)
    done = do_submit_reports(db, member("alpha.analyst"), submissions, now=clock.now())
    db.commit()

    assert [d.client_id for d in done] == [s.report_id for s in submissions]
    assert [d.report_id for d in done] == [s.report_id for s in submissions]
    assert not any(d.retried for d in done)
    assert len({d.log_index for d in done}) == 6
    for submitted, submission in zip(done, submissions, strict=True):
        report = db.get(Report, submitted.report_id)
        assert report is not None and report.log_index == submitted.log_index
        assert (report.tlp, report.reliability, report.credibility) == ("green", "C", 3)
        entry = db.get(LogEntry, submitted.log_index)
        assert entry is not None and entry.entry_type == IntelEntry.REPORT_SUBMITTED
        body = db.get(EntryBody, submitted.log_index)
        assert body is not None
        assert json.loads(body.body)["bundle"] == report.bundle
        released = set(
            db.scalars(select(Release.organisation_id).where(Release.report_id == report.id))
        )
        assert (BRAVO in released) == ("BRAVO" in submission.release_to)
        assert report.title == submission.bundle["objects"][1]["name"]
    # Each report: its 3 objects and the 2 markings the cell writes in.
    assert len(db.scalars(select(StixObject)).all()) == 6 * 5
    events = db.scalars(select(Event).where(Event.track == "intel").order_by(Event.id)).all()
    assert [e.log_index for e in events] == sorted(d.log_index for d in done)
    do_sign_checkpoint(db, now=clock.now())
    assert verify_state(engine, ledger).ok


def test_one_refused_bundle_refuses_the_batch_naming_it(
    db: Session, member: Member, clock: ManualClock
) -> None:
    submissions = _batch(3)
    bad = Submission(uuid.uuid4(), bundle(identity(), location(lat=123.0)))
    with refused(db, InvalidInput) as raised:
        do_submit_reports(db, member("alpha.analyst"), [*submissions, bad], now=clock.now())
    assert raised.value.extensions["submission"] == 3
    assert raised.value.detail.startswith("bundle 3: invalid STIX")
    with refused(db, InvalidInput) as raised:
        do_submit_reports(
            db,
            member("alpha.analyst"),
            [*submissions, Submission(uuid.uuid4(), located_report(), release_to=("NOBODY",))],
            now=clock.now(),
        )
    with refused(db, InvalidInput):
        do_submit_reports(db, member("alpha.analyst"), [], now=clock.now())


def test_only_a_partys_analyst_or_liaison_submits_a_batch(
    db: Session, member: Member, clock: ManualClock
) -> None:
    with refused(db, Forbidden):
        do_submit_reports(db, member("supervisor.chair"), _batch(2), now=clock.now())


def test_a_retried_batch_returns_the_first_reports_and_writes_nothing(
    db: Session, member: Member, clock: ManualClock, count_rows: Callable[[type], int]
) -> None:
    analyst = member("alpha.analyst")
    submissions = _batch(4)
    first = do_submit_reports(db, analyst, submissions, now=clock.now())
    entries = count_rows(LogEntry)
    again = do_submit_reports(db, analyst, submissions, now=clock.now())
    assert [a.report_id for a in again] == [f.report_id for f in first]
    assert [a.log_index for a in again] == [f.log_index for f in first]
    assert all(a.retried for a in again)
    assert count_rows(LogEntry) == entries
    # The same id with another request is a conflict; nothing written.
    changed = [submissions[0], Submission(submissions[1].report_id, located_report())]
    with refused(db, IdempotencyConflict):
        do_submit_reports(db, analyst, changed, now=clock.now())
    # The same id twice in one batch: the same request is one report, another a conflict.
    twice = _batch(1)
    done = do_submit_reports(db, analyst, [twice[0], twice[0]], now=clock.now())
    assert done[0].report_id == done[1].report_id and done[0].log_index == done[1].log_index
    other = Submission(twice[0].report_id, located_report())
    with refused(db, IdempotencyConflict):
        do_submit_reports(db, analyst, [_batch(1)[0], other, other], now=clock.now())


def test_a_version_with_two_contents_in_one_batch_is_a_conflict(
    db: Session, member: Member, clock: ManualClock
) -> None:
    first = indicator("Convoy")
    changed = {**first, "name": "Something else"}
    with refused(db, Conflict):
        do_submit_reports(
            db,
            member("alpha.analyst"),
            [Submission(uuid.uuid4(), bundle(first)), Submission(uuid.uuid4(), bundle(changed))],
            now=clock.now(),
        )
    # The same content twice is two reports holding the same version.
    done = do_submit_reports(
        db,
        member("alpha.analyst"),
        [Submission(uuid.uuid4(), bundle(first)), Submission(uuid.uuid4(), bundle(first))],
        now=clock.now(),
    )
    assert len({d.report_id for d in done}) == 2
