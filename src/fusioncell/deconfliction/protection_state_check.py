"""The registry, the no-strike lists, incidents and alerts checked against the log by
``fusioncell verify --database``: each row follows from the ``deconfliction.place.*``,
``.no_strike_list.*``, ``.incident.*`` and ``.alert.*`` entries.

    protected places   the proposal; in force from the signature whose body says ``agreed``
    signatures         one per signature entry
    no-strike lists    one per list sent, with its focal point's acknowledgement
    incidents          one per report
    alerts             one per alert raised, its recipients (``released_to``; ``parties``
                       marks the parties) and one acknowledgement per acknowledging entry

Every entry's audience is the organisations its ``released_to`` names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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
from fusioncell.deconfliction.entries import ProtectionEntry
from fusioncell.ledger.entries import parse_log_time
from fusioncell.ledger.verify.state import (
    AudienceRule,
    Recorded,
    RecordedLog,
    StateMismatch,
)


def _table(name: str, *columns: tuple[str, Any]) -> Any:
    return table(name, *(column(n, kind) for n, kind in columns))


_places = _table(
    "deconfliction_protected_places",
    ("id", Uuid),
    ("proposed_by", Uuid),
    ("organisation_id", Uuid),
    ("kind", String),
    ("name", String),
    ("population", String),
    ("geometry", JSON),
    ("buffer_m", Integer),
    ("note", String),
    ("log_index", BigInteger),
    ("proposed_at", UTCDateTime),
    ("agreed_log_index", BigInteger),
    ("agreed_at", UTCDateTime),
)
_signatures = _table(
    "deconfliction_place_signatures",
    ("place_id", Uuid),
    ("organisation_id", Uuid),
    ("member_id", Uuid),
    ("log_index", BigInteger),
    ("signed_at", UTCDateTime),
)
_lists = _table(
    "deconfliction_no_strike_lists",
    ("id", Uuid),
    ("party_id", Uuid),
    ("period", String),
    ("content", JSON),
    ("digest", String),
    ("places", Integer),
    ("log_index", BigInteger),
    ("sent_at", UTCDateTime),
    ("ack_due_at", UTCDateTime),
    ("acknowledged_by", Uuid),
    ("ack_log_index", BigInteger),
    ("acknowledged_at", UTCDateTime),
)
_incidents = _table(
    "deconfliction_incidents",
    ("id", Uuid),
    ("reported_by", Uuid),
    ("organisation_id", Uuid),
    ("kind", String),
    ("affects", String),
    ("target_id", String),
    ("target_name", String),
    ("denied", String),
    ("attributed_to", Uuid),
    ("lon", Float),
    ("lat", Float),
    ("occurred_at", UTCDateTime),
    ("description", String),
    ("evidence", JSON),
    ("log_index", BigInteger),
    ("reported_at", UTCDateTime),
)
_alerts = _table(
    "deconfliction_alerts",
    ("id", Uuid),
    ("trigger", String),
    ("source_id", String),
    ("community_id", Uuid),
    ("distance_m", Float),
    ("lon", Float),
    ("lat", Float),
    ("occurred_at", UTCDateTime),
    ("precedence", String),
    ("ack_deadline", UTCDateTime),
    ("log_index", BigInteger),
    ("raised_at", UTCDateTime),
)
_recipients = _table(
    "deconfliction_alert_recipients",
    ("alert_id", Uuid),
    ("organisation_id", Uuid),
    ("party", Boolean),
)
_alert_acks = _table(
    "deconfliction_alert_acks",
    ("alert_id", Uuid),
    ("organisation_id", Uuid),
    ("member_id", Uuid),
    ("log_index", BigInteger),
    ("acked_at", UTCDateTime),
)
_TYPES = frozenset(kind.value for kind in ProtectionEntry)


def _by(log: RecordedLog, entry_type: ProtectionEntry, key: str) -> dict[str, Recorded]:
    """The entries of a type by the id their body names (the first, for an id logged twice)."""
    found: dict[str, Recorded] = {}
    for entry in log.of_type(entry_type):
        found.setdefault(str(entry.body[key]), entry)
    return found


def _agreed(log: RecordedLog) -> dict[str, Recorded]:
    return {
        str(e.body["place"]): e
        for e in log.of_type(ProtectionEntry.PLACE_SIGNED)
        if e.body.get("agreed")
    }


def _point(body: Mapping[str, Any]) -> tuple[float, float]:
    lon, lat = body["location"]["coordinates"][:2]
    return float(lon), float(lat)


class ProtectionStateCheck:
    entry_types = _TYPES

    def audience_rule(self, log: RecordedLog) -> AudienceRule:
        directory = Directory.of(log)

        def rule(entry: Recorded) -> Mapping[str, Any]:
            names = entry.body.get("released_to") or []
            return {"organisations": sorted(directory.organisation(n, entry.index) for n in names)}

        return rule

    def check(self, tables: Connection, log: RecordedLog) -> None:
        directory = Directory.of(log)
        agreed = _agreed(log)

        def place(entry: Recorded, _row: Any) -> list[tuple[str, object]]:
            b = entry.body
            done = agreed.get(str(b["place"]))
            return [
                ("proposed_by", b["member"]),
                ("organisation_id", directory.organisation(b["organisation"], entry.index)),
                *((name, b[name]) for name in ("kind", "name", "population", "geometry")),
                ("buffer_m", b["buffer_m"]),
                ("note", b["note"]),
                ("log_index", entry.index),
                ("proposed_at", entry.logged_at),
                ("agreed_log_index", done.index if done else None),
                ("agreed_at", done.logged_at if done else None),
            ]

        check_rows_by_id(
            tables,
            _places,
            log.of_type(ProtectionEntry.PLACE_PROPOSED),
            lambda entry: entry.body["place"],
            place,
        )
        check_rows_by_index(
            tables,
            _signatures,
            log.of_type(ProtectionEntry.PLACE_SIGNED),
            lambda row: f"{row.place_id}/{row.organisation_id}",
            lambda entry, _row: [
                ("place_id", entry.body["place"]),
                (
                    "organisation_id",
                    directory.organisation(entry.body["organisation"], entry.index),
                ),
                ("member_id", entry.body["member"]),
                ("signed_at", entry.logged_at),
            ],
        )
        acked = _by(log, ProtectionEntry.NO_STRIKE_LIST_ACKNOWLEDGED, "list")

        def sent(entry: Recorded, _row: Any) -> list[tuple[str, object]]:
            b = entry.body
            ack = acked.get(str(b["list"]))
            return [
                ("party_id", directory.organisation(b["party"], entry.index)),
                ("period", b["period"]),
                ("content", b["content"]),
                ("digest", b["digest"]),
                ("places", len(b["content"]["features"])),
                ("log_index", entry.index),
                ("sent_at", entry.logged_at),
                ("ack_due_at", parse_log_time(b["ack_due"])),
                ("acknowledged_by", ack.body["member"] if ack else None),
                ("ack_log_index", ack.index if ack else None),
                ("acknowledged_at", ack.logged_at if ack else None),
            ]

        check_rows_by_id(
            tables,
            _lists,
            log.of_type(ProtectionEntry.NO_STRIKE_LIST_SENT),
            lambda entry: entry.body["list"],
            sent,
        )

        def incident(entry: Recorded, _row: Any) -> list[tuple[str, object]]:
            b = entry.body
            lon, lat = _point(b)
            attributed = b["attributed_to"]
            return [
                ("reported_by", b["member"]),
                ("organisation_id", directory.organisation(b["organisation"], entry.index)),
                ("kind", b["kind"]),
                ("affects", b["affects"]),
                ("target_id", b["target"]),
                ("target_name", b["target_name"]),
                ("denied", b["denied"]),
                (
                    "attributed_to",
                    directory.organisation(attributed, entry.index) if attributed else None,
                ),
                ("lon", lon),
                ("lat", lat),
                ("occurred_at", parse_log_time(b["occurred_at"])),
                ("description", b["description"]),
                ("evidence", b["evidence"]),
                ("log_index", entry.index),
                ("reported_at", entry.logged_at),
            ]

        check_rows_by_id(
            tables,
            _incidents,
            log.of_type(ProtectionEntry.INCIDENT_REPORTED),
            lambda entry: entry.body["incident"],
            incident,
        )

        def alert(entry: Recorded, _row: Any) -> list[tuple[str, object]]:
            b = entry.body
            lon, lat = _point(b)
            return [
                ("trigger", b["trigger"]),
                ("source_id", b["source"]),
                ("community_id", b["community"]),
                ("distance_m", float(b["distance_m"])),
                ("lon", lon),
                ("lat", lat),
                ("occurred_at", parse_log_time(b["occurred_at"])),
                ("precedence", b["precedence"]),
                ("ack_deadline", parse_log_time(b["ack_deadline"])),
                ("log_index", entry.index),
                ("raised_at", entry.logged_at),
            ]

        raised = log.of_type(ProtectionEntry.ALERT_RAISED)
        check_rows_by_id(tables, _alerts, raised, lambda entry: entry.body["alert"], alert)
        _check_recipients(tables, raised, directory)
        check_rows_by_index(
            tables,
            _alert_acks,
            log.of_type(ProtectionEntry.ALERT_ACKNOWLEDGED),
            lambda row: f"{row.alert_id}/{row.organisation_id}",
            lambda entry, _row: [
                ("alert_id", entry.body["alert"]),
                (
                    "organisation_id",
                    directory.organisation(entry.body["organisation"], entry.index),
                ),
                ("member_id", entry.body["member"]),
                ("acked_at", entry.logged_at),
            ],
        )


def _check_recipients(tables: Connection, raised: list[Recorded], directory: Directory) -> None:
    stored: dict[str, set[tuple[str, bool]]] = {}
    for alert_id, organisation_id, party in tables.execute(select(_recipients)):
        stored.setdefault(str(alert_id), set()).add((str(organisation_id), bool(party)))
    for entry in raised:
        parties = set(entry.body["parties"])
        expected = {
            (directory.organisation(slug, entry.index), slug in parties)
            for slug in entry.body["released_to"]
        }
        if stored.pop(str(entry.body["alert"]), set()) != expected:
            raise StateMismatch(
                entry.index,
                f"the recipients of alert {entry.body['alert']} differ from the entry's",
            )
    for key in stored:
        raise StateMismatch(None, f"alert {key} has recipients but no entry in the log")
