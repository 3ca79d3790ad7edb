"""``fusioncell verify`` recomputes every lead-time verdict, acknowledgement term, conflict
and escalation from the log's bodies: fed the log as the cell wrote it, the replay finds
nothing; fed a body that states something else, it names that entry."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.deconfliction.factories import NEAR_MAJDAL_SHAMS, notify, point

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.deconfliction.actions.acknowledgements import do_acknowledge_notification
from fusioncell.deconfliction.actions.escalation import do_escalate_due_notifications
from fusioncell.deconfliction.replay import NotificationReplay
from fusioncell.ledger.models import EntryBody, LogEntry

Member = Callable[[str], Viewer]
Log = list[tuple[int, str, Any, dict[str, Any]]]


def _log(db: Session) -> Log:
    db.commit()
    rows = db.execute(
        select(LogEntry.index, LogEntry.entry_type, LogEntry.logged_at, EntryBody.body)
        .join(EntryBody, EntryBody.entry_index == LogEntry.index)
        .order_by(LogEntry.index)
    ).all()
    return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]


def _replay(log: Log) -> tuple[int, str] | None:
    replay = NotificationReplay()
    for index, kind, at, body in log:
        replay.observe(index, kind, at, json.dumps(body))
    return replay.first_problem()


def _story(db: Session, member: Member, clock: ManualClock) -> None:
    alpha = member("alpha.liaison")
    n = notify(db, alpha, now=clock.now(), geometry=point(NEAR_MAJDAL_SHAMS), buffer_m=500)
    notify(db, member("hum1.coordinator"), now=clock.now(), kind="movement")
    do_acknowledge_notification(
        db, member("bravo.duty"), n.id, ack_id=uuid.uuid4(), now=clock.now()
    )
    clock.advance(2 * 3600)
    do_escalate_due_notifications(db, now=clock.now())


def _first(log: Log, kind: str) -> int:
    return next(i for i, (_, k, _, _) in enumerate(log) if k == kind)


def test_the_log_as_written_replays_without_a_fault(
    db: Session, member: Member, clock: ManualClock
) -> None:
    _story(db, member, clock)
    log = _log(db)
    assert any(k == "deconfliction.notification.escalated" for _, k, _, _ in log)
    assert _replay(log) is None


def test_a_verdict_a_conflict_or_an_escalation_other_than_recomputed_is_named(
    db: Session, member: Member, clock: ManualClock
) -> None:
    _story(db, member, clock)
    log = _log(db)

    def tampered(kind: str, change: Callable[[dict[str, Any]], None]) -> tuple[int, str] | None:
        copy = [(i, k, at, json.loads(json.dumps(b))) for i, k, at, b in log]
        position = _first(copy, kind)
        change(copy[position][3])
        problem = _replay(copy)
        assert problem is not None, kind
        assert problem[0] == copy[position][0] or kind.endswith("escalated"), problem
        return problem

    def lateness(body: dict[str, Any]) -> None:
        body["lead_time"] = "late"

    def farther(body: dict[str, Any]) -> None:
        body["conflicts"][0]["distance_m"] += 100

    def cleared(body: dict[str, Any]) -> None:
        body["conflicts"] = []
        body["status"] = "clear"

    def other_deadline(body: dict[str, Any]) -> None:
        body["acknowledgement"]["ack_seconds"] = 7200

    def earlier(body: dict[str, Any]) -> None:
        body["step"] = 5

    assert "lead time" in tampered("deconfliction.notification.submitted", lateness)[1]
    assert "conflicts" in tampered("deconfliction.notification.checked", farther)[1]
    assert "conflicts" in tampered("deconfliction.notification.checked", cleared)[1]
    assert (
        "acknowledgement terms"
        in tampered("deconfliction.notification.submitted", other_deadline)[1]
    )
    assert tampered("deconfliction.notification.escalated", earlier) is not None


def test_a_step_that_fell_due_and_was_never_logged_is_missing(
    db: Session, member: Member, clock: ManualClock
) -> None:
    _story(db, member, clock)
    log = [entry for entry in _log(db) if entry[1] != "deconfliction.notification.escalated"]
    # The log goes on after the deadlines, without their escalations.
    last = log[-1]
    log.append((last[0] + 1, "cell.token.issued", last[2] + timedelta(hours=2), {}))
    problem = _replay(log)
    assert problem is not None and "never logged" in problem[1]
