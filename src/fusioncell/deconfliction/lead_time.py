"""R8 as a pure function: how long before its window a notification was due, and whether it
came in time. ``fusioncell verify`` recomputes every verdict from the log with it.

A notification is on time when its window begins at least the required lead after the log
time of its entry. A FLASH emergency is on time whenever it comes (it is notified at once);
it owes a written justification instead. Lateness is a fact recorded, never a refusal: a late
notification is accepted, marked late, and counted in the statistics, the same way for every
party (R13).

An amendment keeps the verdict it amends unless it moves the window earlier or needs a longer
lead (say, it brings an activity within reach of a line): then it is judged afresh from the
amendment's log time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fusioncell.deconfliction.models import LeadTime, NotificationKind
from fusioncell.deconfliction.rules import DeconflictionRules


@dataclass(frozen=True)
class Verdict:
    required: timedelta
    lead_time: str  # LeadTime

    @property
    def required_seconds(self) -> int:
        return int(self.required.total_seconds())


def judge(
    *,
    kind: str,
    flash: bool,
    near_line: bool,
    starts_at: datetime,
    notified_at: datetime,
    rules: DeconflictionRules,
) -> Verdict:
    if flash and kind == NotificationKind.EMERGENCY:
        return Verdict(timedelta(0), LeadTime.ON_TIME)
    required = rules.required_lead(kind, near_line=near_line)
    on_time = starts_at - notified_at >= required
    return Verdict(required, LeadTime.ON_TIME if on_time else LeadTime.LATE)


def judge_amendment(
    *,
    previous: Verdict,
    previous_starts_at: datetime,
    kind: str,
    flash: bool,
    near_line: bool,
    starts_at: datetime,
    amended_at: datetime,
    rules: DeconflictionRules,
) -> Verdict:
    fresh = judge(
        kind=kind,
        flash=flash,
        near_line=near_line,
        starts_at=starts_at,
        notified_at=amended_at,
        rules=rules,
    )
    if starts_at >= previous_starts_at and fresh.required <= previous.required:
        return Verdict(fresh.required, previous.lead_time)
    return fresh
