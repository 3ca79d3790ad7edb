"""Tables of the intelligence track: reports (submitted, derived by a release, or responses),
the organisations each is released to, and the STIX objects they hold, version by version."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from fusioncell.db.base import Base, UTCDateTime


class ReportKind(StrEnum):
    REPORT = "report"  # submitted by a party
    DERIVED = "derived"  # a release: a new report made from another, perhaps sanitised
    RESPONSE = "response"  # an opinion or a sighting about another report


class Report(Base):
    __tablename__ = "intel_reports"
    # A client-chosen id is its author's own (see hotline ``Message``).
    __table_args__ = (
        UniqueConstraint("author_id", "client_id", name="uq_intel_reports_client"),
        Index("ix_intel_reports_search", "search_vector", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    author_organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    # A derived report's original; a response's subject.
    derived_from: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("intel_reports.id"))
    responds_to: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("intel_reports.id"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    tlp: Mapped[str] = mapped_column(String(16))
    # The Admiralty grade: the source's reliability (A-F), the information's credibility (1-6).
    reliability: Mapped[str | None] = mapped_column(String(1))
    credibility: Mapped[int | None] = mapped_column(Integer)
    source_ref: Mapped[str | None] = mapped_column(String(100))
    # A response's opinion (strongly-disagree ... strongly-agree); None for a sighting.
    opinion: Mapped[str | None] = mapped_column(String(20))
    # The bundle as released: markings written in.
    bundle: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The request that made it: a retry with the same client id must repeat it exactly.
    request_hash: Mapped[str] = mapped_column(String(64))
    # What the report says, for full-text search (SQLite: the FTS5 table ``intel_search``,
    # kept by triggers; PostgreSQL: ``search_vector``).
    search_text: Mapped[str] = mapped_column(Text)
    search_vector: Mapped[str | None] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The bounding box of its located objects, if any.
    west: Mapped[float | None] = mapped_column(Float)
    south: Mapped[float | None] = mapped_column(Float)
    east: Mapped[float | None] = mapped_column(Float)
    north: Mapped[float | None] = mapped_column(Float)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Release(Base):
    """An organisation a report is released to: whoever reads a report is a member of one."""

    __tablename__ = "intel_releases"

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intel_reports.id"), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True, index=True
    )


class StixObject(Base):
    """One version of a STIX object, as a report holds it (with that report's markings).

    The same version in two reports of one organisation is two rows with the same
    ``content_hash`` (the object as submitted, before the cell wrote its markings in): the
    cell refuses a second content under an id and ``modified`` the organisation already used.
    """

    __tablename__ = "intel_objects"
    __table_args__ = (
        UniqueConstraint("report_id", "stix_id", "modified", name="uq_intel_objects_version"),
        Index("ix_intel_objects_added", "date_added", "id"),
        Index("ix_intel_objects_author_version", "author_organisation_id", "stix_id", "modified"),
        # A party's submission collection, page by page in the order added.
        Index("ix_intel_objects_author_added", "author_organisation_id", "date_added", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intel_reports.id"), index=True)
    author_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    stix_id: Mapped[str] = mapped_column(String(120), index=True)
    stix_type: Mapped[str] = mapped_column(String(64))
    spec_version: Mapped[str] = mapped_column(String(8))
    # ``modified``, or ``created`` for objects that are never versioned (markings).
    modified: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    date_added: Mapped[datetime] = mapped_column(UTCDateTime)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
