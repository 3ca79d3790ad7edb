"""A milestone's deadlines as pure functions of what the log says, shared by the engine
(which escalates them), and ``fusioncell verify`` (which recomputes them):

- ``verification_request``: a milestone is put to verification once due; the deadline is
  its due date, done when verification is requested, lapsed once waived or withdrawn;
- ``assessment``: the assessment is made once the comment window closes; the deadline is
  the close, done when assessed.

Both are the supervisor's. A missed deadline escalates up the rules' ladder as the hotline's
deadlines do (``verification.workflow.steps_due``, the hotline's pure function).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fusioncell.hotline.escalation import Step
from fusioncell.hotline.rules import Rung
from fusioncell.verification.workflow import Deadline, steps_due

VERIFICATION_REQUEST = "verification_request"
ASSESSMENT = "assessment"
DUTIES = (VERIFICATION_REQUEST, ASSESSMENT)
_NAMESPACE = uuid.UUID("0c1f5d8e-2a8b-4b8e-93c4-6b5f0e7d2a31")


def escalation_id(milestone: object, duty: str, step: int) -> uuid.UUID:
    """The step row's id: one per milestone, duty and step, whoever writes it."""
    return uuid.uuid5(_NAMESPACE, f"{milestone}/{duty}/{step}")


def deadlines(
    milestone: str,
    supervisor: str,
    *,
    due_at: datetime,
    requested_at: datetime | None,
    closes_at: datetime | None,
    assessed_at: datetime | None,
    lapsed_at: datetime | None,
) -> list[Deadline]:
    found = [
        Deadline(
            VERIFICATION_REQUEST, milestone, supervisor, due_at, due_at, requested_at, lapsed_at
        )
    ]
    if requested_at is not None and closes_at is not None:
        found.append(
            Deadline(ASSESSMENT, milestone, supervisor, requested_at, closes_at, assessed_at, None)
        )
    return found


def due(deadline: Deadline, ladder: tuple[Rung, ...], *, now: datetime) -> list[Step]:
    return steps_due(deadline, ladder, now=now)
