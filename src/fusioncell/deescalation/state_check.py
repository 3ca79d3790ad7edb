"""The de-escalation track checked against the log by ``fusioncell verify``: each batch of
observations is its entry (author, organisation, source, grade), each observation one of the
entry's features, each batch's releases the organisations the entry names (which are also
every entry's audience); each baseline and exception is its proposal, with the acceptance or
the signatures the later entries record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    Integer,
    String,
    Uuid,
    column,
    select,
    table,
)
from sqlalchemy.engine import Connection

from fusioncell.cell.state_check import Directory, check_rows_by_id, check_rows_by_index
from fusioncell.db.base import UTCDateTime
from fusioncell.deescalation.entries import DeescalationEntry
from fusioncell.ledger.entries import parse_log_time
from fusioncell.ledger.verify.state import (
    AudienceRule,
    Recorded,
    RecordedLog,
    StateMismatch,
    require_same,
    unmatched_rows,
)

_batches = table(
    "deescalation_observation_batches",
    column("id", Uuid),
    column("author_id", Uuid),
    column("organisation_id", Uuid),
    column("source", String),
    column("reliability", String),
    column("credibility", Integer),
    column("log_index", BigInteger),
)
_releases = table(
    "deescalation_observation_releases", column("batch_id", Uuid), column("organisation_id", Uuid)
)
_observations = table(
    "deescalation_observations",
    column("id", Uuid),
    column("batch_id", Uuid),
    column("author_id", Uuid),
    column("feature_id", String),
    column("reporter_id", Uuid),
    column("party_id", Uuid),
    column("unit", String),
    column("category", String),
    column("count", BigInteger),
    column("calibre_mm", Float),
    column("range_km", Float),
    column("lon", Float),
    column("lat", Float),
    column("observed_at", UTCDateTime),
    column("source", String),
)
_baselines = table(
    "deescalation_baselines",
    column("id", Uuid),
    column("party_id", Uuid),
    column("at", UTCDateTime),
    column("holdings", JSON),
    column("declared_by", Uuid),
    column("log_index", BigInteger),
    column("accepted_by", Uuid),
    column("accepted_log_index", BigInteger),
)
_exceptions = table(
    "deescalation_exceptions",
    column("id", Uuid),
    column("party_id", Uuid),
    column("zone", String),
    column("category", String),
    column("max_count", BigInteger),
    column("valid_from", UTCDateTime),
    column("valid_until", UTCDateTime),
    column("note", String),
    column("proposed_by", Uuid),
    column("log_index", BigInteger),
)
_signatures = table(
    "deescalation_exception_signatures",
    column("exception_id", Uuid),
    column("organisation_id", Uuid),
    column("member_id", Uuid),
    column("log_index", BigInteger),
)
_requests = table(
    "deescalation_inspection_requests",
    column("id", Uuid),
    column("party_id", Uuid),
    column("zone", String),
    column("side", String),
    column("reason", String),
    column("requested_by", Uuid),
    column("log_index", BigInteger),
    column("requested_at", UTCDateTime),
    column("due_at", UTCDateTime),
)
_reports = table(
    "deescalation_inspection_reports",
    column("id", Uuid),
    column("zone", String),
    column("side", String),
    column("inspected_at", UTCDateTime),
    column("outcome", String),
    column("request_id", Uuid),
    column("batch_id", Uuid),
    column("note", String),
    column("reported_by", Uuid),
    column("log_index", BigInteger),
    column("reported_at", UTCDateTime),
)
_incidents = table(
    "deescalation_incidents",
    column("id", Uuid),
    column("kind", String),
    column("party_id", Uuid),
    column("report_id", Uuid),
    column("zone", String),
    column("side", String),
    column("occurred_at", UTCDateTime),
    column("recorded_by", Uuid),
    column("log_index", BigInteger),
    column("recorded_at", UTCDateTime),
)
_TYPES = frozenset(kind.value for kind in DeescalationEntry)


class DeescalationStateCheck:
    entry_types = _TYPES

    def audience_rule(self, log: RecordedLog) -> AudienceRule:
        directory = Directory.of(log)

        def rule(entry: Recorded) -> Mapping[str, Any]:
            names = entry.body.get("released_to") or []
            return {"organisations": sorted(directory.organisation(n, entry.index) for n in names)}

        return rule

    def check(self, tables: Connection, log: RecordedLog) -> None:
        directory = Directory.of(log)
        _check_observations(tables, log, directory)
        _check_baselines(tables, log, directory)
        _check_exceptions(tables, log, directory)
        _check_inspections(tables, log, directory)


def _grade(entry: Recorded) -> tuple[str | None, int | None]:
    text = entry.body.get("grade")
    return (text[0], int(text[1:])) if text else (None, None)


def _check_observations(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    batches = log.of_type(DeescalationEntry.OBSERVATIONS_RECORDED)
    check_rows_by_index(
        tables,
        _batches,
        batches,
        lambda row: str(row.id),
        lambda entry, row: [
            ("id", entry.body["batch"]),
            ("author_id", entry.body["member"]),
            ("organisation_id", directory.organisation(entry.body["organisation"], entry.index)),
            ("source", entry.body["source"]),
            ("reliability", _grade(entry)[0]),
            ("credibility", _grade(entry)[1]),
        ],
    )
    released: dict[str, set[str]] = {}
    for batch_id, organisation_id in tables.execute(select(_releases)):
        released.setdefault(str(batch_id), set()).add(str(organisation_id))
    rows = {str(row.id): row for row in tables.execute(select(_observations))}
    for entry in batches:
        body = entry.body
        expected = {directory.organisation(n, entry.index) for n in body["released_to"]}
        if released.pop(str(body["batch"]), set()) != expected:
            raise StateMismatch(
                entry.index, f"the releases of batch {body['batch']} differ from the entry's"
            )
        reporter = directory.organisation(body["organisation"], entry.index)
        for feature in body["features"]:
            props = feature["properties"]
            row_id = str(props["observation"])
            row = rows.pop(row_id, None)
            if row is None:
                raise StateMismatch(entry.index, f"deescalation_observations has no row {row_id}")
            lon, lat = feature["geometry"]["coordinates"][:2]
            for name, recorded in (
                ("batch_id", body["batch"]),
                ("author_id", body["member"]),
                ("feature_id", feature["id"]),
                ("reporter_id", reporter),
                ("party_id", directory.organisation(props["party"], entry.index)),
                ("unit", props["unit"]),
                ("category", props["category"]),
                ("count", props["count"]),
                ("calibre_mm", props["calibre_mm"]),
                ("range_km", props["range_km"]),
                ("lon", lon),
                ("lat", lat),
                ("observed_at", parse_log_time(props["observed_at"])),
                ("source", body["source"]),
            ):
                stored = getattr(row, name)
                require_same(
                    "deescalation_observations", row_id, name, entry.index, stored, recorded
                )
    unmatched_rows("deescalation_observations", rows)
    for batch in released:
        raise StateMismatch(None, f"batch {batch} has releases but no entry in the log")


def _check_baselines(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    accepted = {
        str(e.body["baseline"]): e for e in log.of_type(DeescalationEntry.BASELINE_ACCEPTED)
    }
    check_rows_by_id(
        tables,
        _baselines,
        log.of_type(DeescalationEntry.BASELINE_DECLARED),
        lambda entry: entry.body["baseline"],
        lambda entry, _row: [
            ("party_id", directory.organisation(entry.body["party"], entry.index)),
            ("at", parse_log_time(entry.body["at"])),
            ("holdings", entry.body["holdings"]),
            ("declared_by", entry.body["member"]),
            ("log_index", entry.index),
            (
                "accepted_by",
                accepted[b].body["member"]
                if (b := str(entry.body["baseline"])) in accepted
                else None,
            ),
            (
                "accepted_log_index",
                accepted[b].index if (b := str(entry.body["baseline"])) in accepted else None,
            ),
        ],
    )


def _check_exceptions(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    check_rows_by_id(
        tables,
        _exceptions,
        log.of_type(DeescalationEntry.EXCEPTION_PROPOSED),
        lambda entry: entry.body["exception"],
        lambda entry, _row: [
            ("party_id", directory.organisation(entry.body["party"], entry.index)),
            ("zone", entry.body["zone"]),
            ("category", entry.body["category"]),
            ("max_count", entry.body["max_count"]),
            ("valid_from", parse_log_time(entry.body["valid_from"])),
            ("valid_until", parse_log_time(entry.body["valid_until"])),
            ("note", entry.body["note"]),
            ("proposed_by", entry.body["member"]),
            ("log_index", entry.index),
        ],
    )
    check_rows_by_index(
        tables,
        _signatures,
        log.of_type(DeescalationEntry.EXCEPTION_SIGNED),
        lambda row: f"{row.exception_id}/{row.organisation_id}",
        lambda entry, _row: [
            ("exception_id", entry.body["exception"]),
            ("organisation_id", directory.organisation(entry.body["organisation"], entry.index)),
            ("member_id", entry.body["member"]),
        ],
    )


def _check_inspections(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    """Each request, report and incident is its entry; a report names the batch of its
    counted holdings and the request it carries out, an incident the report it comes from."""
    check_rows_by_id(
        tables,
        _requests,
        log.of_type(DeescalationEntry.INSPECTION_REQUESTED),
        lambda entry: entry.body["request"],
        lambda entry, _row: [
            ("party_id", directory.organisation(entry.body["party"], entry.index)),
            ("zone", entry.body["zone"]),
            ("side", entry.body["side"]),
            ("reason", entry.body["reason"]),
            ("requested_by", entry.body["member"]),
            ("log_index", entry.index),
            ("requested_at", entry.logged_at),
            ("due_at", parse_log_time(entry.body["due_at"])),
        ],
    )
    check_rows_by_id(
        tables,
        _reports,
        log.of_type(DeescalationEntry.INSPECTION_REPORTED),
        lambda entry: entry.body["report"],
        lambda entry, _row: [
            ("zone", entry.body["zone"]),
            ("side", entry.body["side"]),
            ("inspected_at", parse_log_time(entry.body["inspected_at"])),
            ("outcome", entry.body["outcome"]),
            ("request_id", entry.body["request"]),
            ("batch_id", entry.body["batch"]),
            ("note", entry.body["note"]),
            ("reported_by", entry.body["member"]),
            ("log_index", entry.index),
            ("reported_at", entry.logged_at),
        ],
    )
    check_rows_by_id(
        tables,
        _incidents,
        log.of_type(DeescalationEntry.INCIDENT_RECORDED),
        lambda entry: entry.body["incident"],
        lambda entry, _row: [
            ("kind", entry.body["kind"]),
            ("party_id", directory.organisation(entry.body["party"], entry.index)),
            ("report_id", entry.body["report"]),
            ("zone", entry.body["zone"]),
            ("side", entry.body["side"]),
            ("occurred_at", parse_log_time(entry.body["occurred_at"])),
            ("recorded_by", entry.body["member"]),
            ("log_index", entry.index),
            ("recorded_at", entry.logged_at),
        ],
    )
