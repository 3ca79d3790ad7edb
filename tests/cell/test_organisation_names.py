"""Organisations carry their name per language: the action takes the names, the signed entry
records them (and an entry without them still verifies), verify compares them with the rows,
and the pages show the one for their language."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from tests.cell.factories import fresh
from tests.helpers.verifying import entry_index, tamper, verify_state

from fusioncell.cell.actions.organisations import do_create_organisation
from fusioncell.cell.entries import CellEntry
from fusioncell.cell.models import Organisation, OrganisationKind
from fusioncell.cell.policy import console_viewer
from fusioncell.clock import ManualClock
from fusioncell.errors import IdempotencyConflict, InvalidInput
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import EntryBody, LogEntry
from fusioncell.scenario.demo import stable_id

Counts = Callable[[], dict[str, int]]
NAMES = {"ar": "المنظمة الإنسانية 2", "he": "ארגון הומניטרי 2"}


def _bodies(db: Session) -> list[dict[str, object]]:
    rows = db.scalars(
        select(EntryBody.body)
        .join(LogEntry, LogEntry.index == EntryBody.entry_index)
        .where(LogEntry.entry_type == CellEntry.ORGANISATION_CREATED.value)
        .order_by(LogEntry.index)
    ).all()
    return [json.loads(body) for body in rows]


def _create(db: Session, clock: ManualClock, organisation_id: uuid.UUID, **extra: object) -> None:
    do_create_organisation(
        db,
        console_viewer(uuid.uuid4()),
        organisation_id=organisation_id,
        slug="HUM-2",
        name="Humanitarian organisation 2",
        kind=OrganisationKind.HUMANITARIAN,
        now=clock.now(),
        **extra,  # type: ignore[arg-type]
    )


def test_an_organisation_keeps_its_names_per_language_in_its_row_and_its_signed_entry(
    db: Session, clock: ManualClock
) -> None:
    organisation_id = uuid.uuid4()

    _create(db, clock, organisation_id, names={"he": " ארגון הומניטרי 2 ", "ar": NAMES["ar"]})

    row = fresh(db, Organisation, organisation_id)
    assert isinstance(row, Organisation)
    assert row.names == NAMES
    assert (row.name_in("ar"), row.name_in("he"), row.name_in("en")) == (
        NAMES["ar"],
        NAMES["he"],
        "Humanitarian organisation 2",
    )
    assert _bodies(db)[-1] == {
        "organisation": str(organisation_id),
        "slug": "HUM-2",
        "name": "Humanitarian organisation 2",
        "kind": "humanitarian",
        "names": NAMES,
    }


def test_an_organisation_without_names_is_recorded_as_before_and_named_by_its_one_name(
    db: Session, clock: ManualClock
) -> None:
    organisation_id = uuid.uuid4()

    _create(db, clock, organisation_id, names={"ar": "  "})

    row = fresh(db, Organisation, organisation_id)
    assert isinstance(row, Organisation)
    assert row.names == {}
    assert row.name_in("ar") == "Humanitarian organisation 2"
    assert "names" not in _bodies(db)[-1]


def test_a_name_in_a_language_not_offered_is_refused_and_nothing_is_written(
    db: Session, clock: ManualClock, table_counts: Counts
) -> None:
    before = table_counts()

    with pytest.raises(InvalidInput) as refused:
        _create(db, clock, uuid.uuid4(), names={"fr": "Organisation humanitaire 2"})

    assert str(refused.value.detail) == (
        "an organisation's name is given in fr, which is not offered"
    )
    assert table_counts() == before


def test_a_retry_with_other_names_is_an_idempotency_conflict(
    db: Session, clock: ManualClock, table_counts: Counts
) -> None:
    organisation_id = uuid.uuid4()
    _create(db, clock, organisation_id, names=NAMES)
    _create(db, clock, organisation_id, names=dict(NAMES))  # the same request again
    before = table_counts()

    with pytest.raises(IdempotencyConflict):
        _create(db, clock, organisation_id, names={"ar": "اسم آخر"})

    assert table_counts() == before


def test_the_demo_organisations_verify_with_their_names(
    app: FastAPI, demo: None, engine: Engine, ledger: LedgerContext, db: Session
) -> None:
    alpha = db.get(Organisation, stable_id("organisation", "ALPHA"))
    assert alpha is not None
    assert (alpha.name_in("ar"), alpha.name_in("he")) == ("الطرف ألفا", "הצד אלפא")
    app.state.checkpointer.run_once()

    report = verify_state(engine, ledger)

    assert report.ok, report.summary()


def test_a_name_changed_on_the_copy_fails_at_the_organisations_entry(
    app: FastAPI, demo: None, engine: Engine, ledger: LedgerContext
) -> None:
    app.state.checkpointer.run_once()
    alpha = stable_id("organisation", "ALPHA")
    tamper(
        engine,
        update(Organisation)
        .where(Organisation.id == alpha)
        .values(names={"ar": "الطرف ألفا", "he": "שם אחר"}),
    )

    report = verify_state(engine, ledger)

    assert report.failed_index == entry_index(engine, CellEntry.ORGANISATION_CREATED)
    assert report.reason is not None
    assert f"organisations row {alpha}: names is" in report.reason
