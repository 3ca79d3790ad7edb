"""``fusioncell verify`` replays the diplomatic track from the log's bodies: fed the log as
the cell wrote it, the replay finds nothing; fed a body with another hash, signer, window,
reveal or assessment, it names that entry."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.diplomacy.factories import Member, tell_story

from fusioncell.clock import ManualClock
from fusioncell.diplomacy.replay import DiplomacyReplay
from fusioncell.ledger.models import EntryBody, LogEntry

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
    replay = DiplomacyReplay()
    for index, kind, at, body in log:
        replay.observe(index, kind, at, json.dumps(body))
    return replay.first_problem()


def test_the_log_as_written_replays_without_a_fault_and_each_tampered_body_is_named(
    db: Session, member: Member, clock: ManualClock
) -> None:
    tell_story(db, member, clock)
    log = _log(db)
    assert _replay(log) is None

    def tampered(kind: str, change: Callable[[dict[str, Any]], None], nth: int = 0) -> str:
        copy = [(i, k, at, json.loads(json.dumps(b))) for i, k, at, b in log]
        position = [p for p, e in enumerate(copy) if e[1] == kind][nth]
        change(copy[position][3])
        problem = _replay(copy)
        assert problem is not None and problem[0] == copy[position][0], (kind, problem)
        return problem[1]

    assert "does not hash" in tampered(
        "diplomacy.agreement.proposed", lambda b: b["content"].update(text="Other words.")
    )
    assert "another hash" in tampered(
        "diplomacy.version.signed", lambda b: b.update(content_hash="0" * 64)
    )
    assert "not a signatory" in tampered(
        "diplomacy.version.signed", lambda b: b.update(organisation="VERIFIER")
    )
    assert "comment window closes" in tampered(
        "diplomacy.milestone.verification_requested",
        lambda b: b.update(comments_close_at="2026-03-01T00:00:00.000Z"),
    )
    assert "sealed commitment" in tampered(
        "diplomacy.comment.revealed", lambda b: b.update(text="Another text.")
    )
    assert "may not assess" in tampered(
        "diplomacy.milestone.assessed", lambda b: b.update(organisation="ALPHA")
    )
    assert "cites its evidence" in tampered(
        "diplomacy.milestone.assessed", lambda b: b.update(evidence=[])
    )
    assert "released to" in tampered(
        "diplomacy.meeting.requested", lambda b: b.update(released_to=["ALPHA"])
    )
    assert "current draft" in tampered(
        "diplomacy.minutes.signed", lambda b: b.update(minutes_hash="0" * 64)
    )
