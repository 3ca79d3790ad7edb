"""Tables of the de-escalation track: observations (in signed batches, each released to named
organisations), the freeze's baselines and the mutual-consent exceptions with their
signatures. Every row comes from one signed entry (``state_check`` compares them)."""

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
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from fusioncell.db.base import Base, UTCDateTime


class Source(StrEnum):
    DECLARATION = "declaration"  # a party about itself
    INSPECTION = "inspection"  # the verifier, counted on site
    SENSOR = "sensor"  # the verifier's sensors
    REPORT = "report"  # a party about the other, graded A-F / 1-6


class ObservationBatch(Base):
    """One POST of a FeatureCollection: one signed entry."""

    __tablename__ = "deescalation_observation_batches"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    source: Mapped[str] = mapped_column(String(16))
    # A report's Admiralty grade: the source's reliability (A-F), the information's credibility.
    reliability: Mapped[str | None] = mapped_column(String(1))
    credibility: Mapped[int | None] = mapped_column(Integer)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ObservationRelease(Base):
    """An organisation a batch is released to: whoever reads an observation is a member."""

    __tablename__ = "deescalation_observation_releases"

    batch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deescalation_observation_batches.id"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True, index=True
    )


class ObservationRow(Base):
    """A unit's holding at a place and time, as one source saw it."""

    __tablename__ = "deescalation_observations"
    # The feature's id is its author's own: a retry finds it by (author, feature id).
    __table_args__ = (
        UniqueConstraint("author_id", "feature_id", name="uq_deescalation_observations_feature"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    batch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deescalation_observation_batches.id"), index=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    feature_id: Mapped[str] = mapped_column(String(100))
    reporter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    unit: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(BigInteger)
    calibre_mm: Mapped[float | None] = mapped_column(Float)
    range_km: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    source: Mapped[str] = mapped_column(String(16))


class Baseline(Base):
    """A party's holdings per zone and category at the freeze's date (R6): declared by the
    party, in force once the supervisor has accepted it."""

    __tablename__ = "deescalation_baselines"
    __table_args__ = (
        UniqueConstraint("declared_by", "client_id", name="uq_deescalation_baselines_client"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # [{"zone", "category", "count"}], as the entry records them.
    holdings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    declared_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    accepted_log_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgreedExceptionRow(Base):
    """A proposed exception: in force for its period once every party and the supervisor
    have signed it."""

    __tablename__ = "deescalation_exceptions"
    __table_args__ = (
        UniqueConstraint("proposed_by", "client_id", name="uq_deescalation_exceptions_client"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    zone: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    max_count: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExceptionSignature(Base):
    __tablename__ = "deescalation_exception_signatures"

    exception_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deescalation_exceptions.id"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
