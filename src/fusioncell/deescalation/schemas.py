"""Request and response bodies of the de-escalation API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class CandidateOut(BaseModel):
    rule: str
    party: str
    zone: str
    category: str
    measure: str
    limit: float
    value: float
    observations: list[str]
    exception: str | None


class HoldingOut(BaseModel):
    party: str
    zone: str
    category: str
    count: int


class ComplianceOut(BaseModel):
    at: datetime
    source: str
    holdings: list[HoldingOut]
    candidates: list[CandidateOut]


class ObservationsOut(BaseModel):
    batch: uuid.UUID | None
    log_index: int | None
    # The request's features now stored, and how many of them this request wrote (a retry
    # writes none).
    stored: int
    new: int
    candidates: list[CandidateOut]


class BaselineHoldingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zone: str = Field(max_length=64)
    category: str = Field(max_length=16)
    count: int


class DeclareBaselineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    party: str = Field(max_length=32)
    holdings: list[BaselineHoldingIn] = Field(max_length=1000)


class BaselineOut(BaseModel):
    id: uuid.UUID
    party: str
    at: datetime
    holdings: list[dict[str, Any]]
    log_index: int
    accepted: bool
    accepted_log_index: int | None


class ProposeExceptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    party: str = Field(max_length=32)
    zone: str = Field(max_length=64)
    category: str = Field(max_length=16)
    max_count: int = Field(ge=0, le=10**9)
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    note: str = Field(default="", max_length=500)


class ExceptionOut(BaseModel):
    id: uuid.UUID
    party: str
    zone: str
    category: str
    max_count: int
    valid_from: datetime
    valid_until: datetime
    note: str
    log_index: int
    signed_by: list[str]
    # Signed by every party and the supervisor (in force for its period).
    agreed: bool


# -- inspections (R7, R12) ----------------------------------------------------------------


class RequestInspectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    zone: str = Field(max_length=64)
    # The side the zone is inspected from: needed for the area of separation only.
    side: str | None = Field(default=None, max_length=32)
    reason: str = Field(max_length=2000)


class ReportInspectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    zone: str = Field(max_length=64)
    side: str | None = Field(default=None, max_length=32)
    inspected_at: AwareDatetime
    outcome: str = Field(max_length=16)
    # The request it carries out, if any.
    request: uuid.UUID | None = None
    # With ``access_denied``: the party that denied access.
    denied_by: str | None = Field(default=None, max_length=32)
    note: str = Field(default="", max_length=2000)
    # An RFC 7946 FeatureCollection of the holdings counted, as ``POST .../observations``
    # takes (``source`` and ``observed_at`` may be left out: inspection, at the inspection).
    holdings: dict[str, Any] | None = None


class ScheduleRowOut(BaseModel):
    zone: str
    side: str
    kind: str
    band: str | None
    last_inspected: datetime | None
    due_by: datetime
    overdue: bool
    due_soon: bool


class InspectionRequestOut(BaseModel):
    id: uuid.UUID
    party: str
    zone: str
    side: str
    reason: str
    requested_at: datetime
    due_at: datetime
    log_index: int
    # open, completed or access_denied; overdue: open past its due time, or carried out late.
    status: str
    overdue: bool
    report: uuid.UUID | None
    carried_out_at: datetime | None


class CountedHoldingOut(BaseModel):
    id: str
    unit: str
    party: str
    category: str
    count: int
    calibre_mm: float | None
    range_km: float | None
    observed_at: datetime
    lon: float
    lat: float


class InspectionReportOut(BaseModel):
    id: uuid.UUID
    zone: str
    side: str
    inspected_at: datetime
    outcome: str
    request: uuid.UUID | None
    denied_by: str | None
    incident: uuid.UUID | None
    note: str
    batch: uuid.UUID | None
    holdings: list[CountedHoldingOut]
    log_index: int
    reported_at: datetime


class ReportedOut(InspectionReportOut):
    # The candidates the counted holdings raised, as ``POST .../observations`` answers.
    candidates: list[CandidateOut]


class InspectionsOut(BaseModel):
    at: datetime
    interval_days: float
    request_hours: float
    schedule: list[ScheduleRowOut]
    requests: list[InspectionRequestOut]
    reports: list[InspectionReportOut]


class IncidentOut(BaseModel):
    id: uuid.UUID
    kind: str
    party: str
    zone: str
    side: str
    occurred_at: datetime
    report: uuid.UUID
    request: uuid.UUID | None
    log_index: int
    recorded_at: datetime
