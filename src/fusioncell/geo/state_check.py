"""The cell's geography checked against the log by ``fusioncell verify``: each feature row is
its ``geo.feature.defined`` entry, readable by everyone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, String, column, table

from fusioncell.cell.state_check import check_rows_by_id
from fusioncell.geo.entries import GeoEntry
from fusioncell.ledger.verify.state import AudienceRule, Recorded, RecordedLog

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
_COLUMNS = ("kind", "side", "band", "name", "geometry", "authoritative")


class GeoStateCheck:
    entry_types = frozenset({GeoEntry.GEO_FEATURE_DEFINED.value})

    def audience_rule(self, log: RecordedLog) -> AudienceRule:
        def rule(entry: Recorded) -> Mapping[str, Any]:
            return {"all": True}

        return rule

    def check(self, tables: Connection, log: RecordedLog) -> None:
        check_rows_by_id(
            tables,
            _features,
            log.of_type(GeoEntry.GEO_FEATURE_DEFINED),
            lambda entry: entry.body["id"],
            lambda entry, _row: [(name, entry.body[name]) for name in _COLUMNS],
        )
