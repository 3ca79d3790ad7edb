"""The geography's state check: each feature row must be its ``geo.feature.defined`` entry."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine, select, update
from tests.helpers.verifying import verify_state

from fusioncell.geo.entries import GeoEntry
from fusioncell.geo.models import GeoFeature
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.entries import canonical
from fusioncell.ledger.models import LogEntry


def test_a_moved_protected_site_fails_at_the_entry_that_defined_it(
    demo: None, app: FastAPI, engine: Engine, ledger: LedgerContext
) -> None:
    app.state.checkpointer.run_once()
    with engine.begin() as connection:
        site = connection.execute(
            select(GeoFeature.id, GeoFeature.geometry).where(GeoFeature.kind == "protected_site")
        ).first()
        assert site is not None
        moved = {"type": "Point", "coordinates": [35.5, 33.5]}
        connection.execute(
            update(GeoFeature).where(GeoFeature.id == site.id).values(geometry=moved)
        )
        defined = connection.scalars(
            select(LogEntry.index).where(LogEntry.entry_type == GeoEntry.GEO_FEATURE_DEFINED.value)
        ).all()

    report = verify_state(engine, ledger)

    assert report.failed_index in defined
    assert report.reason == (
        f'geo_features row {site.id}: geometry is {{"coordinates":[35.5,33.5],"type":"Point"}}, '
        f"but the entry records {canonical(site.geometry).decode()}"
    )
