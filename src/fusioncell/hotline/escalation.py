"""Escalation as a pure function of what the log says and the log's clock.

Given when a message was sent, the precedence rule bound into it, and when the recipient
party's device received it and its first human acknowledged it, ``due_steps`` lists every
escalation that had fallen due by ``now``. The engine writes exactly these; ``fusioncell
verify`` recomputes them from the log and compares.

Step 0 is a missed delivery deadline (the supervisor's duty officer is told). Steps 1..n are
the rungs of the acknowledgement ladder; after the last rung, the ladder's last rung repeats
every ``repeat`` until acknowledged, at most ``MAX_STEPS`` steps in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fusioncell.hotline.rules import PrecedenceRule

MAX_STEPS = 30
UNDELIVERED_NOTIFY = ("supervisor_duty_officer",)


@dataclass(frozen=True)
class Step:
    step: int
    due_at: datetime
    notify: tuple[str, ...]


def due_steps(
    *,
    sent_at: datetime,
    rule: PrecedenceRule,
    delivered_at: datetime | None,
    acked_at: datetime | None,
    now: datetime,
) -> list[Step]:
    def open_at(moment: datetime) -> bool:
        return moment <= now and (acked_at is None or acked_at > moment)

    steps = []
    delivery_deadline = sent_at + rule.delivered
    if open_at(delivery_deadline) and (delivered_at is None or delivered_at > delivery_deadline):
        steps.append(Step(0, delivery_deadline, UNDELIVERED_NOTIFY))
    for number, rung in enumerate(rule.ladder, start=1):
        due = sent_at + rung.after
        if not open_at(due):
            return steps
        steps.append(Step(number, due, rung.notify))
    if rule.repeat is None:
        return steps
    last = rule.ladder[-1]
    number = len(rule.ladder)
    due = sent_at + last.after
    while number < MAX_STEPS:
        due += rule.repeat
        number += 1
        if not open_at(due):
            break
        steps.append(Step(number, due, last.notify))
    return steps
