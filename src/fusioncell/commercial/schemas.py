"""Request and response bodies of ``/api/v1/projects``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SHA256 = r"^[0-9a-f]{64}$"


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=1000)
    # An RFC 7946 geometry in WGS 84 longitude and latitude.
    geometry: dict[str, Any]


class ProposeProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    name: str = Field(max_length=1000)
    description: str = Field(max_length=20000)
    # The party whose project it is (a liaison officer's own party when left out).
    party: str | None = Field(default=None, max_length=32)
    sponsors: list[str] = Field(max_length=100)
    # Organisations of the cell other than the parties (third states), by slug.
    financing: list[str] = Field(default_factory=list, max_length=100)
    locations: list[LocationIn] = Field(default_factory=list, max_length=100)
    starts_on: date
    ends_on: date


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    # proposed, active, suspended, completed or cancelled
    status: str = Field(max_length=16)
    reason: str = Field(max_length=20000)


class MilestoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    title: str = Field(max_length=1000)
    due_on: date


class AttachIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    evidence: list[str] = Field(max_length=100)
    note: str = Field(default="", max_length=20000)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    # met or missed
    decision: str = Field(max_length=8)
    reason: str = Field(max_length=20000)
    # Files stored by your organisation, put before the milestone with the decision.
    evidence: list[str] = Field(default_factory=list, max_length=100)
    # When the milestone was achieved (met only; default: the day of the decision).
    achieved_on: date | None = None


class DeclareShipmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    cargo: str = Field(max_length=20000)
    # The id of an agreed crossing in the registry (``GET /api/v1/protected-places``).
    crossing: str = Field(max_length=64)
    planned_at: AwareDatetime


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    note: str = Field(default="", max_length=20000)


class RefusalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    reason: str = Field(max_length=20000)


class EvidenceOut(BaseModel):
    sha256: str
    size: int
    type: str
    url: str


class MilestoneOut(BaseModel):
    id: uuid.UUID
    title: str
    due_on: date
    # open, met (by its due date), late (met after it) or missed
    status: str
    achieved_on: date | None
    reason: str | None
    decided_at: datetime | None
    log_index: int
    decision_index: int | None
    evidence: list[EvidenceOut]


class ShipmentOut(BaseModel):
    id: uuid.UUID
    project: uuid.UUID
    party: str
    cargo: str
    crossing: uuid.UUID
    crossing_name: str
    planned_at: datetime
    declared_at: datetime
    required_lead_seconds: int
    # on_time or late
    lead_time: str
    # declared, inspected, passed or refused
    state: str
    inspection_note: str | None
    inspected_at: datetime | None
    reason: str | None
    decided_at: datetime | None
    log_index: int


class ProjectOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    party: str
    proposed_by_organisation: str
    sponsors: list[str]
    financing: list[str]
    # A GeoJSON FeatureCollection of the locations (each feature's ``name`` in properties).
    locations: dict[str, Any]
    starts_on: date
    ends_on: date
    status: str
    released_to: list[str]
    proposed_at: datetime
    status_changed_at: datetime
    log_index: int


class ProjectDetailOut(ProjectOut):
    milestones: list[MilestoneOut]
    shipments: list[ShipmentOut]


class PartyStatisticsOut(BaseModel):
    party: str
    shipments_declared: int
    shipments_late: int
    shipments_passed: int
    shipments_refused: int
    milestones_met: int
    milestones_late: int
    milestones_missed: int
    milestones_open: int


class StatisticsOut(BaseModel):
    method: str
    parties: list[PartyStatisticsOut]
