"""The cell's rows and audiences, checked against the log by ``fusioncell verify``.

The audience rules are spelled out here rather than borrowed from ``policy``: the verifier
states the rules the stored entries were written under, so a change to the writer cannot
quietly change what an old entry is checked against.

    organisations   cell.organisation.created (id, slug, name, kind, and names: the name
                    by language, none for an entry without them)
    members         cell.member.created, then cell.language.set, cell.totp.enabled/disabled;
                    disabled by cell.member.disabled, in force once countersigned (at the
                    console at once, else by cell.member.countersigned)
    role_grants     the roles of cell.member.created, plus cell.role.granted, less
                    cell.role.revoked; each in force only once countersigned likewise
    log_keys        checked by the key history itself (``ledger/verify/history.py``)

Creation times are the request's clock, which the log does not record exactly, so they are not
compared; for disabled and countersigned the log says whether, and that is compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    String,
    TableClause,
    Uuid,
    column,
    select,
    table,
)

from fusioncell.cell.entries import CellEntry
from fusioncell.db.base import UTCDateTime
from fusioncell.ledger.entries import LedgerEntry, b64
from fusioncell.ledger.verify.state import (
    AudienceRule,
    Recorded,
    RecordedLog,
    StateMismatch,
    require_presence,
    require_same,
    unmatched_rows,
)

COUNTERSIGNED = "cell.member.countersigned"
OPERATORS = ["admin", "supervisor"]
# Membership and keys: the member's organisation, the chair and the operator.
MEMBERSHIP = frozenset(
    {
        COUNTERSIGNED,
        CellEntry.MEMBER_CREATED,
        CellEntry.MEMBER_DISABLED,
        CellEntry.ROLE_GRANTED,
        CellEntry.ROLE_REVOKED,
        LedgerEntry.KEY_ENROLLED,
        LedgerEntry.KEY_ROTATED,
        LedgerEntry.KEY_REVOKED,
    }
)
# A member's own credentials and settings: the member and the operator.
PERSONAL = frozenset(
    {
        CellEntry.PASSWORD_CHANGED,
        CellEntry.TOTP_ENABLED,
        CellEntry.TOTP_DISABLED,
        CellEntry.TOTP_ENROLMENT_STARTED,
        CellEntry.TOKEN_ISSUED,
        CellEntry.TOKEN_REVOKED,
        CellEntry.SESSION_STARTED,
        CellEntry.SESSION_ENDED,
        CellEntry.LANGUAGE_SET,
    }
)

_organisations = table(
    "organisations",
    column("id", Uuid),
    column("slug", String),
    column("name", String),
    column("names", JSON),
    column("kind", String),
)
_members = table(
    "members",
    column("id", Uuid),
    column("username", String),
    column("display_name", String),
    column("organisation_id", Uuid),
    column("language", String),
    column("totp_enabled", Boolean),
    column("disabled_at", UTCDateTime()),
    column("countersigned_at", UTCDateTime()),
)
_role_grants = table(
    "role_grants",
    column("member_id", Uuid),
    column("role", String),
    column("countersigned_at", UTCDateTime()),
)
# Columns the request's clock stamps: the log records whether, not exactly when.
_WHETHER = frozenset({"disabled_at", "countersigned_at"})


@dataclass(frozen=True)
class Directory:
    """Organisations and members as the log created them."""

    organisations: dict[str, str]  # slug -> id
    kinds: dict[str, str]  # id -> kind
    members: dict[str, Recorded]  # member id -> its cell.member.created entry
    usernames: dict[str, str]  # username -> member id

    @classmethod
    def of(cls, log: RecordedLog) -> Directory:
        organisations, kinds, members, usernames = {}, {}, {}, {}
        for entry in log.of_type(CellEntry.ORGANISATION_CREATED):
            organisations[str(entry.body["slug"])] = str(entry.body["organisation"])
            kinds[str(entry.body["organisation"])] = str(entry.body["kind"])
        for entry in log.of_type(CellEntry.MEMBER_CREATED):
            members[str(entry.body["member"])] = entry
            usernames[str(entry.body["username"])] = str(entry.body["member"])
        return cls(organisations, kinds, members, usernames)

    def organisation(self, slug: object, index: int) -> str:
        if (found := self.organisations.get(str(slug))) is None:
            raise StateMismatch(index, f"the entry names an organisation {slug!r} no entry created")
        return found

    def member_organisation(self, member: object, index: int) -> str:
        if (created := self.members.get(str(member))) is None:
            raise StateMismatch(index, f"the entry names a member {member} no entry created")
        return self.organisation(created.body["organisation"], created.index)


class CellStateCheck:
    entry_types = frozenset(
        {CellEntry.ORGANISATION_CREATED.value, CellEntry.LOGIN_THROTTLED.value}
        | {str(kind) for kind in MEMBERSHIP | PERSONAL}
    )

    def audience_rule(self, log: RecordedLog) -> AudienceRule:
        directory = Directory.of(log)

        def rule(entry: Recorded) -> Mapping[str, Any]:
            kind, body = entry.entry_type, entry.body
            if kind == CellEntry.ORGANISATION_CREATED:
                return {"all": True}
            if kind == CellEntry.LOGIN_THROTTLED:
                return {"roles": OPERATORS}
            if kind == CellEntry.MEMBER_CREATED:
                organisation = directory.organisation(body.get("organisation"), entry.index)
                return {"organisations": [organisation], "roles": OPERATORS}
            if kind in MEMBERSHIP:
                organisation = directory.member_organisation(body.get("member"), entry.index)
                return {"organisations": [organisation], "roles": OPERATORS}
            return {"members": [str(body.get("member"))], "roles": ["admin"]}

        return rule

    def check(self, tables: Connection, log: RecordedLog) -> None:
        directory = Directory.of(log)
        _check_organisations(tables, log)
        _check_members(tables, log, directory)
        _check_roles(tables, log, directory)


# -- a track's rows, one per entry -------------------------------------------------------
# Most tables hold one row per entry: by an id the body names, or by the entry's log_index. The
# geography's and the hotline's checks use these too.

Columns = Callable[[Recorded, Any], Iterable[tuple[str, object]]]


def check_rows_by_id(
    tables: Connection,
    table_: TableClause,
    entries: Iterable[Recorded],
    id_of: Callable[[Recorded], object],
    columns: Columns,
) -> None:
    """Each entry has the row with the id its body names, whose columns hold what
    ``columns(entry, row)`` says the entry records; no row is left without its entry."""
    rows = {str(row.id): row for row in tables.execute(select(table_))}
    for entry in entries:
        row_id = str(id_of(entry))
        row = rows.pop(row_id, None)
        if row is None:
            raise StateMismatch(entry.index, f"{table_.name} has no row {row_id}")
        _require_columns(table_.name, row_id, entry, row, columns)
    unmatched_rows(table_.name, rows)


def check_rows_by_index(
    tables: Connection,
    table_: TableClause,
    entries: Iterable[Recorded],
    shown: Callable[[Any], str],
    columns: Columns,
) -> None:
    """As ``check_rows_by_id``, for a table whose rows name their entry by ``log_index``;
    ``shown(row)`` names a row in a message."""
    rows = {int(row.log_index): row for row in tables.execute(select(table_))}
    for entry in entries:
        row = rows.pop(entry.index, None)
        if row is None:
            raise StateMismatch(
                entry.index, f"{table_.name} has no row for this {entry.entry_type} entry"
            )
        _require_columns(table_.name, shown(row), entry, row, columns)
    unmatched_rows(table_.name, (f"{shown(row)} (log_index {i})" for i, row in rows.items()))


def _require_columns(
    table_name: str, row_id: object, entry: Recorded, row: Any, columns: Columns
) -> None:
    for name, recorded in columns(entry, row):
        stored = getattr(row, name)
        if isinstance(stored, bytes | memoryview):
            stored = b64(bytes(stored))  # compared as the body spells bytes
        require_same(table_name, row_id, name, entry.index, stored, recorded)


def _check_organisations(tables: Connection, log: RecordedLog) -> None:
    check_rows_by_id(
        tables,
        _organisations,
        log.of_type(CellEntry.ORGANISATION_CREATED),
        lambda entry: entry.body["organisation"],
        lambda entry, _row: [
            *((name, entry.body[name]) for name in ("slug", "name", "kind")),
            ("names", entry.body.get("names", {})),
        ],
    )


def _check_members(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    # What later entries change, by member: column -> (value, entry index); the last one wins.
    changes: dict[str, dict[str, tuple[object, int]]] = {}
    for entry in log.of_type(
        CellEntry.LANGUAGE_SET,
        CellEntry.TOTP_ENABLED,
        CellEntry.TOTP_DISABLED,
        CellEntry.MEMBER_DISABLED,
        COUNTERSIGNED,
    ):
        body = entry.body
        later = changes.setdefault(str(body.get("member")), {})
        if entry.entry_type == CellEntry.LANGUAGE_SET:
            later["language"] = (body["language"], entry.index)
        elif entry.entry_type == CellEntry.MEMBER_DISABLED:
            later.setdefault("disabled_at", (True, entry.index))
        elif entry.entry_type == COUNTERSIGNED:
            if body.get("creation"):
                later.setdefault("countersigned_at", (True, entry.index))
        else:
            later["totp_enabled"] = (entry.entry_type == CellEntry.TOTP_ENABLED, entry.index)
    rows = {str(row.id): row for row in tables.execute(select(_members))}
    for member, entry in directory.members.items():
        body = entry.body
        row = rows.pop(member, None)
        if row is None:
            raise StateMismatch(entry.index, f"members has no row {member}")
        organisation = directory.organisation(body["organisation"], entry.index)
        expected: dict[str, tuple[object, int]] = {
            "username": (body["username"], entry.index),
            "display_name": (body["display_name"], entry.index),
            "organisation_id": (organisation, entry.index),
            "language": (body["language"], entry.index),
            "totp_enabled": (False, entry.index),
            "disabled_at": (False, entry.index),
            "countersigned_at": (not body.get("awaiting_countersign", False), entry.index),
        } | changes.get(member, {})
        for name, (recorded, index) in expected.items():
            if name in _WHETHER:
                stored = getattr(row, name)
                require_presence("members", member, name, index, stored, recorded is True)
            else:
                require_same("members", member, name, index, getattr(row, name), recorded)
    unmatched_rows("members", rows)


@dataclass
class _Grant:
    index: int  # the entry that granted the role
    in_force: bool  # countersigned, or granted at the console


def _check_roles(tables: Connection, log: RecordedLog, directory: Directory) -> None:
    granted: dict[str, dict[str, _Grant]] = {}  # member -> role -> its grant
    for entry in log.of_type(
        CellEntry.MEMBER_CREATED, CellEntry.ROLE_GRANTED, CellEntry.ROLE_REVOKED, COUNTERSIGNED
    ):
        body = entry.body
        roles = granted.setdefault(str(body.get("member")), {})
        in_force = not body.get("awaiting_countersign", False)
        if entry.entry_type == CellEntry.MEMBER_CREATED:
            roles.update({str(role): _Grant(entry.index, in_force) for role in body["roles"]})
        elif entry.entry_type == CellEntry.ROLE_GRANTED:
            roles[str(body["role"])] = _Grant(entry.index, in_force)
        elif entry.entry_type == CellEntry.ROLE_REVOKED:
            roles.pop(str(body["role"]), None)
        else:
            for role in body.get("roles", []):
                if (grant := roles.get(str(role))) is not None:
                    grant.in_force = True
    stored: dict[str, dict[str, Any]] = {}
    for row in tables.execute(select(_role_grants)):
        stored.setdefault(str(row.member_id), {})[str(row.role)] = row.countersigned_at
    for member, roles in granted.items():
        held = stored.pop(member, {})
        created = directory.members[member].index if member in directory.members else None
        for role in sorted(set(held) - set(roles)):
            raise StateMismatch(
                created, f"role_grants gives member {member} the role {role}, which no entry grants"
            )
        for role, grant in sorted(roles.items()):
            if role not in held:
                raise StateMismatch(
                    grant.index,
                    f"role_grants lacks the role {role} this entry grants member {member}",
                )
            where = f"{member}/{role}"
            require_presence(
                "role_grants", where, "countersigned_at", grant.index, held[role], grant.in_force
            )
    unmatched_rows(
        "role_grants", (f"{member}/{role}" for member, roles in stored.items() for role in roles)
    )
