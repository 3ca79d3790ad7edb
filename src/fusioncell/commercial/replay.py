"""What ``fusioncell verify`` recomputes of the commercial track from the signed bodies alone:
each shipment's lead-time verdict under the rules in force when it was declared (from the
log time of its entry), each milestone's status from its decision (met by its due date, late
after it, missed only once the due date had passed, met only on a file), and the order of
each shipment's steps (inspected before passed; nothing after passed or refused)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fusioncell.commercial.entries import CommercialEntry as E
from fusioncell.commercial.lead_time import judge
from fusioncell.commercial.models import MilestoneStatus, ShipmentState
from fusioncell.commercial.rules import CommercialRules, RulesError, parse_rules
from fusioncell.ledger.entries import LedgerEntry, parse_log_time

# Which state each step needs a shipment in, and leaves it in.
_STEPS = {
    E.SHIPMENT_INSPECTED.value: ({ShipmentState.DECLARED}, ShipmentState.INSPECTED),
    E.SHIPMENT_PASSED.value: ({ShipmentState.INSPECTED}, ShipmentState.PASSED),
    E.SHIPMENT_REFUSED.value: (
        {ShipmentState.DECLARED, ShipmentState.INSPECTED},
        ShipmentState.REFUSED,
    ),
}


class CommercialReplay:
    """Fed every entry in log order (``observe``), then asked for the first fault."""

    def __init__(self) -> None:
        self.complete = True
        self._rules: CommercialRules | None = None
        self._shipments: dict[str, str] = {}
        self._milestones: dict[str, date] = {}
        self._problems: list[tuple[int, str]] = []
        self._handlers: dict[str, Callable[[int, datetime, dict[str, Any]], None]] = {
            LedgerEntry.POLICY_ADOPTED.value: self._policy,
            E.SHIPMENT_DECLARED.value: self._declared,
            E.MILESTONE_ADDED.value: self._milestone,
            E.MILESTONE_DECIDED.value: self._decided,
            **dict.fromkeys(_STEPS, self._step),
        }

    def observe(self, index: int, entry_type: str, logged_at: datetime, body: str | None) -> None:
        handler = self._handlers.get(entry_type)
        if handler is None:
            return
        if body is None:
            self.complete = False
            return
        try:
            value = json.loads(body)
            if not isinstance(value, dict):
                raise TypeError("not an object")
            if entry_type in _STEPS:
                value = {**value, "_type": entry_type}
            handler(index, logged_at, value)
        except (KeyError, TypeError, ValueError, RulesError) as exc:
            if entry_type.startswith("commercial."):
                self._problems.append((index, f"the {entry_type} body cannot be replayed: {exc!r}"))

    def first_problem(self) -> tuple[int, str] | None:
        if not self.complete:
            return None
        return min(self._problems) if self._problems else None

    def _policy(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        section = body["policy"].get("commercial")
        self._rules = parse_rules(section) if section is not None else None

    def _declared(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        rules = self._rules
        if rules is None:
            self._problems.append((index, "no commercial rules were adopted before it"))
            return
        required = int(rules.lead.total_seconds())
        if body["required_lead_seconds"] != required:
            self._problems.append(
                (
                    index,
                    f"the shipment states a lead of {body['required_lead_seconds']} s, "
                    f"the rules in force {required} s",
                )
            )
        planned = parse_log_time(body["planned_at"])
        verdict = judge(planned_at=planned, declared_at=at, lead=rules.lead)
        if body["lead_time"] != verdict:
            self._problems.append(
                (index, f"the shipment is marked {body['lead_time']}, but was declared {verdict}")
            )
        if planned <= at:
            self._problems.append((index, "the shipment was declared after its crossing time"))
        self._shipments[str(body["shipment"])] = ShipmentState.DECLARED

    def _step(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        shipment = str(body["shipment"])
        needed, leaves = _STEPS[body["_type"]]
        state = self._shipments.get(shipment)
        if state not in needed:
            self._problems.append(
                (index, f"{body['_type']} on a shipment that is {state or 'not declared'}")
            )
        if body["state"] != leaves:
            self._problems.append((index, f"the step states {body['state']}, not {leaves}"))
        self._shipments[shipment] = leaves

    def _milestone(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        self._milestones[str(body["milestone"])] = date.fromisoformat(body["due_on"])

    def _decided(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        due = self._milestones.pop(str(body["milestone"]), None)
        if due is None:
            self._problems.append((index, "a decision on a milestone not added, or decided"))
            return
        if body["decision"] == "met":
            achieved = date.fromisoformat(body["achieved_on"])
            expected = MilestoneStatus.MET if achieved <= due else MilestoneStatus.LATE
            if achieved > at.date():
                self._problems.append((index, "a milestone achieved on a day still to come"))
            if not body["evidence"]:
                self._problems.append((index, "a milestone decided met on no file"))
        else:
            expected = MilestoneStatus.MISSED
            if at.date() <= due:
                self._problems.append((index, "a milestone decided missed before its due date"))
        if body["status"] != expected:
            self._problems.append(
                (
                    index,
                    f"the milestone is marked {body['status']}, but the decision makes it "
                    f"{expected}",
                )
            )
