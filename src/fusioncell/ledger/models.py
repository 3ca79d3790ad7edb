"""Tables of the record: entries (content-free leaves), stored tree hashes, bodies beside the
log under access control, the key history, checkpoints and their cosignatures."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from fusioncell.db.base import Base, UTCDateTime


class LogEntry(Base):
    __tablename__ = "log_entries"

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_type: Mapped[str] = mapped_column(String(64), index=True)
    author_key_id: Mapped[str] = mapped_column(String(32), index=True)
    # The leaf data exactly as hashed: JCS({"header", "logged_at", "signature"}).
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The author's signature, unique: the same signed entry can never be logged twice.
    signature: Mapped[bytes] = mapped_column(LargeBinary(64), unique=True)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    custodial: Mapped[bool] = mapped_column(Boolean)


class LogHash(Base):
    """Hashes of complete subtrees, addressed as in Go's tlog (``tree.stored_hash_index``)."""

    __tablename__ = "log_hashes"

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class EntryBody(Base):
    """What an entry says, kept beside the log and served only to its audience."""

    __tablename__ = "log_bodies"

    entry_index: Mapped[int] = mapped_column(
        ForeignKey("log_entries.index"), primary_key=True, autoincrement=False
    )
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    # RFC 8785 canonical JSON, exactly the bytes that were hashed.
    body: Mapped[str] = mapped_column(Text)


class LogAudience(Base):
    """Who may read an entry's body, one row per grant, so lists filter in SQL.

    ``kind`` is ``all`` (value empty), ``organisation`` (an organisation id), ``role`` (a role
    name) or ``member`` (a member id).
    """

    __tablename__ = "log_audiences"

    entry_index: Mapped[int] = mapped_column(ForeignKey("log_entries.index"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)


class LogKey(Base):
    """The key history, as the log's key entries establish it."""

    __tablename__ = "log_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    custodial: Mapped[bool] = mapped_column(Boolean)
    # The private seed of a custodial key, sealed with the deployment's custody key.
    sealed_seed: Mapped[bytes | None] = mapped_column(LargeBinary)
    enrolled_index: Mapped[int] = mapped_column(BigInteger)
    revoked_index: Mapped[int | None] = mapped_column(BigInteger)


class LogCheckpoint(Base):
    """One signed checkpoint per tree size: never two roots for one size."""

    __tablename__ = "log_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LogCosignature(Base):
    __tablename__ = "log_cosignatures"

    size: Mapped[int] = mapped_column(ForeignKey("log_checkpoints.size"), primary_key=True)
    witness: Mapped[str] = mapped_column(String(200), primary_key=True)
    line: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LogSequence(Base):
    """A single row locked by every append, so several app processes append in turn."""

    __tablename__ = "log_sequence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_index: Mapped[int] = mapped_column(BigInteger)
    # The log's clock never runs backwards: an entry is logged no earlier than the one before,
    # even when its request read the clock before waiting for the lock.
    last_logged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
