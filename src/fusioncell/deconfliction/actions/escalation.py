"""Overdue duties escalate as the hotline's deadlines do (R9), by the hotline's own pure
function (``fusioncell.hotline.escalation.due_steps``) and the ladder each notification's
entry binds:

- a recipient party's acknowledgement of each version: due the precedence's delay after the
  version's entry, then up the ladder; it lapses when the version is amended, when the
  notification is withdrawn, or when its window ends (no step falls due at or after that);
- a FLASH emergency's written justification, owed by the sender's organisation: due the
  rules' period after the submission, then up the justification's ladder.

Run every second by the engine (``deconfliction.engine``) and at start-up, so steps that fell
due while the server was down are written on restart. Each step is an entry by the log and a
row; ``fusioncell verify`` recomputes them (``deconfliction.replay``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.db.transaction import atomic
from fusioncell.deconfliction.entries import NotificationEntry
from fusioncell.deconfliction.events import EventKind, emit_deconfliction
from fusioncell.deconfliction.models import Duty, Notification, NotificationEscalation
from fusioncell.deconfliction.queries.notifications import (
    around,
    escalation_candidates_for_engine,
    organisation_ids,
    release_of,
)
from fusioncell.hotline.escalation import Step, due_steps
from fusioncell.hotline.rules import PrecedenceRule, Rung
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.entries import audience, log_time
from fusioncell.ledger.record import ByLog, record

# Duties older than this no longer escalate (ladders are bounded anyway).
HORIZON = timedelta(days=2)


def ladder_rule(terms: dict[str, Any], *, name: str) -> PrecedenceRule:
    """A bound ladder (as an entry records it) in the hotline's terms: 'delivered' at once."""
    repeat = int(terms.get("repeat_seconds", 0))
    return PrecedenceRule(
        name=name,
        delivered=timedelta(0),
        ack=timedelta(seconds=int(terms["ack_seconds"])),
        ladder=tuple(
            Rung(timedelta(seconds=int(r["after_seconds"])), tuple(r["notify"]))
            for r in terms["ladder"]
        ),
        repeat=timedelta(seconds=repeat) if repeat else None,
    )


def duty_steps(
    *,
    since: datetime,
    rule: PrecedenceRule,
    done_at: datetime | None,
    lapses_at: datetime | None,
    now: datetime,
) -> list[Step]:
    """The steps of one duty due by ``now``: the hotline's ladder, less any step falling due
    once the duty has lapsed. Step 0 (a missed delivery) never applies: a notification is
    distributed by its own entry."""
    steps = due_steps(sent_at=since, rule=rule, delivered_at=since, acked_at=done_at, now=now)
    return [s for s in steps if s.step > 0 and (lapses_at is None or s.due_at < lapses_at)]


@dataclass(frozen=True)
class _Owed:
    notification: Notification
    duty: str
    version: int
    organisation: uuid.UUID
    steps: list[Step]


def _lapse(candidates: list[datetime | None]) -> datetime | None:
    present = [c for c in candidates if c is not None]
    return min(present) if present else None


def _due(db: Session, notifications: list[Notification], *, now: datetime) -> list[_Owed]:
    known = around(db, notifications)
    found: list[_Owed] = []
    for n in notifications:
        logged = {(e.duty, e.version, e.organisation_id, e.step) for e in known.escalations[n.id]}
        versions = [(0, n.submitted_at)] + [
            (m.version, m.amended_at) for m in known.amendments[n.id]
        ]
        rule = ladder_rule(n.ack_ladder, name=n.precedence)
        for position, (version, since) in enumerate(versions):
            following = versions[position + 1][1] if position + 1 < len(versions) else None
            lapses = _lapse([following, n.closed_at, n.ends_at])
            for organisation in known.recipients[n.id]:
                acked = next(
                    (
                        a.acked_at
                        for a in known.acks[n.id]
                        if a.organisation_id == organisation and a.version == version
                    ),
                    None,
                )
                steps = [
                    s
                    for s in duty_steps(
                        since=since, rule=rule, done_at=acked, lapses_at=lapses, now=now
                    )
                    if (Duty.ACK.value, version, organisation, s.step) not in logged
                ]
                if steps:
                    found.append(_Owed(n, Duty.ACK, version, organisation, steps))
        justification = n.ack_ladder.get("justification")
        if n.flash and justification is not None:
            steps = [
                s
                for s in duty_steps(
                    since=n.submitted_at,
                    rule=ladder_rule(justification, name="JUSTIFICATION"),
                    done_at=n.justified_at,
                    lapses_at=None,
                    now=now,
                )
                if (Duty.JUSTIFICATION.value, 0, n.organisation_id, s.step) not in logged
            ]
            if steps:
                found.append(_Owed(n, Duty.JUSTIFICATION, 0, n.organisation_id, steps))
    return found


def do_escalate_due_notifications(db: Session, *, now: datetime) -> list[NotificationEscalation]:
    """Write the escalations due by ``now``. A first pass finds what may be due; only then
    does the engine take the log's lock and decide again at the log time its entries will
    bear, seeing every acknowledgement logged before them (as ``fusioncell verify`` judges)."""
    written: list[NotificationEscalation] = []
    with atomic(db):
        candidates = list(escalation_candidates_for_engine(db, since=now - HORIZON))
        if not _due(db, candidates, now=now):
            return written
        logged_at = log_clock(db, now=now)
        db.expire_all()
        candidates = list(escalation_candidates_for_engine(db, since=logged_at - HORIZON))
        due = _due(db, candidates, now=logged_at)
        released = release_of(db, [d.notification.id for d in due])
        organisations = organisation_ids(db)
        slugs = {v: k for k, v in organisations.items()}
        for duty in due:
            for step in duty.steps:
                written.append(
                    _escalate(
                        db,
                        duty,
                        step,
                        released_to=released[duty.notification.id],
                        organisations=organisations,
                        slug=slugs[duty.organisation],
                        logged_at=logged_at,
                    )
                )
    return written


def _escalate(
    db: Session,
    duty: _Owed,
    step: Step,
    *,
    released_to: list[str],
    organisations: dict[str, uuid.UUID],
    slug: str,
    logged_at: datetime,
) -> NotificationEscalation:
    n = duty.notification
    appended = record(
        db,
        ByLog(),
        NotificationEntry.ESCALATED,
        {
            "notification": str(n.id),
            "notification_index": n.log_index,
            "duty": duty.duty,
            "version": duty.version,
            "organisation": slug,
            "step": step.step,
            "due_at": log_time(step.due_at),
            "notify": list(step.notify),
            "released_to": released_to,
        },
        audience=audience(organisations=[organisations[s] for s in released_to]),
        now=logged_at,
    )
    assert appended.logged_at == logged_at  # the lock is held: the clock cannot have moved
    row = NotificationEscalation(
        notification_id=n.id,
        duty=duty.duty,
        version=duty.version,
        organisation_id=duty.organisation,
        step=step.step,
        due_at=step.due_at,
        notify=list(step.notify),
        written_at=appended.logged_at,
        log_index=appended.index,
    )
    db.add(row)
    emit_deconfliction(
        db,
        EventKind.ESCALATED,
        notification=str(n.id),
        log_index=appended.index,
        payload={
            "duty": duty.duty,
            "version": duty.version,
            "organisation": slug,
            "step": step.step,
            "notify": list(step.notify),
        },
        now=logged_at,
    )
    return row
