"""Tables of the de-escalation track: observations (in signed batches, each released to named
organisations), the freeze's baselines, the mutual-consent exceptions with their
signatures, and inspections (requests, reports, and the incidents of access denied). Every
row comes from one signed entry (``state_check`` compares them)."""

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


class InspectionOutcome(StrEnum):
    COMPLETED = "completed"
    # R12: the verifier was refused access; an incident of its own, attributed to a party.
    ACCESS_DENIED = "access_denied"


class IncidentKind(StrEnum):
    ACCESS_DENIED = "access_denied"


class InspectionRequest(Base):
    """R7: a party asks the verifier to inspect a zone and side; due within the rules' hours
    of its log time. Carried out by the report that names it."""

    __tablename__ = "deescalation_inspection_requests"
    __table_args__ = (
        UniqueConstraint(
            "requested_by", "client_id", name="uq_deescalation_inspection_requests_client"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    zone: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InspectionReport(Base):
    """The verifier's report of an inspection of a zone and side: completed (its counted
    holdings are the observations of ``batch_id``) or refused access."""

    __tablename__ = "deescalation_inspection_reports"
    __table_args__ = (
        UniqueConstraint(
            "reported_by", "client_id", name="uq_deescalation_inspection_reports_client"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    zone: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(32))
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    # The request it carries out, if any: a request is carried out once.
    request_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("deescalation_inspection_requests.id"), unique=True
    )
    batch_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("deescalation_observation_batches.id"), unique=True
    )
    note: Mapped[str] = mapped_column(Text)
    reported_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Incident(Base):
    """R12: an incident of its own, attributed to the party it names (access denied to the
    verifier, from the report that records it)."""

    __tablename__ = "deescalation_incidents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deescalation_inspection_reports.id"), unique=True
    )
    zone: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
