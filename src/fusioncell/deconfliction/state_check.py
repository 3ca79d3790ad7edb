"""Notifications checked against the log by ``fusioncell verify --database``: each row of
the notification tables follows from the ``deconfliction.notification.*`` entries.

    notification   its submission, its last amendment, its last check (and any noting of
                   conflicts after it), its justification and its withdrawal
    recipients     the submission's ``recipients``
    amendments     one per amendment entry
    acks           one per acknowledgement entry
    conflicts      the last check's conflicts, each noted by the noting entry that named it
    escalations    one per escalation entry

Every entry's audience is the organisations its ``released_to`` names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
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
from fusioncell.deconfliction.entries import NotificationEntry
from fusioncell.ledger.entries import parse_log_time
from fusioncell.ledger.verify.state import (
    AudienceRule,
    Recorded,
    RecordedLog,
    StateMismatch,
    require_same,
    unmatched_rows,
)

_notifications = table(
    "deconfliction_notifications",
    *(
        column(name, kind)
        for name, kind in (
            ("id", Uuid),
            ("sender_id", Uuid),
            ("organisation_id", Uuid),
            ("kind", String),
            ("category", String),
            ("flash", Boolean),
            ("geometry", JSON),
            ("buffer_m", Integer),
            ("starts_at", UTCDateTime),
            ("ends_at", UTCDateTime),
            ("description", String),
            ("participants", JSON),
            ("details", JSON),
            ("version", Integer),
            ("version_log_index", BigInteger),
            ("version_at", UTCDateTime),
            ("near_line", Boolean),
            ("required_lead_s", BigInteger),
            ("lead_time", String),
            ("precedence", String),
            ("ack_deadline", UTCDateTime),
            ("ack_ladder", JSON),
            ("justification", String),
            ("justification_due", UTCDateTime),
            ("justified_at", UTCDateTime),
            ("justification_log_index", BigInteger),
            ("conflict_status", String),
            ("checked_log_index", BigInteger),
            ("closed", String),
            ("closed_at", UTCDateTime),
            ("closed_log_index", BigInteger),
            ("closed_reason", String),
            ("log_index", BigInteger),
            ("submitted_at", UTCDateTime),
        )
    ),
)
_recipients = table(
    "deconfliction_recipients", column("notification_id", Uuid), column("organisation_id", Uuid)
)
_amendments = table(
    "deconfliction_amendments",
    column("notification_id", Uuid),
    column("version", Integer),
    column("member_id", Uuid),
    column("reason", String),
    column("log_index", BigInteger),
    column("amended_at", UTCDateTime),
)
_acks = table(
    "deconfliction_acks",
    column("id", Uuid),
    column("notification_id", Uuid),
    column("version", Integer),
    column("organisation_id", Uuid),
    column("member_id", Uuid),
    column("acked_at", UTCDateTime),
    column("log_index", BigInteger),
)
_conflicts = table(
    "deconfliction_conflicts",
    column("notification_id", Uuid),
    column("other_kind", String),
    column("other_id", String),
    column("distance_m", Float),
    column("required_m", Float),
    column("overlap_from", UTCDateTime),
    column("overlap_until", UTCDateTime),
    column("noted_log_index", BigInteger),
)
_escalations = table(
    "deconfliction_escalations",
    column("notification_id", Uuid),
    column("duty", String),
    column("version", Integer),
    column("organisation_id", Uuid),
    column("step", Integer),
    column("due_at", UTCDateTime),
    column("notify", JSON),
    column("written_at", UTCDateTime),
    column("log_index", BigInteger),
)
_TYPES = frozenset(kind.value for kind in NotificationEntry)
_CONTENT = (
    "category",
    "geometry",
    "buffer_m",
    "description",
    "participants",
    "details",
    "near_line",
    "required_lead_s",
    "lead_time",
)


class _Folded:
    """A notification as its entries leave it."""

    def __init__(self, submitted: Recorded) -> None:
        self.submitted = submitted
        self.version: Recorded = submitted
        self.checked: Recorded | None = None
        self.noted_after_check = False
        self.noted: dict[tuple[str, str], int] = {}
        self.justified: Recorded | None = None
        self.withdrawn: Recorded | None = None


def _fold(log: RecordedLog) -> dict[str, _Folded]:
    folded: dict[str, _Folded] = {}
    for entry in log.of_type(*_TYPES):
        body = entry.body
        key = str(body.get("notification"))
        if entry.entry_type == NotificationEntry.SUBMITTED:
            folded[key] = _Folded(entry)
            continue
        found = folded.get(key)
        if found is None:
            raise StateMismatch(
                entry.index, f"the entry names a notification {key} never submitted"
            )
        if entry.entry_type == NotificationEntry.AMENDED:
            found.version = entry
        elif entry.entry_type == NotificationEntry.CHECKED:
            found.checked = entry
            found.noted_after_check = False
            found.noted = {
                (str(c["with"]), str(c["id"])): int(c["noted"])
                for c in body["conflicts"]
                if c.get("noted") is not None
            }
        elif entry.entry_type == NotificationEntry.NOTED:
            found.noted_after_check = True
            for c in body["conflicts"]:
                found.noted[(str(c["with"]), str(c["id"]))] = entry.index
        elif entry.entry_type == NotificationEntry.JUSTIFIED:
            found.justified = entry
        elif entry.entry_type == NotificationEntry.WITHDRAWN:
            found.withdrawn = entry
    return folded


def _columns(folded: _Folded, directory: Directory) -> list[tuple[str, object]]:
    s, v = folded.submitted, folded.version
    sb, vb = s.body, v.body
    terms = vb["acknowledgement"]
    justified_at = (
        folded.justified.logged_at
        if folded.justified
        else (s.logged_at if sb.get("justification") else None)
    )
    status = folded.checked.body["status"] if folded.checked else "clear"
    if folded.noted_after_check:
        status = "noted"
    w = folded.withdrawn
    return [
        ("sender_id", sb["member"]),
        ("organisation_id", directory.organisation(sb["organisation"], s.index)),
        ("kind", sb["kind"]),
        ("flash", sb["flash"]),
        *((name, vb[name]) for name in _CONTENT),
        ("starts_at", parse_log_time(vb["starts_at"])),
        ("ends_at", parse_log_time(vb["ends_at"])),
        ("version", vb.get("version", 0)),
        ("version_log_index", v.index),
        ("version_at", v.logged_at),
        ("precedence", terms["precedence"]),
        ("ack_deadline", v.logged_at + timedelta(seconds=int(terms["ack_seconds"]))),
        ("ack_ladder", terms),
        (
            "justification",
            folded.justified.body["justification"] if folded.justified else sb["justification"],
        ),
        (
            "justification_due",
            parse_log_time(sb["justification_due"]) if sb.get("justification_due") else None,
        ),
        ("justified_at", justified_at),
        ("justification_log_index", folded.justified.index if folded.justified else None),
        ("conflict_status", status),
        ("checked_log_index", folded.checked.index if folded.checked else s.index),
        ("closed", w.body["closed"] if w else None),
        ("closed_at", w.logged_at if w else None),
        ("closed_log_index", w.index if w else None),
        ("closed_reason", w.body["reason"] if w else None),
        ("log_index", s.index),
        ("submitted_at", s.logged_at),
    ]


class NotificationStateCheck:
    entry_types = _TYPES

    def audience_rule(self, log: RecordedLog) -> AudienceRule:
        directory = Directory.of(log)

        def rule(entry: Recorded) -> Mapping[str, Any]:
            names = entry.body.get("released_to") or []
            return {"organisations": sorted(directory.organisation(n, entry.index) for n in names)}

        return rule

    def check(self, tables: Connection, log: RecordedLog) -> None:
        directory = Directory.of(log)
        folded = _fold(log)
        check_rows_by_id(
            tables,
            _notifications,
            [f.submitted for f in folded.values()],
            lambda entry: entry.body["notification"],
            lambda entry, _row: _columns(folded[str(entry.body["notification"])], directory),
        )
        _check_recipients(tables, folded, directory)
        check_rows_by_index(
            tables,
            _amendments,
            log.of_type(NotificationEntry.AMENDED),
            lambda row: f"{row.notification_id}/{row.version}",
            lambda entry, _row: [
                ("notification_id", entry.body["notification"]),
                ("version", entry.body["version"]),
                ("member_id", entry.body["member"]),
                ("reason", entry.body["reason"]),
                ("amended_at", entry.logged_at),
            ],
        )
        check_rows_by_index(
            tables,
            _acks,
            log.of_type(NotificationEntry.ACKNOWLEDGED),
            lambda row: str(row.id),
            lambda entry, _row: [
                ("id", entry.body["ack"]),
                ("notification_id", entry.body["notification"]),
                ("version", entry.body["version"]),
                (
                    "organisation_id",
                    directory.organisation(entry.body["organisation"], entry.index),
                ),
                ("member_id", entry.body["member"]),
                ("acked_at", entry.logged_at),
            ],
        )
        _check_conflicts(tables, folded)
        check_rows_by_index(
            tables,
            _escalations,
            log.of_type(NotificationEntry.ESCALATED),
            lambda row: f"{row.notification_id}/{row.duty}/{row.version}/{row.step}",
            lambda entry, _row: [
                ("notification_id", entry.body["notification"]),
                ("duty", entry.body["duty"]),
                ("version", entry.body["version"]),
                (
                    "organisation_id",
                    directory.organisation(entry.body["organisation"], entry.index),
                ),
                ("step", entry.body["step"]),
                ("due_at", parse_log_time(entry.body["due_at"])),
                ("notify", entry.body["notify"]),
                ("written_at", entry.logged_at),
            ],
        )


def _check_recipients(tables: Connection, folded: dict[str, _Folded], directory: Directory) -> None:
    stored: dict[str, set[str]] = {}
    for notification_id, organisation_id in tables.execute(select(_recipients)):
        stored.setdefault(str(notification_id), set()).add(str(organisation_id))
    for key, f in folded.items():
        expected = {
            directory.organisation(s, f.submitted.index) for s in f.submitted.body["recipients"]
        }
        if stored.pop(key, set()) != expected:
            raise StateMismatch(
                f.submitted.index, f"the recipients of notification {key} differ from the entry's"
            )
    for key in stored:
        raise StateMismatch(None, f"notification {key} has recipients but no entry in the log")


def _check_conflicts(tables: Connection, folded: dict[str, _Folded]) -> None:
    rows = {
        (str(r.notification_id), str(r.other_kind), str(r.other_id)): r
        for r in tables.execute(select(_conflicts))
    }
    for key, f in folded.items():
        if f.checked is None:
            continue
        for conflict in f.checked.body["conflicts"]:
            other = (str(conflict["with"]), str(conflict["id"]))
            row_id = (key, *other)
            row = rows.pop(row_id, None)
            shown = "/".join(row_id)
            if row is None:
                raise StateMismatch(f.checked.index, f"deconfliction_conflicts has no row {shown}")
            for name, recorded in (
                ("distance_m", conflict["distance_m"]),
                ("required_m", conflict["required_m"]),
                ("overlap_from", parse_log_time(conflict["from"])),
                ("overlap_until", parse_log_time(conflict["until"])),
                ("noted_log_index", f.noted.get(other)),
            ):
                require_same(
                    "deconfliction_conflicts",
                    shown,
                    name,
                    f.checked.index,
                    getattr(row, name),
                    recorded,
                )
    unmatched_rows("deconfliction_conflicts", ("/".join(k) for k in rows))
