"""The cell's geography checked against the log by ``fusioncell verify``: each feature row is
its ``geo.feature.defined`` entry, readable by everyone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, String, column, select, table

from fusioncell.geo.entries import GeoEntry
from fusioncell.ledger.verify.state import (
    AudienceRule,
    Recorded,
    RecordedLog,
    StateMismatch,
    require_same,
    unmatched_rows,
)

_features = table(
    "geo_features",
    column("id", String),
    column("kind", String),
    column("side", String),
    column("band", String),
    column("name", String),
    column("geometry", JSON),
    column("authoritative", Boolean),
)


class GeoStateCheck:
    entry_types = frozenset({GeoEntry.GEO_FEATURE_DEFINED.value})

    def audience_rule(self, log: RecordedLog) -> AudienceRule:
        def rule(entry: Recorded) -> Mapping[str, Any]:
            return {"all": True}

        return rule

    def check(self, tables: Connection, log: RecordedLog) -> None:
        rows = {str(row.id): row for row in tables.execute(select(_features))}
        for entry in log.of_type(GeoEntry.GEO_FEATURE_DEFINED):
            body = entry.body
            row = rows.pop(str(body["id"]), None)
            if row is None:
                raise StateMismatch(entry.index, f"geo_features has no row {body['id']}")
            for name in ("kind", "side", "band", "name", "geometry", "authoritative"):
                require_same(
                    "geo_features", row.id, name, entry.index, getattr(row, name), body[name]
                )
        unmatched_rows("geo_features", rows)
