"""Tables of the commercial track: projects, their milestones and the files put before each,
crossing shipments, the signed steps taken on them (by their authors' client ids, so a retry
finds its first result), and evidence files with the organisations that stored them. Every
row comes from signed ``commercial.*`` entries; an evidence file's bytes are what its entry's
hash names."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from fusioncell.db.base import Base, UTCDateTime


class ProjectStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# Where each status may go next; completed and cancelled are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    ProjectStatus.PROPOSED: frozenset({ProjectStatus.ACTIVE, ProjectStatus.CANCELLED}),
    ProjectStatus.ACTIVE: frozenset(
        {ProjectStatus.SUSPENDED, ProjectStatus.COMPLETED, ProjectStatus.CANCELLED}
    ),
    ProjectStatus.SUSPENDED: frozenset({ProjectStatus.ACTIVE, ProjectStatus.CANCELLED}),
    ProjectStatus.COMPLETED: frozenset(),
    ProjectStatus.CANCELLED: frozenset(),
}


class MilestoneStatus(StrEnum):
    OPEN = "open"
    MET = "met"  # achieved by its due date
    LATE = "late"  # achieved after its due date
    MISSED = "missed"  # decided not achieved, once its due date had passed


class Decision(StrEnum):
    MET = "met"
    MISSED = "missed"


class ShipmentState(StrEnum):
    DECLARED = "declared"
    INSPECTED = "inspected"
    PASSED = "passed"
    REFUSED = "refused"


class Project(Base):
    """A project and where it stands (each column follows from its entries)."""

    __tablename__ = "commercial_projects"
    __table_args__ = (
        UniqueConstraint("proposed_by", "client_id", name="uq_commercial_projects_client"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    proposed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    # The party whose project it is: its milestones count in that party's figures.
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    sponsors: Mapped[list[str]] = mapped_column(JSON)
    # The financing organisations' slugs (third states): they read the project.
    financing: Mapped[list[str]] = mapped_column(JSON)
    # [{"name", "geometry"}], RFC 7946 geometries in WGS 84.
    locations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), index=True)
    released_to: Mapped[list[str]] = mapped_column(JSON)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProjectRelease(Base):
    """An organisation a project is released to (its ``released_to``): both parties, the
    supervisor, the verifier and the financing organisations. Every read filters on it."""

    __tablename__ = "commercial_project_releases"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commercial_projects.id"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True, index=True
    )


class Milestone(Base):
    __tablename__ = "commercial_milestones"
    __table_args__ = (
        UniqueConstraint("added_by", "client_id", name="uq_commercial_milestones_client"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commercial_projects.id"), index=True)
    added_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    achieved_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    decision_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MilestoneEvidence(Base):
    """A file put before a milestone (released to the project's audience): the entry that
    attached it, an attachment or the decision citing it."""

    __tablename__ = "commercial_milestone_evidence"

    milestone_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commercial_milestones.id"), primary_key=True
    )
    sha256: Mapped[str] = mapped_column(
        ForeignKey("commercial_evidence.sha256"), primary_key=True, index=True
    )
    log_index: Mapped[int] = mapped_column(BigInteger)


class Shipment(Base):
    """A crossing shipment of a project (each column follows from its entries)."""

    __tablename__ = "commercial_shipments"
    __table_args__ = (
        UniqueConstraint("declared_by", "client_id", name="uq_commercial_shipments_client"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commercial_projects.id"), index=True)
    declared_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    # The declaring party: the shipment counts in its figures.
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    cargo: Mapped[str] = mapped_column(Text)
    # An agreed protected site of kind crossing in the deconfliction registry.
    crossing_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    crossing_name: Mapped[str] = mapped_column(String(200))
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    required_lead_s: Mapped[int] = mapped_column(Integer)
    lead_time: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(12), index=True)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    inspected_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    inspection_note: Mapped[str | None] = mapped_column(Text)
    inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Step(Base):
    """One signed step on a project, milestone or shipment after its creation, by its
    author's client id (a retry's first result)."""

    __tablename__ = "commercial_steps"
    __table_args__ = (
        UniqueConstraint("member_id", "client_id", name="uq_commercial_steps_client"),
    )

    log_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commercial_projects.id"), index=True)
    # The milestone's or the shipment's id, or the project's own.
    subject: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(48))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class EvidenceFile(Base):
    """A file's bytes, stored once by its SHA-256."""

    __tablename__ = "commercial_evidence"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class EvidenceHolder(Base):
    """An organisation that stored a file (its entry): it may read it, and cite it."""

    __tablename__ = "commercial_evidence_holders"

    sha256: Mapped[str] = mapped_column(ForeignKey("commercial_evidence.sha256"), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)
