"""The state a database serves, checked against the log it claims to come from.

Beside the log a database keeps the rows that pages and the API serve (a message's text, a
member's roles, a delivery) and the rows that say who may read each body (``log_audiences``).
Every one of them follows from the entries' bodies, so a copy whose rows were edited, added or
deleted no longer matches its log, even though every leaf still verifies.

The ledger knows no track. Each track hands the verifier a ``StateCheck`` for the entry types it
owns, and the list is assembled once, outside the ledger (``fusioncell.cli``):

    audience_rule(log)     the audience each of its entries must have, derived from the log by
                           the track's own rule (a hotline message: the channel's organisations)
    check(tables, log)     its tables, one query per table, against the bodies; raises
                           ``StateMismatch`` naming the first difference

The audience is not in the signed header, and putting it in the body would make every client
that signs its own entries compute it: instead each audience is a function of earlier bodies,
which is exactly what the writer used, and so anyone holding the bodies can recompute it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from sqlalchemy import Connection

from fusioncell.ledger.entries import EVERYONE, LedgerEntry, audience_rows, canonical, log_time
from fusioncell.ledger.verify.sources import TableSource


@dataclass(frozen=True)
class Recorded:
    """One entry as the log commits to it: header facts, log time and the checked body."""

    index: int
    entry_type: str
    author: str  # the signing key's id
    logged_at: datetime
    leaf_hash: bytes
    body: Mapping[str, Any]


class RecordedLog:
    """Every entry with its body, in log order, and the key history's key owners."""

    def __init__(self, entries: Iterable[Recorded], key_members: Mapping[str, str | None]):
        self._entries = {entry.index: entry for entry in entries}
        self._by_type: dict[str, list[Recorded]] = {}
        for entry in sorted(self._entries.values(), key=lambda e: e.index):
            self._by_type.setdefault(entry.entry_type, []).append(entry)
        self.key_members = key_members

    def __iter__(self) -> Iterator[Recorded]:
        return iter(sorted(self._entries.values(), key=lambda e: e.index))

    def get(self, index: object) -> Recorded | None:
        return self._entries.get(index) if isinstance(index, int) else None

    def of_type(self, *entry_types: str) -> list[Recorded]:
        found = [entry for kind in entry_types for entry in self._by_type.get(kind, [])]
        return sorted(found, key=lambda e: e.index)

    def member_of_key(self, key_id: str) -> str | None:
        """The member a key belongs to, as the log's key entries say; None for the log's key."""
        return self.key_members.get(key_id)


class StateMismatch(Exception):
    """A row, or an audience, require_same from the log; ``index`` is the entry it belongs to."""

    def __init__(self, index: int | None, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


AudienceRule = Callable[[Recorded], Mapping[str, Any]]


class StateCheck(Protocol):
    """What a track contributes: the rule for its entries' audiences and a check of its rows."""

    entry_types: frozenset[str]

    def audience_rule(self, log: RecordedLog) -> AudienceRule:
        """The audience an entry of ``entry_types`` must have; may raise ``StateMismatch``."""
        ...

    def check(self, tables: Connection, log: RecordedLog) -> None:
        """Compare the track's tables with the log; raise ``StateMismatch`` at the first
        difference."""
        ...


# The ledger's own entries: an adopted policy binds every entry after it, so all may read it.
_LEDGER_TYPES = frozenset({LedgerEntry.POLICY_ADOPTED.value})


def check_state(
    source: TableSource,
    log: RecordedLog,
    audiences: Mapping[int, frozenset[tuple[str, str]]],
    checks: Sequence[StateCheck],
) -> None:
    """Audiences first (in log order), then each track's tables, in the order given."""
    check_audiences(log, audiences, checks)
    for check in checks:
        source.read_tables(partial(check.check, log=log))


def check_audiences(
    log: RecordedLog,
    stored: Mapping[int, frozenset[tuple[str, str]]],
    checks: Sequence[StateCheck],
) -> None:
    """Every entry's ``log_audiences`` rows must be exactly those its owner's rule gives."""
    owners: dict[str, StateCheck] = {}
    for check in checks:
        for kind in check.entry_types:
            if kind in owners or kind in _LEDGER_TYPES:
                raise ValueError(f"two state checks answer for {kind} entries")
            owners[kind] = check
    rules: dict[int, AudienceRule] = {}
    for entry in log:
        if entry.entry_type in _LEDGER_TYPES:
            expected: Mapping[str, Any] = EVERYONE
        elif (owner := owners.get(entry.entry_type)) is None:
            raise StateMismatch(
                entry.index,
                f"no state check answers for {entry.entry_type} entries: their audience and "
                "rows cannot be checked",
            )
        else:
            if (rule := rules.get(id(owner))) is None:
                rule = rules[id(owner)] = owner.audience_rule(log)
            expected = rule(entry)
        want = frozenset(audience_rows(dict(expected)))
        have = stored.get(entry.index, frozenset())
        if want != have:
            raise StateMismatch(entry.index, _audience_difference(want, have))


def _audience_difference(want: frozenset[tuple[str, str]], have: frozenset[tuple[str, str]]) -> str:
    extra, missing = sorted(have - want), sorted(want - have)
    if extra:
        kind, value = extra[0]
        return f"log_audiences grants {kind} {value!r} a body the log gives no such audience"
    kind, value = missing[0]
    return f"log_audiences lacks the {kind} {value!r} the entry's audience includes"


# -- helpers for the tracks' checks ------------------------------------------------------


def require_same(
    table: str, row_id: object, column: str, index: int, stored: object, recorded: object
) -> None:
    """Raise at the first column whose stored value is not the one the entry records."""
    if _same(stored, recorded):
        return
    raise StateMismatch(
        index,
        f"{table} row {row_id}: {column} is {_shown(stored)}, but the entry records "
        f"{_shown(recorded)}",
    )


def require_presence(
    table: str, row_id: object, column: str, index: int, stored: object, recorded: bool
) -> None:
    """For a column the writer stamps with its request's clock: the log says whether, not when."""
    if (stored is not None) == recorded:
        return
    said = "records it" if recorded else "records no such thing"
    raise StateMismatch(
        index, f"{table} row {row_id}: {column} is {_shown(stored)}, but the log {said}"
    )


def _same(stored: object, recorded: object) -> bool:
    stored, recorded = _plain(stored), _plain(recorded)
    if isinstance(stored, datetime) or isinstance(recorded, datetime):
        return (
            isinstance(stored, datetime)
            and isinstance(recorded, datetime)
            and log_time(stored) == log_time(recorded)
        )
    try:
        # JSON by its canonical bytes, so that true and 1 stay two different values.
        return canonical(stored) == canonical(recorded)
    except (TypeError, ValueError):
        return stored == recorded


def _plain(value: object) -> object:
    return str(value) if isinstance(value, uuid.UUID) else value


def _shown(value: object) -> str:
    value = _plain(value)
    if isinstance(value, datetime):
        return log_time(value)
    text = repr(value) if not isinstance(value, (dict, list)) else canonical(value).decode()
    return text if len(text) <= 80 else text[:77] + "..."


def unmatched_rows(table: str, row_ids: Iterable[object]) -> None:
    """Rows left over once every entry has claimed its own: none of them has an entry."""
    for row_id in row_ids:
        raise StateMismatch(None, f"{table} row {row_id} has no entry in the log")
