"""The workflow as pure functions of what the log says, shared by the actions (which refuse
a step the state does not allow), the engine (which escalates overdue deadlines), the header
strip and ``fusioncell verify`` (which recomputes states and deadlines from the bodies):

    filed -> triaged (admissible) | dismissed (duplicate, out of scope)
    triaged -> investigating (the verifier is tasked)
    investigating -> drafted (a draft finding opens the comment window for every party)
    drafted -> issued (once the window has closed)
    issued -> remedy_requested (a substantiated finding) -> remedy_verified
    issued | remedy_verified -> closed

Site visits and access requests happen while investigating; an access request is answered
while the case is open. Deadlines (R11) escalate as the hotline's do: at the deadline and up
the ladder bound at filing, until done or lapsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fusioncell.hotline.escalation import Step, due_steps
from fusioncell.hotline.rules import PrecedenceRule, Rung
from fusioncell.verification.entries import VerificationEntry as E
from fusioncell.verification.models import CaseState as S
from fusioncell.verification.models import Duty

OPEN = frozenset(
    {
        S.FILED,
        S.TRIAGED,
        S.INVESTIGATING,
        S.DRAFTED,
        S.ISSUED,
        S.REMEDY_REQUESTED,
        S.REMEDY_VERIFIED,
    }
)

# The states each step may be taken from.
FROM: dict[str, frozenset[str]] = {
    E.COMPLAINT_TRIAGED: frozenset({S.FILED}),
    E.VERIFIER_TASKED: frozenset({S.TRIAGED}),
    E.SITE_VISITED: frozenset({S.INVESTIGATING}),
    E.ACCESS_REQUESTED: frozenset({S.INVESTIGATING}),
    E.ACCESS_ANSWERED: frozenset({S.INVESTIGATING, S.DRAFTED}),
    E.FINDING_DRAFTED: frozenset({S.INVESTIGATING}),
    E.COMMENT_SEALED: frozenset({S.DRAFTED}),
    E.FINDING_ISSUED: frozenset({S.DRAFTED}),
    E.REMEDY_REQUESTED: frozenset({S.ISSUED}),
    E.REMEDY_VERIFIED: frozenset({S.REMEDY_REQUESTED}),
    E.CASE_CLOSED: frozenset({S.ISSUED, S.REMEDY_VERIFIED}),
}

# The state each step leads to (None: the state stays).
TO: dict[str, str | None] = {
    E.VERIFIER_TASKED: S.INVESTIGATING,
    E.SITE_VISITED: None,
    E.ACCESS_REQUESTED: None,
    E.ACCESS_ANSWERED: None,
    E.FINDING_DRAFTED: S.DRAFTED,
    E.COMMENT_SEALED: None,
    E.FINDING_ISSUED: S.ISSUED,
    E.REMEDY_REQUESTED: S.REMEDY_REQUESTED,
    E.REMEDY_VERIFIED: S.REMEDY_VERIFIED,
    E.CASE_CLOSED: S.CLOSED,
}


def allowed(step: str, state: str) -> bool:
    return state in FROM[step]


def after(step: str, state: str, *, triage: str | None = None) -> str:
    """The state a step leaves the case in."""
    if step == E.COMPLAINT_TRIAGED:
        return S.TRIAGED if triage == "admissible" else S.DISMISSED
    to = TO[step]
    return state if to is None else to


@dataclass(frozen=True)
class Deadline:
    """A duty's deadline: who owes it (an organisation's slug), since when, when due, when
    done (or lapsed: it no longer escalates)."""

    duty: str
    subject: str  # the case's id, or the access request's
    organisation: str
    since: datetime
    due_at: datetime
    done_at: datetime | None
    lapses_at: datetime | None


def ladder_of(terms: Sequence[dict[str, Any]]) -> tuple[Rung, ...]:
    return tuple(
        Rung(timedelta(seconds=int(r["after_seconds"])), tuple(r["notify"])) for r in terms
    )


def steps_due(deadline: Deadline, ladder: tuple[Rung, ...], *, now: datetime) -> list[Step]:
    """The ladder's steps due by ``now`` (the hotline's pure function): step n falls due at the
    deadline plus rung n's delay, unless the duty was done or had lapsed by then."""
    offset = deadline.due_at - deadline.since
    rule = PrecedenceRule(
        name=deadline.duty,
        delivered=timedelta(0),
        ack=offset,
        ladder=tuple(Rung(offset + r.after, r.notify) for r in ladder),
        repeat=None,
    )
    steps = due_steps(
        sent_at=deadline.since,
        rule=rule,
        delivered_at=deadline.since,
        acked_at=deadline.done_at,
        now=now,
    )
    lapses = deadline.lapses_at
    return [s for s in steps if s.step > 0 and (lapses is None or s.due_at < lapses)]


DUTIES = tuple(d.value for d in Duty)
