"""Intelligence checked against the log by ``fusioncell verify``: each report row is its
entry (the bundle as released, its kind, TLP, grade and links), its releases are the
organisations the entry names, which are also the entry's audience, and its object versions
are the bundle's objects."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, Integer, String, Uuid, column, select, table
from sqlalchemy.engine import Connection

from fusioncell.cell.state_check import Directory, check_rows_by_id
from fusioncell.intel.entries import IntelEntry
from fusioncell.ledger.verify.state import AudienceRule, Recorded, RecordedLog, StateMismatch

_reports = table(
    "intel_reports",
    column("id", Uuid),
    column("kind", String),
    column("author_organisation_id", Uuid),
    column("derived_from", Uuid),
    column("responds_to", Uuid),
    column("tlp", String),
    column("reliability", String),
    column("credibility", Integer),
    column("request_hash", String),
    column("bundle", JSON),
    column("log_index", Integer),
)
_releases = table("intel_releases", column("report_id", Uuid), column("organisation_id", Uuid))
_objects = table(
    "intel_objects", column("report_id", Uuid), column("stix_id", String), column("body", JSON)
)
_TYPES = frozenset(kind.value for kind in IntelEntry)


def _loaded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class IntelStateCheck:
    entry_types = _TYPES

    def audience_rule(self, log: RecordedLog) -> AudienceRule:
        directory = Directory.of(log)

        def rule(entry: Recorded) -> Mapping[str, Any]:
            names = entry.body.get("released_to") or []
            return {"organisations": sorted(directory.organisation(n, entry.index) for n in names)}

        return rule

    def check(self, tables: Connection, log: RecordedLog) -> None:
        directory = Directory.of(log)
        entries = log.of_type(*_TYPES)

        def grade(entry: Recorded) -> tuple[str | None, int | None]:
            text = entry.body.get("grade")
            return (text[0], int(text[1:])) if text else (None, None)

        check_rows_by_id(
            tables,
            _reports,
            entries,
            lambda entry: entry.body["report"],
            lambda entry, row: [
                ("kind", entry.body["kind"]),
                ("author_organisation_id", entry.body["author_organisation"]),
                ("derived_from", entry.body.get("derived_from")),
                ("responds_to", entry.body.get("responds_to")),
                ("tlp", entry.body["tlp"]),
                ("reliability", grade(entry)[0]),
                ("credibility", grade(entry)[1]),
                ("request_hash", entry.body["request"]),
                ("log_index", entry.index),
                ("bundle", entry.body["bundle"]),
            ],
        )
        released: dict[str, set[str]] = {}
        for report_id, organisation_id in tables.execute(select(_releases)):
            released.setdefault(str(report_id), set()).add(str(organisation_id))
        held: dict[str, list[Any]] = {}
        for report_id, _stix_id, body in tables.execute(select(_objects)):
            held.setdefault(str(report_id), []).append(_loaded(body))
        for entry in entries:
            report = str(entry.body["report"])
            names = entry.body.get("released_to") or []
            expected = {directory.organisation(n, entry.index) for n in names}
            if released.pop(report, set()) != expected:
                raise StateMismatch(
                    entry.index, f"intel_releases of report {report} differ from the entry's"
                )
            key = lambda item: json.dumps(item, sort_keys=True)  # noqa: E731
            stored = sorted(held.pop(report, []), key=key)
            if stored != sorted(entry.body["bundle"]["objects"], key=key):
                raise StateMismatch(
                    entry.index, f"intel_objects of report {report} differ from its bundle"
                )
        for report in [*released, *held]:
            raise StateMismatch(None, f"intel rows of report {report} have no entry in the log")
