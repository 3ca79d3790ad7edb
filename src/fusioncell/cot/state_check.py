"""The CoT gateway checked against the log by ``fusioncell verify --database``: each
certificate row is its ``cot.certificate.issued`` entry (and its revocation, if one was
logged), each received event is its ``cot.event.received`` entry byte for byte, and each
uid is claimed by the party of the first accepted position for it. Every entry's audience is
its member's organisation and the supervising organisations that existed before it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import BigInteger, String, Text, Uuid, column, select, table
from sqlalchemy.engine import Connection

from fusioncell.cell.entries import CellEntry
from fusioncell.cell.state_check import Directory, check_rows_by_index
from fusioncell.cot.entries import CotEntry as E
from fusioncell.ledger.verify.state import (
    AudienceRule,
    Recorded,
    RecordedLog,
    StateMismatch,
    require_same,
    unmatched_rows,
)

SUPERVISOR = "supervisor"

_certificates = table(
    "cot_certificates",
    column("serial", String),
    column("member_id", Uuid),
    column("fingerprint", String),
    column("log_index", BigInteger),
    column("revoked_log_index", BigInteger),
)
_events = table(
    "cot_events",
    column("id", Uuid),
    column("member_id", Uuid),
    column("organisation_id", Uuid),
    column("uid", String),
    column("type", String),
    column("kind", String),
    column("became", BigInteger),
    column("sha256", String),
    column("raw", Text),
    column("log_index", BigInteger),
)
_uids = table(
    "cot_uids",
    column("uid", String),
    column("organisation_id", Uuid),
    column("member_id", Uuid),
    column("log_index", BigInteger),
)


class CotStateCheck:
    entry_types = frozenset(kind.value for kind in E)

    def audience_rule(self, log: RecordedLog) -> AudienceRule:
        directory = Directory.of(log)
        supervisors = [
            (entry.index, str(entry.body["organisation"]))
            for entry in log.of_type(CellEntry.ORGANISATION_CREATED)
            if entry.body.get("kind") == SUPERVISOR
        ]

        def rule(entry: Recorded) -> Mapping[str, Any]:
            own = directory.organisation(entry.body.get("organisation"), entry.index)
            before = [org for index, org in supervisors if index < entry.index]
            return {"organisations": sorted({own, *before})}

        return rule

    def check(self, tables: Connection, log: RecordedLog) -> None:
        directory = Directory.of(log)
        revoked = {str(e.body["serial"]): e.index for e in log.of_type(E.CERTIFICATE_REVOKED)}
        check_rows_by_index(
            tables,
            _certificates,
            log.of_type(E.CERTIFICATE_ISSUED),
            lambda row: f"certificate {row.serial}",
            lambda entry, _row: [
                ("serial", entry.body["serial"]),
                ("member_id", entry.body["member"]),
                ("fingerprint", entry.body["fingerprint"]),
                ("revoked_log_index", revoked.get(str(entry.body["serial"]))),
            ],
        )
        received = log.of_type(E.EVENT_RECEIVED)
        check_rows_by_index(
            tables,
            _events,
            received,
            lambda row: f"event {row.id}",
            lambda entry, _row: [
                ("id", entry.body["event"]),
                ("member_id", entry.body["member"]),
                (
                    "organisation_id",
                    directory.organisation(entry.body["organisation"], entry.index),
                ),
                *((name, entry.body[name]) for name in ("uid", "type", "kind", "became")),
                ("sha256", entry.body["sha256"]),
                ("raw", entry.body["raw"]),
            ],
        )
        claims: dict[str, Any] = {}
        for entry in received:
            if entry.body["kind"] == "position":
                claims.setdefault(str(entry.body["uid"]), entry)
        rows = {str(row.uid): row for row in tables.execute(select(_uids))}
        for uid, entry in claims.items():
            row = rows.pop(uid, None)
            if row is None:
                raise StateMismatch(entry.index, f"cot_uids has no row for {uid!r}")
            owner = directory.organisation(entry.body["organisation"], entry.index)
            for name, recorded in (
                ("organisation_id", owner),
                ("member_id", entry.body["member"]),
                ("log_index", entry.index),
            ):
                require_same("cot_uids", uid, name, entry.index, getattr(row, name), recorded)
        unmatched_rows("cot_uids", rows)
