"""The commercial track checked against the log by ``fusioncell verify --database``: each
project, milestone and shipment row holds what its entries record (a status, a decision, a
step as the latest entry says), a project's releases are its entry's ``released_to``, which
is also every one of its entries' audience, the files before each milestone are those its
entries put there, and each stored file is the bytes its hash names."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    column,
    select,
    table,
)
from sqlalchemy.engine import Connection

from fusioncell.cell.state_check import Directory, check_rows_by_id, check_rows_by_index
from fusioncell.commercial.entries import CommercialEntry as E
from fusioncell.db.base import UTCDateTime
from fusioncell.ledger.entries import parse_log_time
from fusioncell.ledger.verify.state import AudienceRule, Recorded, RecordedLog, StateMismatch

_projects = table(
    "commercial_projects",
    column("id", Uuid),
    column("organisation_id", Uuid),
    column("party_id", Uuid),
    column("name", String),
    column("description", Text),
    column("sponsors", JSON),
    column("financing", JSON),
    column("locations", JSON),
    column("starts_on", Date),
    column("ends_on", Date),
    column("status", String),
    column("released_to", JSON),
    column("log_index", BigInteger),
)
_releases = table(
    "commercial_project_releases", column("project_id", Uuid), column("organisation_id", Uuid)
)
_milestones = table(
    "commercial_milestones",
    column("id", Uuid),
    column("project_id", Uuid),
    column("title", String),
    column("due_on", Date),
    column("status", String),
    column("achieved_on", Date),
    column("reason", Text),
    column("decision_index", BigInteger),
    column("log_index", BigInteger),
)
_attached = table(
    "commercial_milestone_evidence",
    column("milestone_id", Uuid),
    column("sha256", String),
    column("log_index", BigInteger),
)
_shipments = table(
    "commercial_shipments",
    column("id", Uuid),
    column("project_id", Uuid),
    column("party_id", Uuid),
    column("cargo", Text),
    column("crossing_id", Uuid),
    column("crossing_name", String),
    column("planned_at", UTCDateTime),
    column("required_lead_s", Integer),
    column("lead_time", String),
    column("state", String),
    column("inspection_note", Text),
    column("reason", Text),
    column("log_index", BigInteger),
)
_steps = table(
    "commercial_steps",
    column("log_index", BigInteger),
    column("project_id", Uuid),
    column("subject", Uuid),
    column("kind", String),
)
_holders = table(
    "commercial_evidence_holders",
    column("sha256", String),
    column("organisation_id", Uuid),
    column("log_index", BigInteger),
)
_files = table(
    "commercial_evidence",
    column("sha256", String),
    column("media_type", String),
    column("size", BigInteger),
    column("content", LargeBinary),
)
_TYPES = frozenset(kind.value for kind in E)
_STEPS = (
    E.PROJECT_STATUS_CHANGED,
    E.MILESTONE_EVIDENCE_ATTACHED,
    E.MILESTONE_DECIDED,
    E.SHIPMENT_INSPECTED,
    E.SHIPMENT_PASSED,
    E.SHIPMENT_REFUSED,
)


def _day(text: Any) -> date | None:
    return date.fromisoformat(text) if text else None


def _latest(log: RecordedLog, kinds: tuple[E, ...], key: str) -> dict[str, Recorded]:
    """The latest entry of ``kinds`` for each subject named by ``key``."""
    found: dict[str, Recorded] = {}
    for entry in log.of_type(*kinds):
        found[str(entry.body[key])] = entry
    return found


class CommercialStateCheck:
    entry_types = _TYPES

    def audience_rule(self, log: RecordedLog) -> AudienceRule:
        directory = Directory.of(log)

        def rule(entry: Recorded) -> Mapping[str, Any]:
            names = entry.body.get("released_to") or []
            return {"organisations": sorted(directory.organisation(n, entry.index) for n in names)}

        return rule

    def check(self, tables: Connection, log: RecordedLog) -> None:
        directory = Directory.of(log)
        self._projects(tables, log, directory)
        self._milestones(tables, log)
        self._shipments(tables, log, directory)
        check_rows_by_index(
            tables,
            _steps,
            log.of_type(*_STEPS),
            lambda row: f"step {row.kind}",
            lambda entry, row: [
                ("kind", entry.entry_type),
                ("project_id", entry.body["project"]),
                (
                    "subject",
                    entry.body.get("milestone")
                    or entry.body.get("shipment")
                    or entry.body["project"],
                ),
            ],
        )
        self._evidence(tables, log, directory)

    def _projects(self, tables: Connection, log: RecordedLog, directory: Directory) -> None:
        proposed = log.of_type(E.PROJECT_PROPOSED)
        status = _latest(log, (E.PROJECT_PROPOSED, E.PROJECT_STATUS_CHANGED), "project")
        check_rows_by_id(
            tables,
            _projects,
            proposed,
            lambda entry: entry.body["project"],
            lambda entry, row: [
                (
                    "organisation_id",
                    directory.organisation(entry.body["organisation"], entry.index),
                ),
                ("party_id", directory.organisation(entry.body["party"], entry.index)),
                ("name", entry.body["name"]),
                ("description", entry.body["description"]),
                ("sponsors", entry.body["sponsors"]),
                ("financing", entry.body["financing"]),
                ("locations", entry.body["locations"]),
                ("starts_on", _day(entry.body["starts_on"])),
                ("ends_on", _day(entry.body["ends_on"])),
                ("status", status[str(entry.body["project"])].body["status"]),
                ("released_to", entry.body["released_to"]),
                ("log_index", entry.index),
            ],
        )
        released: dict[str, set[str]] = {}
        for project_id, organisation_id in tables.execute(select(_releases)):
            released.setdefault(str(project_id), set()).add(str(organisation_id))
        for entry in proposed:
            project = str(entry.body["project"])
            expected = {directory.organisation(n, entry.index) for n in entry.body["released_to"]}
            if released.pop(project, set()) != expected:
                raise StateMismatch(entry.index, f"the releases of project {project} differ")
        for project in released:
            raise StateMismatch(None, f"commercial_project_releases of {project} have no entry")

    def _milestones(self, tables: Connection, log: RecordedLog) -> None:
        decided = _latest(log, (E.MILESTONE_DECIDED,), "milestone")

        def decision(entry: Recorded, name: str) -> Any:
            found = decided.get(str(entry.body["milestone"]))
            if name == "index":
                return found.index if found is not None else None
            return found.body[name] if found is not None else None

        check_rows_by_id(
            tables,
            _milestones,
            log.of_type(E.MILESTONE_ADDED),
            lambda entry: entry.body["milestone"],
            lambda entry, row: [
                ("project_id", entry.body["project"]),
                ("title", entry.body["title"]),
                ("due_on", _day(entry.body["due_on"])),
                ("status", decision(entry, "status") or entry.body["status"]),
                ("achieved_on", _day(decision(entry, "achieved_on"))),
                ("reason", decision(entry, "reason")),
                ("decision_index", decision(entry, "index")),
                ("log_index", entry.index),
            ],
        )
        expected: set[tuple[str, str]] = set()
        for entry in log.of_type(E.MILESTONE_EVIDENCE_ATTACHED, E.MILESTONE_DECIDED):
            for cited in entry.body.get("evidence") or []:
                sha256 = cited["sha256"] if isinstance(cited, dict) else cited
                expected.add((str(entry.body["milestone"]), str(sha256)))
        stored = {(str(m), str(s)) for m, s, _ in tables.execute(select(_attached))}
        if stored != expected:
            odd = sorted(stored ^ expected)[0]
            raise StateMismatch(None, f"the files before milestone {odd[0]} differ: {odd[1]}")

    def _shipments(self, tables: Connection, log: RecordedLog, directory: Directory) -> None:
        steps = _latest(
            log, (E.SHIPMENT_INSPECTED, E.SHIPMENT_PASSED, E.SHIPMENT_REFUSED), "shipment"
        )
        inspected = _latest(log, (E.SHIPMENT_INSPECTED,), "shipment")

        def latest(entry: Recorded) -> Recorded:
            return steps.get(str(entry.body["shipment"]), entry)

        def said(entry: Recorded, key: str) -> Any:
            found = latest(entry)
            return found.body.get(key) if found.entry_type != E.SHIPMENT_INSPECTED else None

        check_rows_by_id(
            tables,
            _shipments,
            log.of_type(E.SHIPMENT_DECLARED),
            lambda entry: entry.body["shipment"],
            lambda entry, row: [
                ("project_id", entry.body["project"]),
                ("party_id", directory.organisation(entry.body["party"], entry.index)),
                ("cargo", entry.body["cargo"]),
                ("crossing_id", entry.body["crossing"]),
                ("crossing_name", entry.body["crossing_name"]),
                ("planned_at", parse_log_time(entry.body["planned_at"])),
                ("required_lead_s", entry.body["required_lead_seconds"]),
                ("lead_time", entry.body["lead_time"]),
                ("state", latest(entry).body["state"]),
                (
                    "inspection_note",
                    (i.body["note"] if (i := inspected.get(str(entry.body["shipment"]))) else None),
                ),
                ("reason", said(entry, "reason")),
                ("log_index", entry.index),
            ],
        )

    def _evidence(self, tables: Connection, log: RecordedLog, directory: Directory) -> None:
        stored = log.of_type(E.EVIDENCE_STORED)
        check_rows_by_index(
            tables,
            _holders,
            stored,
            lambda row: f"file {row.sha256}",
            lambda entry, row: [
                ("sha256", entry.body["sha256"]),
                (
                    "organisation_id",
                    directory.organisation(entry.body["organisation"], entry.index),
                ),
            ],
        )
        recorded = {str(e.body["sha256"]): e for e in stored}
        for sha256, media_type, size, content in tables.execute(select(_files)):
            entry = recorded.get(str(sha256))
            if entry is None:
                raise StateMismatch(None, f"commercial_evidence {sha256} has no entry in the log")
            if hashlib.sha256(bytes(content)).hexdigest() != sha256:
                raise StateMismatch(entry.index, f"the bytes of file {sha256} are not its hash's")
            if (media_type, size) != (entry.body["type"], entry.body["size"]):
                raise StateMismatch(entry.index, f"file {sha256}: its type or size differ")
