"""Appending a signed entry to the log, inside the caller's action transaction.

``append`` checks the entry (shape, key, signature, replay) before any write, then takes the
log's sequence lock once per transaction (``log_clock`` takes it too), computes the tree's
new stored hashes and queues the transaction's rows (entries, bodies, audiences, hashes),
written with one executemany per table just before commit. Signing is ``ledger.record``;
key entries are ``ledger.key_entries``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import sql as psycopg_sql
from sqlalchemy import Dialect, event, select, update
from sqlalchemy.orm import Session, SessionTransaction

from fusioncell.errors import BadSignature, BodyMismatch, InvalidEntry, ReplayedEntry
from fusioncell.ledger import tree
from fusioncell.ledger.context import ledger_context
from fusioncell.ledger.entries import (
    SignedEntry,
    audience_rows,
    canonical_body_hash,
    canonical_signing_message,
    check_header_shape,
    leaf_data_from_canonical_header,
)
from fusioncell.ledger.key_entries import apply_key_change, author_public_key, check_key_entry
from fusioncell.ledger.keys import verify_signature
from fusioncell.ledger.models import EntryBody, LogAudience, LogEntry, LogHash, LogKey, LogSequence

APPENDED = "fusioncell_appended"

# -- reading the tree --------------------------------------------------------------------

_PENDING = "fusioncell_ledger_pending_hashes"


class DbHashReader:
    """Stored hashes from the database, plus those this transaction has written."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.pending: dict[int, bytes] = db.info.setdefault(_PENDING, {})

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        missing = [index for index in indexes if index not in self.pending]
        found: dict[int, bytes] = {}
        if missing:
            with self.db.no_autoflush:  # the transaction's own hashes are in ``pending``
                rows = self.db.execute(
                    select(LogHash.index, LogHash.hash).where(LogHash.index.in_(missing))
                )
                found = {index: value for index, value in rows}
        return [self.pending.get(index) or found.get(index, b"") for index in indexes]


_SEQUENCE = "fusioncell_ledger_sequence"


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_SEQUENCE, None)
        session.info.pop(_QUEUE, None)


@dataclass
class _Sequence:
    """The sequence row as this transaction locked it and moves it on: plain values, so an
    append costs no ORM attribute events; written back once, before commit."""

    next_index: int
    last_logged_at: datetime | None
    locked_index: int


def _locked_sequence(db: Session) -> _Sequence:
    """The sequence row, locked once per transaction (``FOR UPDATE`` on PostgreSQL; SQLite's
    write transactions are already exclusive), then kept for the transaction's later appends."""
    sequence = db.info.get(_SEQUENCE)
    if sequence is None:
        next_index, last_logged_at = db.execute(
            select(LogSequence.next_index, LogSequence.last_logged_at)
            .where(LogSequence.id == 1)
            .with_for_update()
        ).one()
        sequence = db.info[_SEQUENCE] = _Sequence(next_index, last_logged_at, next_index)
    assert isinstance(sequence, _Sequence)
    return sequence


def tree_size(db: Session) -> int:
    """The number of entries: this transaction's own count once it has appended."""
    sequence = db.info.get(_SEQUENCE)
    if isinstance(sequence, _Sequence):
        return sequence.next_index
    size = db.scalar(select(LogSequence.next_index).where(LogSequence.id == 1))
    return 0 if size is None else size


# -- appending ---------------------------------------------------------------------------


def append(
    db: Session,
    signed: SignedEntry,
    *,
    now: datetime,
    verify: bool,
    member_id: uuid.UUID | None = None,
    sealed_seed: bytes | None = None,
) -> Appended:
    """Append a signed entry; raises before any write if anything is wrong."""
    ctx = ledger_context(db)
    header = signed.header
    try:
        check_header_shape(header)
    except ValueError as exc:
        raise InvalidEntry(str(exc)) from None
    check_key_entry(header)
    public = author_public_key(db, ctx, header)
    if member_id is not None:
        owner = db.scalar(select(LogKey.member_id).where(LogKey.key_id == header["author"]))
        key = header.get("key") or {}
        if owner != member_id and key.get("member") != str(member_id):
            raise InvalidEntry("the signing key belongs to another member")
    if verify and not verify_signature(
        public, canonical_signing_message(header["type"], signed.canonical_header), signed.signature
    ):
        raise BadSignature()
    if verify and header["body"] != canonical_body_hash(signed.salt, signed.canonical_body):
        raise BodyMismatch()
    rows = _queued_rows(db)
    # A signature the server just made over a fresh salt is new by construction; one a client
    # made may be a replay, of an entry logged before or queued in this transaction. (The
    # unique constraint backs this up in either case.)
    if verify and (
        signed.signature in rows.signatures
        or db.scalar(select(LogEntry.index).where(LogEntry.signature == signed.signature))
        is not None
    ):
        raise ReplayedEntry()

    sequence = _locked_sequence(db)
    index = sequence.next_index
    if sequence.last_logged_at is not None and sequence.last_logged_at > now:
        now = sequence.last_logged_at
    # Its last checks (a key enrolled twice, none to revoke) come before anything is queued.
    apply_key_change(db, header, index=index, sealed_seed=sealed_seed)
    data = leaf_data_from_canonical_header(signed.canonical_header, signed.signature, now)
    leaf_hash = tree.leaf_hash(data)
    reader = DbHashReader(db)
    hashes = tree.stored_hashes_for_leaf_hash(index, leaf_hash, reader)
    first = tree.stored_hash_count(index)
    for offset, value in enumerate(hashes, first):
        reader.pending[offset] = value
        rows.hashes.append((offset, bytearray(value)))
    rows.entries.append(
        (
            index,
            header["type"],
            header["author"],
            bytearray(data),
            bytearray(leaf_hash),
            bytearray(signed.signature),
            rows.stored_time(now),
            header["custodial"],
        )
    )
    rows.signatures.add(signed.signature)
    rows.bodies.append((index, bytearray(signed.salt), signed.canonical_body.decode()))
    for kind, grant in audience_rows(signed.audience):
        rows.audiences.append((index, kind, grant))
    sequence.last_logged_at = now
    sequence.next_index = index + 1
    db.info.setdefault(APPENDED, []).append(index)
    return Appended(index=index, leaf_hash=leaf_hash, logged_at=_as_logged(now))


@dataclass(frozen=True)
class Appended:
    """Where the entry went, and the log time its leaf commits to (to the millisecond, as
    the leaf spells it): deadlines timed from an entry count from this instant, which is
    also what ``fusioncell verify`` reads from the leaf."""

    index: int
    leaf_hash: bytes
    logged_at: datetime


def _as_logged(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)


def log_clock(db: Session, *, now: datetime) -> datetime:
    """The log time this transaction's next entry will get: ``now``, or the last logged time
    if that is later (the log's clock never runs backwards), as ``Appended.logged_at`` spells it.

    It takes the sequence lock, as the first append would, so every entry logged before is
    committed and, at READ COMMITTED, visible to the transaction's later reads: a writer that
    decides from the log's past (the escalation engine) sees all of it.
    """
    sequence = _locked_sequence(db)
    if sequence.last_logged_at is not None and sequence.last_logged_at > now:
        now = sequence.last_logged_at
    return _as_logged(now)


_QUEUE = "fusioncell_ledger_rows"


@dataclass
class _QueuedRows:
    """The transaction's log rows, as tuples in the order of ``_COLUMNS``.

    Binary values are queued as ``bytearray``: pysqlite binds exact ints, floats, strings and
    bytearrays directly, and sends anything else, ``bytes`` included, through its adaptation
    protocol, which raises and clears an AttributeError per value (an insert then takes twice
    as long). psycopg takes either.
    """

    # The column type's own conversion of ``logged_at`` for this database (UTC; on SQLite,
    # SQLAlchemy's text form), applied as the row is queued.
    stored_time: Callable[[datetime], Any]
    entries: list[tuple[Any, ...]] = field(default_factory=list)
    bodies: list[tuple[Any, ...]] = field(default_factory=list)
    audiences: list[tuple[Any, ...]] = field(default_factory=list)
    hashes: list[tuple[Any, ...]] = field(default_factory=list)
    signatures: set[bytes] = field(default_factory=set)


# Each queue's table and columns: every column of the table (``test_append`` holds them to
# the models), in the order ``append`` builds the tuples.
_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "entries": (
        LogEntry.__tablename__,
        (
            "index",
            "entry_type",
            "author_key_id",
            "leaf",
            "leaf_hash",
            "signature",
            "logged_at",
            "custodial",
        ),
    ),
    "bodies": (EntryBody.__tablename__, ("entry_index", "salt", "body")),
    "audiences": (LogAudience.__tablename__, ("entry_index", "kind", "value")),
    "hashes": (LogHash.__tablename__, ("index", "hash")),
}


def _queued_rows(db: Session) -> _QueuedRows:
    queue = db.info.get(_QUEUE)
    if queue is None:
        dialect = db.get_bind().dialect
        # The type as this database stores it (on SQLite, SQLAlchemy's own text form).
        convert = LogEntry.__table__.c.logged_at.type.dialect_impl(dialect).bind_processor(dialect)
        queue = db.info[_QUEUE] = _QueuedRows(stored_time=convert or _unchanged)
    assert isinstance(queue, _QueuedRows)
    return queue


def _unchanged(value: datetime) -> datetime:
    return value


@lru_cache(maxsize=16)
def _insert_sql(dialect: Dialect, name: str) -> str:
    """``INSERT INTO table (columns) VALUES (?, ...)`` in the driver's own placeholders: the
    drivers the app supports are pysqlite (``?``) and psycopg (``%s``)."""
    table, columns = _COLUMNS[name]
    placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(column) for column in columns)
    values = ", ".join([placeholder] * len(columns))
    return f"INSERT INTO {quote(table)} ({names}) VALUES ({values})"  # noqa: S608 (our own names)


def _copy_sql(name: str) -> psycopg_sql.Composed:
    table, columns = _COLUMNS[name]
    return psycopg_sql.SQL("COPY {} ({}) FROM STDIN").format(
        psycopg_sql.Identifier(table),
        psycopg_sql.SQL(", ").join(psycopg_sql.Identifier(column) for column in columns),
    )


@event.listens_for(Session, "before_commit")
def _write_queued_rows(session: Session) -> None:
    """Write the transaction's log rows, one statement per table, just before commit.

    Appending builds plain tuples instead of ORM objects, and hands them to the driver as they
    are: the columns hold integers, strings, bytes and booleans, which pysqlite and psycopg take
    natively, and the one timestamp was converted by its column type when it was queued. A
    batch of appends then costs four statements, without a unit-of-work flush or SQLAlchemy's
    per-value parameter processing for each row. PostgreSQL loads them with ``COPY``, in the
    same transaction and under the same constraints, at about a third of the client's cost of
    an executemany; SQLite's executemany already runs in C.
    """
    queue = session.info.pop(_QUEUE, None)
    if not isinstance(queue, _QueuedRows):
        return
    sequence = session.info.get(_SEQUENCE)
    if isinstance(sequence, _Sequence) and sequence.next_index != sequence.locked_index:
        session.execute(
            update(LogSequence)
            .where(LogSequence.id == 1)
            .values(next_index=sequence.next_index, last_logged_at=sequence.last_logged_at)
        )
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        with driver.cursor() as cursor:
            for name in _COLUMNS:
                if rows := getattr(queue, name):
                    with cursor.copy(_copy_sql(name)) as copy:
                        for row in rows:
                            copy.write_row(row)
        return
    for name in _COLUMNS:
        if rows := getattr(queue, name):
            connection.exec_driver_sql(_insert_sql(connection.dialect, name), rows)
