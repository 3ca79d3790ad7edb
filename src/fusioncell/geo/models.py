"""The cell's geography: versions of the agreed lines, zones and protected sites, with the
signatures that put each in force, and the features defined one by one before versions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from fusioncell.db.base import Base, UTCDateTime
from fusioncell.geo.kinds import ZONE_KINDS, FeatureKind

__all__ = ["ZONE_KINDS", "FeatureKind", "GeoFeature", "GeometrySignature", "GeometryVersion"]


class GeoFeature(Base):
    """A feature of a ``geo.feature.defined`` entry: kept so that logs from before versions
    still verify; nothing writes these rows any more and nothing serves them."""

    __tablename__ = "geo_features"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    side: Mapped[str | None] = mapped_column(String(32))
    band: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    # An RFC 7946 geometry object (lon/lat).
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    # False until the parties replace the demo geometry with agreed lines.
    authoritative: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GeometryVersion(Base):
    """One proposed geometry: never changed once written, except for the moment its last
    needed signature put it in force (``in_force_*``)."""

    __tablename__ = "geo_versions"
    __table_args__ = (UniqueConstraint("proposed_by", "client_id", name="uq_geo_versions_client"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # 1, 2, 3... in the order the log received the proposals.
    number: Mapped[int] = mapped_column(Integer, unique=True)
    # The RFC 7946 FeatureCollection served while the version is in force: lines, zones
    # (the limitation areas derived from the area of separation) and protected sites.
    collection: Mapped[dict[str, Any]] = mapped_column(JSON)
    authoritative: Mapped[bool] = mapped_column(Boolean)
    # Provenance: the text the geometry was taken from (an agreement's annex, a map sheet).
    source: Mapped[str] = mapped_column(Text)
    # SHA-256 (hex) of the RFC 8785 canonical JSON of authoritative, collection and source:
    # what each signature signs.
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    # The organisations (slugs) whose signatures put it in force: each party and the
    # supervisor, as the cell had them when it was proposed.
    signatories: Mapped[list[str]] = mapped_column(JSON)
    # None when proposed at the server's console.
    proposed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The signature that completed it: from then on it is in force (until a later one is).
    in_force_log_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    in_force_from: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class GeometrySignature(Base):
    """One signatory's signature over a version's content hash."""

    __tablename__ = "geo_version_signatures"

    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("geo_versions.id"), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
