"""Request and response bodies of the intelligence API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class SubmitReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    # A STIX 2.1 bundle, or a TAXII envelope ({"objects": [...]}).
    bundle: dict[str, Any]
    release_to: list[str] = Field(default_factory=list, max_length=20)
    tlp: str = Field(default="amber", max_length=16)
    grade: str | None = Field(default=None, max_length=4)


class SubmitReportsIn(BaseModel):
    """Several bundles at once, each its own report, in one transaction."""

    model_config = ConfigDict(extra="forbid")
    reports: list[SubmitReportIn] = Field(min_length=1, max_length=5_000)


class SubmittedOut(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    log_index: int
    # An earlier submission with this id: nothing new was written.
    retried: bool


class SubmittedBatchOut(BaseModel):
    reports: list[SubmittedOut]


class SubmitObservationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    title: str = Field(max_length=300)
    description: str = Field(max_length=20_000)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    place: str = Field(default="", max_length=200)
    observed_at: AwareDatetime
    release_to: list[str] = Field(default_factory=list, max_length=20)
    tlp: str = Field(default="amber", max_length=16)
    grade: str = Field(max_length=4)


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    release_to: list[str] = Field(default_factory=list, max_length=20)
    redact: list[str] = Field(default_factory=list, max_length=50)
    grid_km: float | None = Field(default=None, ge=0.1, le=500)
    anonymise_source: bool = False
    drop: list[str] = Field(default_factory=list, max_length=500)
    tlp: str | None = Field(default=None, max_length=16)


class RespondIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    opinion: str | None = Field(default=None, max_length=20)
    explanation: str = Field(default="", max_length=20_000)
    sighting_of: str | None = Field(default=None, max_length=120)
    seen_at: AwareDatetime | None = None


class ReportOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    author_organisation: str
    tlp: str
    grade: str
    reliability: str | None
    credibility: int | None
    opinion: str | None
    observed_at: datetime
    submitted_at: datetime
    released_to: list[str]
    derived_from: uuid.UUID | None = None
    responds_to: uuid.UUID | None = None
    log_index: int
    bbox: list[float] | None = None
    bundle: dict[str, Any] | None = None
    responses: list[ReportOut] = Field(default_factory=list)
    derived: list[uuid.UUID] = Field(default_factory=list)


class CountOut(BaseModel):
    count: int


class PreviewOut(BaseModel):
    original: list[dict[str, Any]]
    sanitised: list[dict[str, Any]]
    changes: dict[str, list[str]]
    dropped: list[str]
