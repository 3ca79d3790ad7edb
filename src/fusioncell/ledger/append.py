"""Appending a signed entry to the log, inside the caller's action transaction.

``append`` checks the entry (shape, key, signature, replay) before any write, then takes the
log's sequence lock once per transaction (``log_clock`` takes it too), computes the tree's
new stored hashes and queues the transaction's rows (entries, bodies, audiences, hashes),
written in one multi-row insert per table just before commit. Signing is ``ledger.record``;
key entries are ``ledger.key_entries``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session, SessionTransaction

from fusioncell.errors import BadSignature, BodyMismatch, InvalidEntry, ReplayedEntry
from fusioncell.ledger import tree
from fusioncell.ledger.context import ledger_context
from fusioncell.ledger.entries import (
    SignedEntry,
    audience_rows,
    body_hash,
    check_header_shape,
    leaf_data,
    signing_message,
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


def _locked_sequence(db: Session) -> LogSequence:
    """The sequence row, locked once per transaction (``FOR UPDATE`` on PostgreSQL; SQLite's
    write transactions are already exclusive), then kept for the transaction's later appends."""
    sequence = db.info.get(_SEQUENCE)
    if sequence is None:
        sequence = db.execute(
            select(LogSequence).where(LogSequence.id == 1).with_for_update()
        ).scalar_one()
        db.info[_SEQUENCE] = sequence
    assert isinstance(sequence, LogSequence)
    return sequence


def tree_size(db: Session) -> int:
    sequence = db.get(LogSequence, 1)
    return 0 if sequence is None else sequence.next_index


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
        public, signing_message(header["type"], header), signed.signature
    ):
        raise BadSignature()
    if verify and header["body"] != body_hash(signed.salt, signed.body):
        raise BodyMismatch()
    # A signature the server just made over a fresh salt is new by construction; one a client
    # made may be a replay. (The unique constraint backs this up in either case.)
    if (
        verify
        and db.scalar(select(LogEntry.index).where(LogEntry.signature == signed.signature))
        is not None
    ):
        raise ReplayedEntry()

    sequence = _locked_sequence(db)
    index = sequence.next_index
    if sequence.last_logged_at is not None and sequence.last_logged_at > now:
        now = sequence.last_logged_at
    sequence.last_logged_at = now
    data = leaf_data(header, signed.signature, now)
    reader = DbHashReader(db)
    with db.no_autoflush:  # this transaction's own hashes come from the pending cache
        hashes = tree.stored_hashes_for_record(index, data, reader)
    first = tree.stored_hash_count(index)
    rows = _queued_rows(db)
    for offset, value in enumerate(hashes):
        reader.pending[first + offset] = value
        rows["hashes"].append({"index": first + offset, "hash": value})
    leaf_hash = tree.leaf_hash(data)
    rows["entries"].append(
        {
            "index": index,
            "entry_type": header["type"],
            "author_key_id": header["author"],
            "leaf": data,
            "leaf_hash": leaf_hash,
            "signature": signed.signature,
            "logged_at": now,
            "custodial": header["custodial"],
        }
    )
    rows["bodies"].append(
        {"entry_index": index, "salt": signed.salt, "body": signed.canonical_body.decode()}
    )
    for kind, grant in audience_rows(signed.audience):
        rows["audiences"].append({"entry_index": index, "kind": kind, "value": grant})
    apply_key_change(db, header, index=index, sealed_seed=sealed_seed)
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
_TABLES = (
    ("entries", LogEntry),
    ("bodies", EntryBody),
    ("audiences", LogAudience),
    ("hashes", LogHash),
)


def _queued_rows(db: Session) -> dict[str, list[dict[str, Any]]]:
    queue: dict[str, list[dict[str, Any]]] = db.info.setdefault(
        _QUEUE, {name: [] for name, _model in _TABLES}
    )
    return queue


@event.listens_for(Session, "before_commit")
def _write_queued_rows(session: Session) -> None:
    """Write the transaction's log rows in one multi-row insert per table, just before commit.

    Appending builds plain rows instead of ORM objects: a batch of appends then costs a few
    statements, not a unit-of-work flush per entry.
    """
    queue = session.info.pop(_QUEUE, None)
    if not queue:
        return
    for name, model in _TABLES:
        if queue[name]:
            session.execute(insert(model), queue[name])
