"""Notifications replayed from the log: ``fusioncell verify`` recomputes what the cell stated
about each one, from the signed bodies alone (``fusioncell.ledger.verify.replay``):

    lead time      each submission's and amendment's ``near_line``, ``required_lead_s`` and
                   ``lead_time`` (R8) under the deconfliction rules adopted last before it,
                   with the area of separation in force then and the entry's log time
    terms          its acknowledgement deadline and ladder: the hotline's rules then for the
                   precedence the deconfliction rules give its kind (R9); a FLASH emergency's
                   justification deadline and ladder
    conflicts      each ``deconfliction.notification.checked`` entry's conflicts and verdict
                   (R10): the notification as it stood then, against every notification that
                   stood then (submitted, as last amended, not withdrawn), the protected
                   places and zones in force then (``protected``), under the rules then; a
                   conflict is noted as the sender's noting entries and the previous check say
    receipt        each acknowledgement comes from a recipient party, for the version then
                   current
    escalations    each ``deconfliction.notification.escalated`` entry is a step that was due
                   at its own log time and not yet logged, stating the due time and whom to
                   notify the bound ladder gives; and every step that fell due more than
                   ``GRACE`` before the log's last entry is logged

A source that withholds any of these bodies gets no verdict rather than a wrong one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fusioncell.deconfliction import conflicts as engine
from fusioncell.deconfliction import lead_time
from fusioncell.deconfliction.actions.escalation import HORIZON, duty_steps, ladder_rule
from fusioncell.deconfliction.entries import NotificationEntry
from fusioncell.deconfliction.models import Duty
from fusioncell.deconfliction.protected import SOURCES, GeometryFollower, Handler
from fusioncell.deconfliction.rules import DeconflictionRules, RulesError, parse_rules
from fusioncell.hotline.rules import HotlineRules
from fusioncell.hotline.rules import RulesError as HotlineRulesError
from fusioncell.hotline.rules import parse_rules as parse_hotline_rules
from fusioncell.ledger.entries import LedgerEntry, log_time, parse_log_time

GRACE = timedelta(seconds=5)


@dataclass
class _Notification:
    index: int
    id: str
    kind: str
    flash: bool
    organisation: str
    recipients: list[str]
    submitted_at: datetime
    subject: engine.Subject
    verdict: lead_time.Verdict
    terms: Mapping[str, Any]
    justification_terms: Mapping[str, Any] | None
    justified_at: datetime | None
    version: int = 0
    # (version, log time) of each version
    versions: list[tuple[int, datetime]] = field(default_factory=list)
    closed_at: datetime | None = None
    acks: dict[tuple[str, int], datetime] = field(default_factory=dict)
    noted: dict[tuple[str, str], int] = field(default_factory=dict)
    logged: set[tuple[str, int, str, int]] = field(default_factory=set)


def _terms_of(rule_ack: timedelta, ladder: Any, repeat: timedelta | None) -> dict[str, Any]:
    return {
        "ack_seconds": int(rule_ack.total_seconds()),
        "ladder": [
            {"after_seconds": int(r.after.total_seconds()), "notify": list(r.notify)}
            for r in ladder
        ],
        "repeat_seconds": int(repeat.total_seconds()) if repeat else 0,
    }


class NotificationReplay:
    """Fed every entry in log order (``observe``), then asked for the first fault."""

    def __init__(self, *, grace: timedelta = GRACE) -> None:
        self.grace = grace
        self.complete = True
        self.last_logged_at: datetime | None = None
        self._rules: DeconflictionRules | None = None
        self._hotline: HotlineRules | None = None
        self._geometry = GeometryFollower()
        self._places = [source.follower() for source in SOURCES]
        self._notifications: dict[str, _Notification] = {}
        self._problems: list[tuple[int, str]] = []
        self._handlers: dict[str, Callable[[int, datetime, dict[str, Any]], None]] = {
            LedgerEntry.POLICY_ADOPTED.value: self._policy,
            NotificationEntry.SUBMITTED.value: self._submitted,
            NotificationEntry.AMENDED.value: self._amended,
            NotificationEntry.CHECKED.value: self._checked,
            NotificationEntry.ACKNOWLEDGED.value: self._acknowledged,
            NotificationEntry.WITHDRAWN.value: self._withdrawn,
            NotificationEntry.NOTED.value: self._noted,
            NotificationEntry.JUSTIFIED.value: self._justified,
            NotificationEntry.ESCALATED.value: self._escalated,
        }
        # Followers of the geometry and of every source of protected places.
        self._followers: dict[str, list[Handler]] = {}
        for follower in (self._geometry, *self._places):
            for kind, handler in follower.handlers.items():
                self._followers.setdefault(kind, []).append(handler)

    def observe(self, index: int, entry_type: str, logged_at: datetime, body: str | None) -> None:
        self.last_logged_at = logged_at
        handler = self._handlers.get(entry_type)
        followers = self._followers.get(entry_type, [])
        if handler is None and not followers:
            return
        if body is None:
            self.complete = False
            return
        try:
            value = json.loads(body)
            if not isinstance(value, dict):
                raise TypeError("not an object")
            for follow in followers:
                follow(index, logged_at, value)
            if handler is not None:
                handler(index, logged_at, value)
        except (KeyError, TypeError, ValueError, AttributeError, RulesError) as exc:
            if entry_type.startswith("deconfliction.notification."):
                self._problems.append((index, f"the {entry_type} body cannot be replayed: {exc!r}"))

    def first_problem(self) -> tuple[int, str] | None:
        if not self.complete:
            return None
        self._missing_steps()
        return min(self._problems) if self._problems else None

    # -- the rules and the geometry -------------------------------------------------------

    def _policy(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        policy = body["policy"]
        section = policy.get("deconfliction")
        self._rules = parse_rules(section) if section is not None else None
        try:
            hotline = policy.get("hotline")
            self._hotline = parse_hotline_rules(hotline) if hotline is not None else None
        except HotlineRulesError:
            self._hotline = None

    def _need_rules(self, index: int) -> DeconflictionRules | None:
        if self._rules is None or self._hotline is None:
            self._problems.append(
                (index, "no deconfliction or hotline rules were adopted before it")
            )
            return None
        return self._rules

    def _near_line(self, geometry: Mapping[str, Any], rules: DeconflictionRules) -> bool:
        separation = [z.geometry for z in self._geometry.zones() if z.kind == "separation"]
        return engine.near_line(geometry, separation, rules)

    def _expected_terms(
        self, kind: str, flash: bool, rules: DeconflictionRules, at: datetime
    ) -> dict[str, Any]:
        assert self._hotline is not None
        precedence = rules.precedence_of(kind, flash=flash)
        rule = self._hotline.rule(precedence)
        return {
            "precedence": precedence,
            "deadline": log_time(at + rule.ack),
            **_terms_of(rule.ack, rule.ladder, rule.repeat),
        }

    def _compare(self, index: int, what: str, recorded: object, recomputed: object) -> bool:
        if recorded != recomputed:
            self._problems.append(
                (
                    index,
                    f"the {what} recorded ({recorded!r}) differs from the one recomputed "
                    f"from the log ({recomputed!r})",
                )
            )
            return False
        return True

    # -- notifications --------------------------------------------------------------------

    def _subject(self, id_: str, kind: str, body: Mapping[str, Any]) -> engine.Subject:
        return engine.Subject(
            id=id_,
            kind=kind,
            geometry=body["geometry"],
            buffer_m=float(body["buffer_m"]),
            starts_at=parse_log_time(body["starts_at"]),
            ends_at=parse_log_time(body["ends_at"]),
        )

    def _submitted(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        rules = self._need_rules(index)
        id_ = str(body["notification"])
        kind, flash = str(body["kind"]), bool(body["flash"])
        subject = self._subject(id_, kind, body)
        if rules is not None:
            near = self._near_line(body["geometry"], rules)
            self._compare(index, "reach of a line", body["near_line"], near)
            verdict = lead_time.judge(
                kind=kind,
                flash=flash,
                near_line=near,
                starts_at=subject.starts_at,
                notified_at=at,
                rules=rules,
            )
            self._compare(
                index,
                "lead time",
                (body["required_lead_s"], body["lead_time"]),
                (verdict.required_seconds, verdict.lead_time),
            )
            expected = self._expected_terms(kind, flash, rules, at)
            if flash:
                rule = rules.justification_rule()
                expected["justification"] = _terms_of(rule.ack, rule.ladder, None)
                self._compare(
                    index,
                    "justification deadline",
                    body["justification_due"],
                    log_time(at + rules.flash_justification),
                )
            self._compare(index, "acknowledgement terms", body["acknowledgement"], expected)
        terms = body["acknowledgement"]
        self._notifications[id_] = _Notification(
            index=index,
            id=id_,
            kind=kind,
            flash=flash,
            organisation=str(body["organisation"]),
            recipients=[str(r) for r in body["recipients"]],
            submitted_at=at,
            subject=subject,
            verdict=lead_time.Verdict(
                timedelta(seconds=int(body["required_lead_s"])), str(body["lead_time"])
            ),
            terms=terms,
            justification_terms=terms.get("justification"),
            justified_at=at if body.get("justification") else None,
            versions=[(0, at)],
        )

    def _get(self, index: int, body: Mapping[str, Any]) -> _Notification | None:
        found = self._notifications.get(str(body["notification"]))
        if found is None:
            self._problems.append(
                (index, f"notification {body['notification']} was never submitted")
            )
        return found

    def _amended(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        n = self._get(index, body)
        if n is None:
            return
        rules = self._need_rules(index)
        subject = self._subject(n.id, n.kind, body)
        self._compare(index, "version", body["version"], n.version + 1)
        if rules is not None:
            near = self._near_line(body["geometry"], rules)
            self._compare(index, "reach of a line", body["near_line"], near)
            verdict = lead_time.judge_amendment(
                previous=n.verdict,
                previous_starts_at=n.subject.starts_at,
                kind=n.kind,
                flash=n.flash,
                near_line=near,
                starts_at=subject.starts_at,
                amended_at=at,
                rules=rules,
            )
            self._compare(
                index,
                "lead time",
                (body["required_lead_s"], body["lead_time"]),
                (verdict.required_seconds, verdict.lead_time),
            )
            expected = self._expected_terms(n.kind, n.flash, rules, at)
            if n.justification_terms is not None:
                expected["justification"] = n.justification_terms
            self._compare(index, "acknowledgement terms", body["acknowledgement"], expected)
        n.version = int(body["version"])
        n.versions.append((n.version, at))
        n.subject = subject
        n.verdict = lead_time.Verdict(
            timedelta(seconds=int(body["required_lead_s"])), str(body["lead_time"])
        )
        n.terms = body["acknowledgement"]
        n.noted = {}

    def _withdrawn(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        n = self._get(index, body)
        if n is None:
            return
        expected = "withdrawn" if at < n.subject.starts_at else "cancelled"
        self._compare(index, "closing", body["closed"], expected)
        n.closed_at = at

    def _noted(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        n = self._get(index, body)
        if n is None:
            return
        for c in body["conflicts"]:
            n.noted[(str(c["with"]), str(c["id"]))] = index

    def _justified(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        n = self._get(index, body)
        if n is not None and n.justified_at is None:
            n.justified_at = at

    def _acknowledged(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        n = self._get(index, body)
        if n is None:
            return
        organisation, version = str(body["organisation"]), int(body["version"])
        if organisation not in n.recipients:
            self._problems.append(
                (index, f"{organisation} acknowledged a notification it did not receive")
            )
        elif version != n.version:
            self._problems.append(
                (index, f"an acknowledgement of version {version}, not the current {n.version}")
            )
        n.acks.setdefault((organisation, version), at)

    def _checked(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        n = self._get(index, body)
        rules = self._need_rules(index)
        if n is None or rules is None:
            return
        standing = [m.subject for m in self._notifications.values() if m.closed_at is None]
        if n.closed_at is not None:
            standing.append(n.subject)
        places = [p for follower in self._places for p in follower.places(rules)]
        found = engine.ConflictIndex(standing, places, self._geometry.zones(), rules).check_ids(
            [n.id]
        )[n.id]
        recorded = [{k: v for k, v in c.items() if k != "noted"} for c in body["conflicts"]]
        if self._compare(index, "conflicts", recorded, [c.as_dict() for c in found]):
            # What the sender noted stays noted while the check keeps finding it (an
            # amendment forgets it: ``_amended``).
            noted = {c.key: n.noted.get(c.key) for c in found}
            self._compare(
                index,
                "noted conflicts",
                [c.get("noted") for c in body["conflicts"]],
                [noted.get(c.key) for c in found],
            )
            status = engine.status_of(found, [k for k, v in noted.items() if v is not None])
            self._compare(index, "conflict verdict", body["status"], status)
        n.noted = {
            (str(c["with"]), str(c["id"])): int(c["noted"])
            for c in body["conflicts"]
            if c.get("noted") is not None
        }

    # -- escalations ----------------------------------------------------------------------

    def _duty_steps(
        self, n: _Notification, duty: str, version: int, organisation: str, now: datetime
    ) -> list[Any]:
        if duty == Duty.JUSTIFICATION:
            if not n.flash or n.justification_terms is None:
                return []
            return duty_steps(
                since=n.submitted_at,
                rule=ladder_rule(dict(n.justification_terms), name="JUSTIFICATION"),
                done_at=n.justified_at,
                lapses_at=None,
                now=now,
            )
        times = dict(n.versions)
        if version not in times:
            return []
        following = [t for v, t in n.versions if v == version + 1]
        lapses = min(
            t
            for t in (following[0] if following else None, n.closed_at, n.subject.ends_at)
            if t is not None
        )
        return duty_steps(
            since=times[version],
            rule=ladder_rule(dict(n.terms), name="ACK"),
            done_at=n.acks.get((organisation, version)),
            lapses_at=lapses,
            now=now,
        )

    def _escalated(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        n = self._get(index, body)
        if n is None:
            return
        duty, version, organisation = (
            str(body["duty"]),
            int(body["version"]),
            str(body["organisation"]),
        )
        step = int(body["step"])
        key = (duty, version, organisation, step)
        owes = (
            organisation == n.organisation
            if duty == Duty.JUSTIFICATION
            else organisation in n.recipients
        )
        due = (
            {s.step: s for s in self._duty_steps(n, duty, version, organisation, at)}
            if owes
            else {}
        )
        if key in n.logged:
            self._problems.append((index, f"step {step} of this {duty} duty was already logged"))
        elif step not in due:
            self._problems.append(
                (index, f"step {step} of the {duty} duty was not due when it was logged")
            )
        else:
            expected = due[step]
            self._compare(
                index,
                "escalation",
                (body["due_at"], list(body["notify"])),
                (log_time(expected.due_at), list(expected.notify)),
            )
        n.logged.add(key)

    def _missing_steps(self) -> None:
        end = self.last_logged_at
        if end is None:
            return
        for n in self._notifications.values():
            duties: list[tuple[str, int, str]] = [
                (Duty.ACK.value, version, organisation)
                for version, since in n.versions
                if since > end - HORIZON
                for organisation in n.recipients
            ]
            if n.flash and n.submitted_at > end - HORIZON:
                duties.append((Duty.JUSTIFICATION.value, 0, n.organisation))
            for duty, version, organisation in duties:
                for step in self._duty_steps(n, duty, version, organisation, end - self.grace):
                    if (duty, version, organisation, step.step) not in n.logged:
                        self._problems.append(
                            (
                                n.index,
                                f"step {step.step} of {organisation}'s {duty} duty (version "
                                f"{version}) fell due at {log_time(step.due_at)} and was never logged",
                            )
                        )
