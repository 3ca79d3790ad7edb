"""The verification track checked against the log by ``fusioncell verify --database``: each
case is its complaint's entry and where its later entries left it; each step row, access
request, incident, comment, escalation and evidence holder is its entry; each stored file
hashes to its name, and each sealed comment's stored text and nonce hash to the commitment
its entry published (before the reveal, too). Every entry's audience is the organisations its
``released_to`` names."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    Integer,
    LargeBinary,
    String,
    Uuid,
    column,
    select,
    table,
)
from sqlalchemy.engine import Connection

from fusioncell.cell.state_check import Directory, check_rows_by_id, check_rows_by_index
from fusioncell.db.base import UTCDateTime
from fusioncell.ledger.entries import parse_log_time
from fusioncell.ledger.verify.state import (
    AudienceRule,
    Recorded,
    RecordedLog,
    StateMismatch,
    require_same,
    unmatched_rows,
)
from fusioncell.verification.actions.findings import commitment
from fusioncell.verification.entries import VerificationEntry as E

_TYPES = frozenset(kind.value for kind in E)
_STEPS = tuple(k.value for k in E if k not in (E.EVIDENCE_STORED, E.COMPLAINT_FILED))


def _t(name: str, *columns: Any) -> Any:
    return table(name, *columns)


_cases = _t(
    "verification_cases",
    *(column(n, Uuid) for n in ("id", "filed_by", "organisation_id", "against_id")),
    *(column(n, Uuid) for n in ("outcome_party_id", "remedy_party_id", "duplicate_of")),
    column("number", Integer),
    *(column(n, String) for n in ("rule", "allegation", "state", "triage", "outcome")),
    column("lon", Float),
    column("lat", Float),
    *(column(n, JSON) for n in ("links", "evidence", "candidate", "released_to", "ladder")),
    column("log_index", BigInteger),
    *(
        column(n, UTCDateTime)
        for n in (
            "occurred_at",
            "filed_at",
            "triage_due_at",
            "triaged_at",
            "tasked_at",
            "on_site_due_at",
            "visited_at",
            "drafted_at",
            "comments_close_at",
            "issued_at",
            "remedy_due_at",
            "remedy_verified_at",
            "closed_at",
        )
    ),
)
_steps = _t(
    "verification_steps",
    column("log_index", BigInteger),
    column("case_id", Uuid),
    column("kind", String),
    column("member_id", Uuid),
    column("organisation_id", Uuid),
    column("at", UTCDateTime),
)
_requests = _t(
    "verification_access_requests",
    *(column(n, Uuid) for n in ("id", "case_id", "party_id", "requested_by", "answered_by")),
    column("place", String),
    column("answer", String),
    column("log_index", BigInteger),
    column("answer_index", BigInteger),
    *(column(n, UTCDateTime) for n in ("requested_at", "due_at", "answered_at")),
)
_incidents = _t(
    "verification_incidents",
    *(column(n, Uuid) for n in ("id", "case_id", "request_id", "party_id")),
    column("occurred_at", UTCDateTime),
    column("log_index", BigInteger),
)
_comments = _t(
    "verification_comments",
    *(column(n, Uuid) for n in ("id", "case_id", "organisation_id", "member_id")),
    *(column(n, String) for n in ("text", "nonce", "commitment")),
    column("log_index", BigInteger),
    column("revealed_index", BigInteger),
)
_escalations = _t(
    "verification_escalations",
    column("case_id", Uuid),
    column("duty", String),
    column("subject", Uuid),
    column("step", Integer),
    column("organisation_id", Uuid),
    column("due_at", UTCDateTime),
    column("notify", JSON),
    column("log_index", BigInteger),
)
_files = _t(
    "verification_evidence",
    column("sha256", String),
    column("media_type", String),
    column("size", BigInteger),
    column("content", LargeBinary),
)
_holders = _t(
    "verification_evidence_holders",
    column("sha256", String),
    column("organisation_id", Uuid),
    column("member_id", Uuid),
    column("log_index", BigInteger),
)
_attached = _t("verification_case_evidence", column("case_id", Uuid), column("sha256", String))


class VerificationStateCheck:
    entry_types = _TYPES

    def audience_rule(self, log: RecordedLog) -> AudienceRule:
        directory = Directory.of(log)

        def rule(entry: Recorded) -> Mapping[str, Any]:
            names = entry.body.get("released_to") or []
            return {"organisations": sorted(directory.organisation(n, entry.index) for n in names)}

        return rule

    def check(self, tables: Connection, log: RecordedLog) -> None:
        directory = Directory.of(log)
        _check_cases(tables, log, directory)
        _check_steps(tables, log, directory)
        _check_requests(tables, log, directory)
        _check_comments(tables, log, directory)
        _check_escalations(tables, log, directory)
        _check_evidence(tables, log, directory)


def _party(directory: Directory, slug: object, index: int) -> str | None:
    return directory.organisation(slug, index) if slug is not None else None


def _where_left(log: RecordedLog, directory: Directory) -> dict[str, dict[str, Any]]:
    """What each case's later entries recorded, column by column."""
    found: dict[str, dict[str, Any]] = {}
    for entry in log.of_type(*_STEPS):
        b, at = entry.body, entry.logged_at
        row = found.setdefault(str(b["case"]), {})
        row["state"] = b["state"]
        kind = entry.entry_type
        if kind == E.COMPLAINT_TRIAGED:
            row.update(triage=b["triage"], triaged_at=at, duplicate_of=b["duplicate_of"])
        elif kind == E.VERIFIER_TASKED:
            row.update(tasked_at=at, on_site_due_at=parse_log_time(b["on_site_due_at"]))
        elif kind == E.SITE_VISITED:
            row.setdefault("visited_at", at)
        elif kind == E.FINDING_DRAFTED:
            row.update(drafted_at=at, comments_close_at=parse_log_time(b["comments_close_at"]))
        elif kind == E.FINDING_ISSUED:
            row.update(
                outcome=b["outcome"],
                outcome_party_id=_party(directory, b["party"], entry.index),
                issued_at=at,
            )
        elif kind == E.REMEDY_REQUESTED:
            row.update(
                remedy_due_at=parse_log_time(b["due_at"]),
                remedy_party_id=_party(directory, b["party"], entry.index),
            )
        elif kind == E.REMEDY_VERIFIED:
            row.update(remedy_verified_at=at)
        elif kind == E.CASE_CLOSED:
            row.update(closed_at=at)
    return found


_LATER = (
    "triage",
    "triaged_at",
    "duplicate_of",
    "tasked_at",
    "on_site_due_at",
    "visited_at",
    "drafted_at",
    "comments_close_at",
    "outcome",
    "outcome_party_id",
    "issued_at",
    "remedy_due_at",
    "remedy_party_id",
    "remedy_verified_at",
    "closed_at",
)


def _check_cases(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    later = _where_left(log, directory)

    def columns(entry: Recorded, _row: Any) -> list[tuple[str, object]]:
        b = entry.body
        left = later.get(str(b["case"]), {})
        lon, lat = b["location"]["coordinates"][:2]
        return [
            ("number", b["number"]),
            ("filed_by", b["member"]),
            ("organisation_id", directory.organisation(b["organisation"], entry.index)),
            ("against_id", _party(directory, b["against"], entry.index)),
            ("rule", b["rule"]),
            ("allegation", b["allegation"]),
            ("lon", lon),
            ("lat", lat),
            ("occurred_at", parse_log_time(b["occurred_at"])),
            ("links", b["links"]),
            ("evidence", b["evidence"]),
            ("candidate", b["candidate"]),
            ("released_to", b["released_to"]),
            ("ladder", b["ladder"]),
            ("log_index", entry.index),
            ("filed_at", entry.logged_at),
            ("triage_due_at", parse_log_time(b["triage_due_at"])),
            ("state", left.get("state", b["state"])),
            *((name, left.get(name)) for name in _LATER),
        ]

    check_rows_by_id(
        tables, _cases, log.of_type(E.COMPLAINT_FILED), lambda e: e.body["case"], columns
    )


def _check_steps(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    check_rows_by_index(
        tables,
        _steps,
        log.of_type(E.COMPLAINT_FILED, *_STEPS),
        lambda row: f"{row.case_id}/{row.kind}",
        lambda entry, _row: [
            ("case_id", entry.body["case"]),
            ("kind", entry.entry_type),
            ("member_id", entry.body.get("member")),
            (
                "organisation_id",
                _party(directory, entry.body.get("organisation"), entry.index),
            ),
            ("at", entry.logged_at),
        ],
    )


def _check_requests(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    answers = {str(e.body["request"]): e for e in log.of_type(E.ACCESS_ANSWERED)}

    def columns(entry: Recorded, _row: Any) -> list[tuple[str, object]]:
        b = entry.body
        answer = answers.get(str(b["request"]))
        return [
            ("case_id", b["case"]),
            ("party_id", directory.organisation(b["party"], entry.index)),
            ("place", b["place"]),
            ("requested_by", b["member"]),
            ("log_index", entry.index),
            ("requested_at", entry.logged_at),
            ("due_at", parse_log_time(b["due_at"])),
            ("answer", answer.body["answer"] if answer else None),
            ("answered_by", answer.body["member"] if answer else None),
            ("answer_index", answer.index if answer else None),
            ("answered_at", answer.logged_at if answer else None),
        ]

    check_rows_by_id(
        tables, _requests, log.of_type(E.ACCESS_REQUESTED), lambda e: e.body["request"], columns
    )
    check_rows_by_id(
        tables,
        _incidents,
        log.of_type(E.INCIDENT_RECORDED),
        lambda e: e.body["incident"],
        lambda entry, _row: [
            ("case_id", entry.body["case"]),
            ("request_id", entry.body["request"]),
            ("party_id", directory.organisation(entry.body["party"], entry.index)),
            ("occurred_at", parse_log_time(entry.body["occurred_at"])),
            ("log_index", entry.index),
        ],
    )


def _check_comments(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    reveals = {str(e.body["comment"]): e for e in log.of_type(E.COMMENT_REVEALED)}

    def columns(entry: Recorded, row: Any) -> list[tuple[str, object]]:
        b = entry.body
        reveal = reveals.get(str(b["comment"]))
        if commitment(row.nonce, row.text) != b["commitment"]:
            raise StateMismatch(
                entry.index, f"comment {b['comment']}: its text does not hash to its commitment"
            )
        found = [
            ("case_id", b["case"]),
            ("organisation_id", directory.organisation(b["organisation"], entry.index)),
            ("member_id", b["member"]),
            ("commitment", b["commitment"]),
            ("log_index", entry.index),
            ("revealed_index", reveal.index if reveal else None),
        ]
        if reveal is not None:
            found += [("text", reveal.body["text"]), ("nonce", reveal.body["nonce"])]
        return found

    check_rows_by_id(
        tables, _comments, log.of_type(E.COMMENT_SEALED), lambda e: e.body["comment"], columns
    )


def _check_escalations(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    check_rows_by_index(
        tables,
        _escalations,
        log.of_type(E.DEADLINE_ESCALATED),
        lambda row: f"{row.case_id}/{row.duty}/{row.step}",
        lambda entry, _row: [
            ("case_id", entry.body["case"]),
            ("duty", entry.body["duty"]),
            ("subject", entry.body["subject"]),
            ("step", entry.body["step"]),
            ("organisation_id", directory.organisation(entry.body["owed_by"], entry.index)),
            ("due_at", parse_log_time(entry.body["due_at"])),
            ("notify", entry.body["notify"]),
        ],
    )


def _check_evidence(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    stored = log.of_type(E.EVIDENCE_STORED)
    check_rows_by_index(
        tables,
        _holders,
        stored,
        lambda row: f"{row.sha256}/{row.organisation_id}",
        lambda entry, _row: [
            ("sha256", entry.body["sha256"]),
            ("organisation_id", directory.organisation(entry.body["organisation"], entry.index)),
            ("member_id", entry.body["member"]),
        ],
    )
    described = {str(e.body["sha256"]): e for e in stored}
    files = {}
    for row in tables.execute(select(_files)):
        entry = described.get(row.sha256)
        if entry is None:
            unmatched_rows("verification_evidence", [row.sha256])
            continue
        content = bytes(row.content)
        if hashlib.sha256(content).hexdigest() != row.sha256:
            raise StateMismatch(entry.index, f"evidence {row.sha256}: its bytes hash otherwise")
        require_same(
            "verification_evidence", row.sha256, "size", entry.index, row.size, entry.body["size"]
        )
        require_same(
            "verification_evidence",
            row.sha256,
            "media_type",
            entry.index,
            row.media_type,
            entry.body["type"],
        )
        files[row.sha256] = row
    for sha256, entry in described.items():
        if sha256 not in files:
            raise StateMismatch(entry.index, f"verification_evidence has no file {sha256}")
    attached = {(str(r.case_id), r.sha256) for r in tables.execute(select(_attached))}
    expected = {
        (str(e.body["case"]), str(f["sha256"]))
        for e in log.of_type(E.COMPLAINT_FILED)
        for f in e.body["evidence"]
    }
    if attached != expected:
        raise StateMismatch(None, "the cases' attached evidence differs from their complaints'")
