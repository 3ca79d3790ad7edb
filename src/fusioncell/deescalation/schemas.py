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
