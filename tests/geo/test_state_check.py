"""The geography's state check: ``fusioncell verify`` recomputes the stored versions (their
numbers, content, hash and when each came into force) and their signatures from the log."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session
from tests.helpers.verifying import tamper, verify_state

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.geo.models import GeometrySignature, GeometryVersion
from fusioncell.ledger.context import LedgerContext

from .versions import SIGNATORIES, propose, sign

Lookup = Callable[[str], Viewer]


@pytest.fixture
def versions(db: Session, clock: ManualClock, member: Lookup) -> tuple[GeometryVersion, ...]:
    """Version 1 (the demo's), version 2 in force, version 3 signed by ALPHA only."""
    second = propose(db, member("alpha.liaison"), clock)
    sign(db, member, clock, second)
    third = propose(db, member("bravo.liaison"), clock)
    sign(db, member, clock, third, SIGNATORIES[:1])
    db.expire_all()
    rows = db.scalars(select(GeometryVersion).order_by(GeometryVersion.number)).all()
    db.rollback()
    return tuple(rows)


def _verify(app: FastAPI, engine: Engine, ledger: LedgerContext) -> tuple[int | None, str | None]:
    app.state.checkpointer.run_once()
    report = verify_state(engine, ledger)
    return report.failed_index, report.reason


def test_the_versions_and_signatures_verify(
    app: FastAPI, engine: Engine, ledger: LedgerContext, versions: tuple[GeometryVersion, ...]
) -> None:
    assert _verify(app, engine, ledger) == (None, None)


def test_a_moved_protected_site_fails_at_the_proposal_that_placed_it(
    app: FastAPI, engine: Engine, ledger: LedgerContext, versions: tuple[GeometryVersion, ...]
) -> None:
    first = versions[0]
    moved = {
        **first.collection,
        "features": [
            {**f, "geometry": {"type": "Point", "coordinates": [35.5, 33.5]}}
            if f["id"] == "hader"
            else f
            for f in first.collection["features"]
        ],
    }
    tamper(
        engine,
        update(GeometryVersion).where(GeometryVersion.id == first.id).values(collection=moved),
    )

    index, reason = _verify(app, engine, ledger)

    assert index == first.log_index
    assert reason is not None and reason.startswith(f"geo_versions row {first.id}: collection is")


def test_a_version_claimed_in_force_without_all_signatures_fails(
    app: FastAPI, engine: Engine, ledger: LedgerContext, versions: tuple[GeometryVersion, ...]
) -> None:
    second, third = versions[1], versions[2]
    tamper(
        engine,
        update(GeometryVersion)
        .where(GeometryVersion.id == third.id)
        .values(in_force_log_index=third.log_index + 1, in_force_from=second.in_force_from),
    )

    index, reason = _verify(app, engine, ledger)

    assert index == third.log_index
    assert reason == (
        f"geo_versions row {third.id}: in_force_log_index is {third.log_index + 1}, "
        "but the entry records None"
    )


def test_a_version_in_force_hidden_from_the_copy_fails(
    app: FastAPI, engine: Engine, ledger: LedgerContext, versions: tuple[GeometryVersion, ...]
) -> None:
    second = versions[1]
    tamper(
        engine,
        update(GeometryVersion)
        .where(GeometryVersion.id == second.id)
        .values(in_force_log_index=None, in_force_from=None),
    )

    index, reason = _verify(app, engine, ledger)

    assert index == second.log_index
    assert reason == (
        f"geo_versions row {second.id}: in_force_log_index is None, "
        f"but the entry records {second.in_force_log_index}"
    )


def test_renumbered_versions_fail(
    app: FastAPI, engine: Engine, ledger: LedgerContext, versions: tuple[GeometryVersion, ...]
) -> None:
    third = versions[2]
    tamper(engine, update(GeometryVersion).where(GeometryVersion.id == third.id).values(number=9))

    index, reason = _verify(app, engine, ledger)

    assert index == third.log_index
    assert reason == f"geo_versions row {third.id}: number is 9, but the entry records 3"


def test_a_deleted_signature_fails_at_its_entry(
    app: FastAPI, engine: Engine, ledger: LedgerContext, versions: tuple[GeometryVersion, ...]
) -> None:
    third = versions[2]
    with engine.connect() as connection:
        signed = connection.scalar(
            select(GeometrySignature.log_index).where(GeometrySignature.version_id == third.id)
        )
    tamper(engine, delete(GeometrySignature).where(GeometrySignature.log_index == signed))

    index, reason = _verify(app, engine, ledger)

    assert index == signed
    assert reason == "geo_version_signatures has no row for this geo.version.signed entry"
