"""The shipments' lead time as a pure function: ``fusioncell verify`` recomputes every
verdict from the log with it. A shipment is on time when its planned crossing is at least the
rules' lead after the log time of its declaration. Lateness is a fact recorded, never a
refusal: a late declaration is accepted, marked late and counted in the statistics, the same
way for every party (R13), as the deconfliction track's notifications are."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class LeadTime(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"


def judge(*, planned_at: datetime, declared_at: datetime, lead: timedelta) -> LeadTime:
    return LeadTime.ON_TIME if planned_at - declared_at >= lead else LeadTime.LATE
