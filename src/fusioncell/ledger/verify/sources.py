"""What a verifier reads a log from, and the shape of what it gets.

A source hands over leaves exactly as stored or served, never its own conclusions about them:
everything the verifier believes it recomputes. A database also offers what it keeps beside the
leaves (derived columns, stored hashes, the key table, old checkpoints), so that those can be
checked against the leaves too; a public server offers only the leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

from sqlalchemy import Connection

T = TypeVar("T")


class SourceError(Exception):
    """The source cannot be read at all (bad URL, server down, not a fusioncell database):
    no verdict on the log, as opposed to a failed check."""


class EntryUnavailable(Exception):
    """The source cannot give entry ``index`` although the log should hold it."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


@dataclass(frozen=True)
class StoredBody:
    salt: bytes
    text: str  # the JCS text exactly as stored


@dataclass(frozen=True)
class StoredColumns:
    """The columns a database keeps beside a leaf; each is derivable from the leaf."""

    leaf_hash: bytes
    signature: bytes
    entry_type: str
    author: str
    logged_at: datetime
    custodial: bool


@dataclass(frozen=True)
class SourceEntry:
    index: int
    leaf: bytes
    body: StoredBody | None = None
    columns: StoredColumns | None = None
    # The stored tree hashes this record wrote, by stored-hash index (None: the source has no
    # stored hashes; a missing key: the row is missing).
    hashes: Mapping[int, bytes] | None = None
    # Who may read the body, as (kind, value) rows (None: the source does not say). A source
    # that gives ``columns`` (a database) keeps every body, so a missing one is lost.
    audience: frozenset[tuple[str, str]] | None = None


@dataclass(frozen=True)
class StoredKey:
    key_id: str
    public_key: bytes
    member: str | None
    custodial: bool
    enrolled_index: int
    revoked_index: int | None


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str
    cosignatures: tuple[tuple[str, str], ...]  # (witness name, signature line)


@dataclass(frozen=True)
class StoredState:
    """Counts and tables a database keeps about the log as a whole."""

    next_index: int | None  # log_sequence
    entry_rows: int
    hash_rows: int
    body_rows: int
    audience_rows: int
    keys: tuple[StoredKey, ...]
    checkpoints: tuple[StoredCheckpoint, ...]


class LogSource(Protocol):
    def checkpoint(self) -> bytes | None:
        """The latest checkpoint as a signed note with its cosignature lines; None if none."""
        ...

    def entries(self, size: int) -> Iterator[SourceEntry]:
        """Entries from index 0 in order: at least the first ``size`` if the source has them,
        and every later one the source holds (a server stops at ``size``)."""
        ...

    def stored_state(self) -> StoredState | None:
        """What a database keeps about the whole log; None for a source that keeps nothing."""
        ...


@runtime_checkable
class TableSource(Protocol):
    """A source that can also be read as tables: a database, whose served state is checked."""

    def read_tables(self, read: Callable[[Connection], T]) -> T:
        """Run ``read`` on the source's connection, in the snapshot the entries came from."""
        ...
