"""Tables of the TAXII 2.1 server: what ``fusioncell taxii import`` brought over from
medallion (its discovery, API roots, collections, object versions and status resources), who
may read and write each imported collection, the status of every envelope added, and the
paging cursors every process can continue.

The cell's own collections (one per organisation, and one per party for its submissions)
are not stored: they are the releasability, read from the intelligence track's tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from fusioncell.db.base import Base, UTCDateTime


class TaxiiDiscovery(Base):
    """The imported server's discovery information (one row, or none)."""

    __tablename__ = "taxii_discovery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    # The path of the default API root, if the file named one it also holds.
    default_root: Mapped[str | None] = mapped_column(String(200))


class TaxiiApiRoot(Base):
    """An imported API root, served at its own path (``api1`` is ``/api1/``)."""

    __tablename__ = "taxii_api_roots"

    path: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    versions: Mapped[list[str]] = mapped_column(JSON)
    max_content_length: Mapped[int] = mapped_column(BigInteger)


class TaxiiCollection(Base):
    __tablename__ = "taxii_collections"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    api_root: Mapped[str] = mapped_column(
        ForeignKey("taxii_api_roots.path", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    alias: Mapped[str | None] = mapped_column(String(200))
    media_types: Mapped[list[str]] = mapped_column(JSON)
    # What the file granted; the members named at import get exactly this.
    can_read: Mapped[bool] = mapped_column(Boolean)
    can_write: Mapped[bool] = mapped_column(Boolean)


class TaxiiGrant(Base):
    """A member's rights on an imported collection."""

    __tablename__ = "taxii_grants"

    collection_id: Mapped[str] = mapped_column(
        ForeignKey("taxii_collections.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id"), primary_key=True, index=True
    )
    can_read: Mapped[bool] = mapped_column(Boolean)
    can_write: Mapped[bool] = mapped_column(Boolean)


class TaxiiObject(Base):
    """An imported object version, with its ``date_added`` exactly as the file wrote it."""

    __tablename__ = "taxii_objects"
    __table_args__ = (
        UniqueConstraint("collection_id", "stix_id", "version", name="uq_taxii_objects_version"),
        Index("ix_taxii_objects_added", "collection_id", "date_added", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    collection_id: Mapped[str] = mapped_column(
        ForeignKey("taxii_collections.id", ondelete="CASCADE")
    )
    stix_id: Mapped[str] = mapped_column(String(120), index=True)
    stix_type: Mapped[str] = mapped_column(String(64))
    spec_version: Mapped[str] = mapped_column(String(8))
    version: Mapped[str] = mapped_column(String(40))
    media_type: Mapped[str] = mapped_column(String(80))
    date_added: Mapped[datetime] = mapped_column(UTCDateTime)
    date_added_text: Mapped[str] = mapped_column(String(40))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class TaxiiCollectionReport(Base):
    """A report added through TAXII into an imported collection: its objects are read there
    too (each reader still sees only what is released to them)."""

    __tablename__ = "taxii_collection_reports"

    collection_id: Mapped[str] = mapped_column(
        ForeignKey("taxii_collections.id", ondelete="CASCADE"), primary_key=True
    )
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("intel_reports.id"), primary_key=True, index=True
    )


class TaxiiWithdrawal(Base):
    """An object version its author deleted through TAXII: no collection serves it again.
    The report that brought it stays in the log."""

    __tablename__ = "taxii_withdrawals"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    stix_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    withdrawn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    log_index: Mapped[int] = mapped_column(BigInteger)


class TaxiiStatus(Base):
    """A status resource: what became of one envelope (or an imported one)."""

    __tablename__ = "taxii_status"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    api_root: Mapped[str] = mapped_column(String(200))
    # Whose it is: only they read it (an imported one: whoever may read its API root).
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    request_timestamp: Mapped[str] = mapped_column(String(40))
    total_count: Mapped[int] = mapped_column(Integer)
    successes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    pendings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The report the envelope became, if any.
    report_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("intel_reports.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TaxiiCursor(Base):
    """A ``next`` token: where a page ended, for the member, collection and filters that
    asked. Immutable (a retried request gets the same page) and in the database, so any app
    process continues it."""

    __tablename__ = "taxii_cursors"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    collection: Mapped[str] = mapped_column(String(320))
    filters: Mapped[str] = mapped_column(String(64))
    after_date_added: Mapped[datetime] = mapped_column(UTCDateTime)
    after_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
