"""``fusioncell verify`` recomputes the commercial track's verdicts from the signed bodies:
a shipment's lead time under the rules in force at its declaration, a milestone's status from
its decision, the order of a shipment's steps. Each fault is named at its entry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fusioncell.commercial.entries import CommercialEntry as E
from fusioncell.commercial.replay import CommercialReplay
from fusioncell.commercial.rules import load_rules
from fusioncell.ledger.entries import LedgerEntry, log_time

AT = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)


def _replayed(*entries: tuple[str, datetime, dict[str, Any]]) -> tuple[int, str] | None:
    replay = CommercialReplay()
    policy = {"policy": {"commercial": load_rules().document}}
    replay.observe(0, LedgerEntry.POLICY_ADOPTED.value, AT, json.dumps(policy))
    for index, (kind, at, body) in enumerate(entries, start=1):
        replay.observe(index, kind, at, json.dumps(body))
    return replay.first_problem()


def _declared(ahead: timedelta, verdict: str, lead: int = 44 * 3600) -> tuple[str, datetime, dict]:
    body = {
        "shipment": "s1",
        "planned_at": log_time(AT + ahead),
        "required_lead_seconds": lead,
        "lead_time": verdict,
    }
    return (E.SHIPMENT_DECLARED.value, AT, body)


def _step(kind: E, state: str) -> tuple[str, datetime, dict[str, Any]]:
    return (kind.value, AT, {"shipment": "s1", "state": state})


def _milestone(due: str = "2026-01-07") -> tuple[str, datetime, dict[str, Any]]:
    return (E.MILESTONE_ADDED.value, AT, {"milestone": "m1", "due_on": due})


def _decided(at: datetime, **body: Any) -> tuple[str, datetime, dict[str, Any]]:
    return (E.MILESTONE_DECIDED.value, at, {"milestone": "m1", "evidence": ["f"], **body})


def test_honest_bodies_replay_without_a_fault() -> None:
    assert (
        _replayed(
            _declared(timedelta(hours=44), "on_time"),
            _step(E.SHIPMENT_INSPECTED, "inspected"),
            _step(E.SHIPMENT_PASSED, "passed"),
            _milestone(),
            _decided(AT, decision="met", achieved_on="2026-01-06", status="met"),
        )
        is None
    )


@pytest.mark.parametrize(
    ("entries", "fault"),
    [
        ((_declared(timedelta(hours=43), "on_time"),), "declared late"),
        ((_declared(timedelta(hours=50), "late"),), "declared on_time"),
        ((_declared(timedelta(hours=50), "on_time", lead=3600),), "rules in force"),
        (
            (_declared(timedelta(hours=50), "on_time"), _step(E.SHIPMENT_PASSED, "passed")),
            "is declared",
        ),
        (
            (
                _declared(timedelta(hours=50), "on_time"),
                _step(E.SHIPMENT_REFUSED, "refused"),
                _step(E.SHIPMENT_INSPECTED, "inspected"),
            ),
            "is refused",
        ),
        (
            (_milestone(), _decided(AT, decision="missed", achieved_on=None, status="missed")),
            "before its due date",
        ),
        (
            (
                _milestone(),
                _decided(
                    AT + timedelta(days=3), decision="met", achieved_on="2026-01-09", status="met"
                ),
            ),
            "makes it late",
        ),
        (
            (
                _milestone(),
                _decided(AT, decision="met", achieved_on="2026-01-06", status="met", evidence=[]),
            ),
            "on no file",
        ),
    ],
)
def test_a_verdict_the_bodies_do_not_bear_out_is_named(
    entries: tuple[tuple[str, datetime, dict[str, Any]], ...], fault: str
) -> None:
    found = _replayed(*entries)
    assert found is not None and fault in found[1], found


def test_a_withheld_body_gives_no_verdict_rather_than_a_wrong_one() -> None:
    replay = CommercialReplay()
    replay.observe(1, E.SHIPMENT_DECLARED.value, AT, None)
    replay.observe(
        2, E.SHIPMENT_PASSED.value, AT, json.dumps({"shipment": "s1", "state": "passed"})
    )
    assert replay.first_problem() is None
