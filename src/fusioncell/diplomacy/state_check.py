"""The diplomatic track checked against the log by ``fusioncell verify --database``: each
agreement, version, signature, step, comment, meeting, minutes comment and minutes signature
row is its entry; the version in force is the last one every signatory signed; each
milestone row is a milestone of a version in force and holds what its request and assessment
entries record; each sealed comment's stored text and nonce hash to the commitment its entry
published. Every entry's audience is the organisations its ``released_to`` names (the replay
checks that those are the agreement's parties, the supervisor and the verifier)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Uuid, column, select, table
from sqlalchemy.engine import Connection

from fusioncell.cell.state_check import Directory, check_rows_by_id, check_rows_by_index
from fusioncell.db.base import UTCDateTime
from fusioncell.diplomacy.content import milestone_id
from fusioncell.diplomacy.deadlines import escalation_id
from fusioncell.diplomacy.entries import DiplomacyEntry as E
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

_TYPES = frozenset(kind.value for kind in E)
_STEPS = (
    E.VERIFICATION_REQUESTED,
    E.COMMENT_SEALED,
    E.COMMENT_REVEALED,
    E.MILESTONE_ASSESSED,
    E.MEETING_REQUESTED,
    E.MINUTES_DRAFTED,
    E.MINUTES_COMMENTED,
    E.MINUTES_SIGNED,
    E.DEADLINE_ESCALATED,
)

_agreements = table(
    "diplomacy_agreements",
    column("id", Uuid),
    column("number", Integer),
    column("proposed_by", Uuid),
    column("log_index", BigInteger),
    column("in_force_number", Integer),
)
_versions = table(
    "diplomacy_versions",
    *(column(n, Uuid) for n in ("id", "agreement_id", "proposed_by")),
    column("number", Integer),
    column("content", JSON),
    column("content_hash", String),
    column("signatories", JSON),
    column("log_index", BigInteger),
    column("in_force_index", BigInteger),
)
_signatures = table(
    "diplomacy_signatures",
    *(column(n, Uuid) for n in ("version_id", "organisation_id", "member_id")),
    column("content_hash", String),
    column("log_index", BigInteger),
)
_steps = table(
    "diplomacy_steps",
    column("log_index", BigInteger),
    column("subject_id", Uuid),
    column("client_id", Uuid),
    column("kind", String),
    column("member_id", Uuid),
    column("organisation_id", Uuid),
)
_comments = table(
    "diplomacy_comments",
    *(column(n, Uuid) for n in ("id", "milestone_id", "organisation_id", "member_id")),
    *(column(n, String) for n in ("text", "nonce", "commitment")),
    column("log_index", BigInteger),
    column("revealed_index", BigInteger),
)
_milestones = table(
    "diplomacy_milestones",
    *(column(n, Uuid) for n in ("id", "agreement_id")),
    *(column(n, String) for n in ("key", "state", "outcome", "reasons")),
    *(column(n, JSON) for n in ("evidence", "engine_result")),
    *(column(n, UTCDateTime) for n in ("due_at", "comments_close_at")),
    column("assessed_index", BigInteger),
)
_meetings = table(
    "diplomacy_meetings",
    *(column(n, Uuid) for n in ("id", "requested_by", "organisation_id", "message_id")),
    column("title", String),
    *(column(n, JSON) for n in ("agenda", "participants", "minutes")),
    column("minutes_hash", String),
    column("log_index", BigInteger),
    column("agreed_index", BigInteger),
)
_minutes_comments = table(
    "diplomacy_minutes_comments",
    *(column(n, Uuid) for n in ("id", "meeting_id", "organisation_id", "member_id")),
    *(column(n, String) for n in ("text", "minutes_hash")),
    column("log_index", BigInteger),
)
_minutes_signatures = table(
    "diplomacy_minutes_signatures",
    *(column(n, Uuid) for n in ("meeting_id", "organisation_id", "member_id")),
    column("minutes_hash", String),
    column("log_index", BigInteger),
)


class DiplomacyStateCheck:
    entry_types = _TYPES

    def audience_rule(self, log: RecordedLog) -> AudienceRule:
        directory = Directory.of(log)

        def rule(entry: Recorded) -> Mapping[str, Any]:
            names = entry.body.get("released_to") or []
            return {"organisations": sorted(directory.organisation(n, entry.index) for n in names)}

        return rule

    def check(self, tables: Connection, log: RecordedLog) -> None:
        directory = Directory.of(log)
        in_force = _check_agreements(tables, log, directory)
        _check_steps(tables, log, directory)
        _check_comments(tables, log, directory)
        _check_milestones(tables, log, in_force)
        _check_meetings(tables, log, directory)


def _in_force(log: RecordedLog) -> dict[str, Recorded]:
    """Each version (by id) that came into force, with the signature that completed it."""
    versions = {
        str(e.body["version"]): e for e in log.of_type(E.AGREEMENT_PROPOSED, E.AMENDMENT_PROPOSED)
    }
    signed: dict[str, set[str]] = {}
    done: dict[str, Recorded] = {}
    latest: dict[str, int] = {}
    for entry in log.of_type(E.VERSION_SIGNED):
        vid = str(entry.body["version"])
        version = versions.get(vid)
        if version is None or vid in done:
            continue
        signed.setdefault(vid, set()).add(str(entry.body["organisation"]))
        agreement = str(version.body["agreement"])
        number = int(version.body["content"]["version"])
        if set(version.body["signatories"]) <= signed[vid] and number > latest.get(agreement, 0):
            done[vid], latest[agreement] = entry, number
    return done


def _check_agreements(
    tables: Connection, log: RecordedLog, directory: Directory
) -> dict[str, Recorded]:
    in_force = _in_force(log)
    proposals = log.of_type(E.AGREEMENT_PROPOSED, E.AMENDMENT_PROPOSED)
    number_in_force: dict[str, int] = {}
    for e in proposals:
        if str(e.body["version"]) in in_force:
            agreement = str(e.body["agreement"])
            number_in_force[agreement] = max(
                number_in_force.get(agreement, 0), int(e.body["content"]["version"])
            )
    check_rows_by_id(
        tables,
        _agreements,
        log.of_type(E.AGREEMENT_PROPOSED),
        lambda e: e.body["agreement"],
        lambda e, _row: [
            ("number", e.body["number"]),
            ("proposed_by", e.body["member"]),
            ("log_index", e.index),
            ("in_force_number", number_in_force.get(str(e.body["agreement"]))),
        ],
    )
    check_rows_by_id(
        tables,
        _versions,
        proposals,
        lambda e: e.body["version"],
        lambda e, _row: [
            ("agreement_id", e.body["agreement"]),
            ("proposed_by", e.body["member"]),
            ("number", e.body["content"]["version"]),
            ("content", e.body["content"]),
            ("content_hash", e.body["content_hash"]),
            ("signatories", e.body["signatories"]),
            ("log_index", e.index),
            (
                "in_force_index",
                in_force[str(e.body["version"])].index
                if str(e.body["version"]) in in_force
                else None,
            ),
        ],
    )
    check_rows_by_index(
        tables,
        _signatures,
        log.of_type(E.VERSION_SIGNED),
        lambda row: f"{row.version_id}/{row.organisation_id}",
        lambda e, _row: [
            ("version_id", e.body["version"]),
            ("organisation_id", directory.organisation(e.body["organisation"], e.index)),
            ("member_id", e.body["member"]),
            ("content_hash", e.body["content_hash"]),
        ],
    )
    return in_force


def _subject(entry: Recorded) -> object:
    return entry.body.get("milestone") or entry.body.get("meeting")


def _check_steps(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    check_rows_by_index(
        tables,
        _steps,
        log.of_type(*_STEPS),
        lambda row: f"{row.subject_id}/{row.kind}",
        lambda e, _row: [
            ("subject_id", _subject(e)),
            ("kind", e.entry_type),
            *_escalation_id(e),
            ("member_id", e.body.get("member")),
            (
                "organisation_id",
                directory.organisation(e.body["organisation"], e.index)
                if e.body.get("organisation") is not None
                else None,
            ),
        ],
    )


def _escalation_id(entry: Recorded) -> list[tuple[str, object]]:
    """An escalation's step row is named by (milestone, duty, step)."""
    if entry.entry_type != E.DEADLINE_ESCALATED:
        return []
    b = entry.body
    return [("client_id", escalation_id(b["milestone"], b["duty"], b["step"]))]


def _check_comments(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    reveals = {str(e.body["comment"]): e for e in log.of_type(E.COMMENT_REVEALED)}

    def columns(entry: Recorded, row: Any) -> list[tuple[str, object]]:
        b = entry.body
        if commitment(row.nonce, row.text) != b["commitment"]:
            raise StateMismatch(
                entry.index, f"comment {b['comment']}: its text does not hash to its commitment"
            )
        reveal = reveals.get(str(b["comment"]))
        found = [
            ("milestone_id", b["milestone"]),
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


def _check_milestones(tables: Connection, log: RecordedLog, in_force: dict[str, Recorded]) -> None:
    """Each row is a milestone of a version in force; its request and assessment are its
    entries'."""
    defined: dict[str, tuple[Recorded, dict[str, Any]]] = {}
    for e in log.of_type(E.AGREEMENT_PROPOSED, E.AMENDMENT_PROPOSED):
        if str(e.body["version"]) not in in_force:
            continue
        for c in e.body["content"]["commitments"]:
            for m in c["milestones"]:
                mid = str(milestone_id(_uuid(e.body["agreement"]), c["key"], m["key"]))
                defined[mid] = (e, m)
    requested = {str(e.body["milestone"]): e for e in log.of_type(E.VERIFICATION_REQUESTED)}
    assessed = {str(e.body["milestone"]): e for e in log.of_type(E.MILESTONE_ASSESSED)}
    rows = {str(row.id): row for row in tables.execute(select(_milestones))}
    for mid, (entry, given) in defined.items():
        row = rows.pop(mid, None)
        if row is None:
            raise StateMismatch(entry.index, f"diplomacy_milestones has no row {mid}")
        require_same(
            "diplomacy_milestones",
            mid,
            "agreement_id",
            entry.index,
            row.agreement_id,
            entry.body["agreement"],
        )
        require_same("diplomacy_milestones", mid, "key", entry.index, row.key, given["key"])
        if (request := requested.get(mid)) is not None:
            require_same(
                "diplomacy_milestones",
                mid,
                "comments_close_at",
                request.index,
                row.comments_close_at,
                parse_log_time(request.body["comments_close_at"]),
            )
        if (done := assessed.get(mid)) is not None:
            for name, recorded in (
                ("state", "assessed"),
                ("outcome", done.body["outcome"]),
                ("reasons", done.body["reasons"]),
                ("evidence", done.body["evidence"]),
                ("engine_result", done.body["engine"]),
                ("assessed_index", done.index),
            ):
                require_same(
                    "diplomacy_milestones", mid, name, done.index, getattr(row, name), recorded
                )
        elif row.state == "assessed":
            raise StateMismatch(
                entry.index, f"diplomacy_milestones row {mid} is assessed, but no entry assessed it"
            )
    unmatched_rows("diplomacy_milestones", rows)


def _uuid(value: object) -> uuid.UUID:
    return uuid.UUID(str(value))


def _check_meetings(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    drafts: dict[str, Recorded] = {}
    for e in log.of_type(E.MINUTES_DRAFTED):
        drafts[str(e.body["meeting"])] = e
    agreed: dict[str, int] = {}
    signed: dict[tuple[str, str], set[str]] = {}
    participants = {
        str(e.body["meeting"]): set(e.body["participants"])
        for e in log.of_type(E.MEETING_REQUESTED)
    }
    for e in log.of_type(E.MINUTES_SIGNED):
        meeting = str(e.body["meeting"])
        key = (meeting, str(e.body["minutes_hash"]))
        signed.setdefault(key, set()).add(str(e.body["organisation"]))
        if meeting not in agreed and participants.get(meeting, {None}) <= signed[key]:
            agreed[meeting] = e.index
    check_rows_by_id(
        tables,
        _meetings,
        log.of_type(E.MEETING_REQUESTED),
        lambda e: e.body["meeting"],
        lambda e, _row: [
            ("requested_by", e.body["member"]),
            ("organisation_id", directory.organisation(e.body["organisation"], e.index)),
            ("message_id", e.body["message"]),
            ("title", e.body["title"]),
            ("agenda", e.body["agenda"]),
            ("participants", e.body["participants"]),
            ("log_index", e.index),
            (
                "minutes_hash",
                drafts[str(e.body["meeting"])].body["minutes_hash"]
                if str(e.body["meeting"]) in drafts
                else None,
            ),
            ("agreed_index", agreed.get(str(e.body["meeting"]))),
        ],
    )
    check_rows_by_id(
        tables,
        _minutes_comments,
        log.of_type(E.MINUTES_COMMENTED),
        lambda e: e.body["comment"],
        lambda e, _row: [
            ("meeting_id", e.body["meeting"]),
            ("organisation_id", directory.organisation(e.body["organisation"], e.index)),
            ("member_id", e.body["member"]),
            ("text", e.body["text"]),
            ("minutes_hash", e.body["minutes_hash"]),
            ("log_index", e.index),
        ],
    )
    check_rows_by_index(
        tables,
        _minutes_signatures,
        log.of_type(E.MINUTES_SIGNED),
        lambda row: f"{row.meeting_id}/{row.organisation_id}",
        lambda e, _row: [
            ("meeting_id", e.body["meeting"]),
            ("organisation_id", directory.organisation(e.body["organisation"], e.index)),
            ("member_id", e.body["member"]),
            ("minutes_hash", e.body["minutes_hash"]),
        ],
    )
