"""Reads of the record. Leaves, hashes, proofs and checkpoints are public and content-free;
bodies go only to their audience, with the filter inside the SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import ColumnElement, ColumnExpressionArgument, and_, exists, or_, select
from sqlalchemy.orm import Session

from fusioncell.errors import InvalidInput, NotFound
from fusioncell.ledger import tree
from fusioncell.ledger.append import DbHashReader, tree_size
from fusioncell.ledger.models import (
    EntryBody,
    LogAudience,
    LogCheckpoint,
    LogCosignature,
    LogEntry,
    LogHash,
)

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT


@dataclass(frozen=True)
class CosignedCheckpoint:
    checkpoint: LogCheckpoint
    cosignatures: Sequence[LogCosignature]

    @property
    def note(self) -> str:
        """The log's note with every kept cosignature appended, as one signed note."""
        lines = "".join(c.line + "\n" for c in self.cosignatures)
        return self.checkpoint.note + lines


def latest_checkpoint(
    db: Session, *, witnesses: Sequence[str] = (), quorum: int | None = None
) -> CosignedCheckpoint | None:
    """The newest checkpoint that counts: cosigned by at least ``quorum`` of ``witnesses``
    (all of them when ``quorum`` is None). With no witnesses, the log's signature suffices."""
    needed = len(witnesses) if quorum is None else quorum
    for checkpoint in db.scalars(
        select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(64)
    ):
        cosignatures = db.scalars(
            select(LogCosignature)
            .where(LogCosignature.size == checkpoint.size)
            .order_by(LogCosignature.witness)
        ).all()
        counted = [c for c in cosignatures if c.witness in witnesses]
        if len(counted) >= needed:
            return CosignedCheckpoint(checkpoint, counted)
    return None


def newest_checkpoint(db: Session) -> LogCheckpoint | None:
    """The newest checkpoint the log signed, whether or not it counts yet."""
    return db.scalar(select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1))


def cosigners_of(db: Session, size: int) -> list[str]:
    """The witnesses that have cosigned the checkpoint of this size, by name."""
    return list(
        db.scalars(
            select(LogCosignature.witness)
            .where(LogCosignature.size == size)
            .order_by(LogCosignature.witness)
        )
    )


def first_signed_after(db: Session, size: int) -> LogCheckpoint | None:
    """The first checkpoint the log signed beyond ``size``: when it grew past it."""
    return db.scalar(
        select(LogCheckpoint).where(LogCheckpoint.size > size).order_by(LogCheckpoint.size).limit(1)
    )


def current_size(db: Session) -> int:
    return tree_size(db)


def _check_size(db: Session, size: int, *, name: str) -> None:
    if size < 1:
        raise InvalidInput(f"{name} must be at least 1")
    if size > tree_size(db):
        raise InvalidInput(
            f"{name} {size} is beyond the tree (size {tree_size(db)})", tree_size=tree_size(db)
        )


def inclusion_proof(db: Session, *, index: int, size: int) -> list[bytes]:
    _check_size(db, size, name="tree_size")
    if not 0 <= index < size:
        raise InvalidInput(f"index {index} is not in a tree of size {size}")
    return tree.prove_record(size, index, DbHashReader(db))


def consistency_proof(db: Session, *, first: int, second: int) -> list[bytes]:
    if first > second:
        raise InvalidInput("first must not be greater than second")
    _check_size(db, second, name="second")
    if first < 1:
        raise InvalidInput("first must be at least 1")
    return tree.prove_tree(second, first, DbHashReader(db))


def root_at(db: Session, size: int) -> bytes:
    return tree.tree_hash(size, DbHashReader(db))


def get_leaf(db: Session, index: int) -> LogEntry:
    entry = db.get(LogEntry, index)
    if entry is None:
        raise NotFound(f"no entry {index}")
    return entry


class Reader(Protocol):
    """Who reads bodies, as the access policy describes them (``cell.policy.Viewer`` is one):
    the ledger asks for exactly this and imports no policy."""

    @property
    def audience_grants(self) -> Sequence[tuple[str, str]]:
        """Audience rows that admit the reader: matching any one of them is enough."""

    @property
    def readable_entry_types(self) -> frozenset[str]:
        """Entry types whose bodies the reader's permissions allow."""


def _readable(reader: Reader) -> ColumnElement[bool]:
    """In the entry's audience, and allowed by the owning track's read permission."""
    grants = [
        and_(LogAudience.kind == kind, LogAudience.value == value)
        for kind, value in reader.audience_grants
    ]
    in_audience = exists().where(LogAudience.entry_index == LogEntry.index, or_(*grants))
    return and_(LogEntry.entry_type.in_(sorted(reader.readable_entry_types)), in_audience)


def get_body(db: Session, reader: Reader | None, index: int) -> EntryBody | None:
    """The body, if this reader is in its audience; None otherwise (the leaf stays public)."""
    if reader is None:
        return None
    readable = db.scalar(select(LogEntry.index).where(LogEntry.index == index, _readable(reader)))
    return db.get(EntryBody, index) if readable is not None else None


def list_entries(
    db: Session,
    reader: Reader,
    *,
    entry_type: str | None = None,
    author: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Sequence[LogEntry]:
    """Entries whose body the reader may read, newest first."""
    query = select(LogEntry).where(_readable(reader))
    if entry_type:
        query = query.where(LogEntry.entry_type.startswith(entry_type))
    if author:
        query = query.where(LogEntry.author_key_id == author)
    if before is not None:
        query = query.where(LogEntry.index < before)
    return db.scalars(query.order_by(LogEntry.index.desc()).limit(min(max(limit, 1), 500))).all()


# -- C2SP tlog-tiles ---------------------------------------------------------------------


def hash_tile(db: Session, *, level: int, index: int, width: int) -> bytes:
    """The bottom row of tile (level, index): hashes at tree level 8·level."""
    size = tree_size(db)
    last_leaf = ((index * TILE_WIDTH + width) << (TILE_HEIGHT * level)) - 1
    if last_leaf >= size:
        raise NotFound("this tile is beyond the tree")
    indexes = [
        tree.stored_hash_index(TILE_HEIGHT * level, index * TILE_WIDTH + offset)
        for offset in range(width)
    ]
    found = db.execute(select(LogHash.index, LogHash.hash).where(LogHash.index.in_(indexes)))
    rows = {stored: value for stored, value in found}
    return b"".join(rows[i] for i in indexes)


def entry_bundle(db: Session, *, index: int, width: int) -> bytes:
    first = index * TILE_WIDTH
    if first + width > tree_size(db):
        raise NotFound("this bundle is beyond the tree")
    leaves = db.scalars(
        select(LogEntry.leaf)
        .where(LogEntry.index >= first, LogEntry.index < first + width)
        .order_by(LogEntry.index)
    ).all()
    return b"".join(len(leaf).to_bytes(2, "big") + leaf for leaf in leaves)


def readable_entry(reader: Reader, index: ColumnExpressionArgument[int]) -> ColumnElement[bool]:
    """Whether the entry at ``index`` (a column of another table, e.g. an event's
    ``log_index``) is one whose body the reader may read: for tables that point at entries."""
    return exists().where(LogEntry.index == index, _readable(reader))


def get_bodies(db: Session, reader: Reader | None, indexes: Sequence[int]) -> dict[int, EntryBody]:
    """The bodies of these entries that the reader may read, by index, in one statement (a
    list of entries shows them all); as ``get_body`` for each, the rest are left out."""
    if reader is None or not indexes:
        return {}
    readable = select(LogEntry.index).where(LogEntry.index.in_(indexes), _readable(reader))
    bodies = db.scalars(select(EntryBody).where(EntryBody.entry_index.in_(readable)))
    return {body.entry_index: body for body in bodies}
