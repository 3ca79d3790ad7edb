"""Escalation replayed from the log: ``fusioncell verify`` recomputes the ladder and compares.

The hotline's verification replay (``fusioncell.ledger.verify.replay.Replay``), listed in
``fusioncell.bootstrap``.

Escalation is a pure function of the log's contents and the log's clock, so the bodies alone
(a database copy has every one) say what the engine had to write. Every time is a log time,
the ``logged_at`` each leaf commits to, and the engine times deadlines from exactly these
(its rows hold its entries' log times), so the two cannot disagree about an instant. For
each message:

    sent at        the log time of its ``hotline.message.sent`` entry
    rule           its precedence in the hotline policy adopted last before it
    recipients     who owes it an acknowledgement as sent (``hotline.recipients``): the
                   channel's members that acknowledge (``hotline.channel.opened``), less the
                   sender's organisation (``cell.member.created``, ``cell.organisation.created``)
    delivered at   the log time of the first ``hotline.message.delivered`` per recipient
                   organisation
    acked at       the log time of the first ``hotline.message.acknowledged`` per recipient
                   organisation

``hotline.escalation.due_steps`` then lists the steps due, and the log's ``hotline.escalation``
entries must be exactly those. An escalation entry is judged at its own log time and by the
log before it, as the engine decided it (it decides holding the log's lock, seeing every
entry logged before its own): a delivery or acknowledgement logged after it in the same
millisecond does not make it wrong. Three faults are named by entry index:

- **missing**: a step fell due more than ``GRACE`` before the log's last entry and no entry
  records it (named at the message's entry);
- **extra**: an entry for a step that was not due when it was logged, that states another due
  time or other people to notify, or that repeats a step already logged;
- **early**: an entry logged before the due time it states.

``GRACE`` covers the engine's one-second tick; ``HORIZON`` is the engine's own: a message older
than that no longer escalates. A source that withholds any of these bodies (a public server)
gets no verdict on escalation rather than a wrong one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fusioncell.cell.entries import CellEntry
from fusioncell.hotline.actions.escalation import HORIZON
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.escalation import Step, due_steps
from fusioncell.hotline.recipients import owed_acknowledgements
from fusioncell.hotline.rules import HotlineRules, PrecedenceRule, RulesError, parse_rules
from fusioncell.ledger.entries import LedgerEntry, log_time, parse_log_time

GRACE = timedelta(seconds=5)


@dataclass
class _Message:
    index: int
    id: str
    precedence: str
    sent_at: datetime
    rule: PrecedenceRule | None
    recipients: frozenset[str]
    delivered: dict[str, datetime] = field(default_factory=dict)
    acked: dict[str, datetime] = field(default_factory=dict)

    def steps(
        self, now: datetime, *, delivered_at: datetime | None, acked_at: datetime | None
    ) -> list[Step]:
        assert self.rule is not None
        return due_steps(
            sent_at=self.sent_at,
            rule=self.rule,
            delivered_at=delivered_at,
            acked_at=acked_at,
            now=now,
        )


@dataclass(frozen=True)
class _Logged:
    index: int
    logged_at: datetime
    message: str
    organisation: str
    step: int
    due_at: datetime
    notify: tuple[str, ...]
    # What the log said before this entry: the message (if sent yet), and the recipient's
    # first delivery and acknowledgement then.
    sent: _Message | None
    delivered_at: datetime | None
    acked_at: datetime | None


class EscalationReplay:
    """Fed every entry in log order (``observe``), then asked for the first fault."""

    def __init__(self, *, grace: timedelta = GRACE, horizon: timedelta = HORIZON) -> None:
        self.grace = grace
        self.horizon = horizon
        self.complete = True
        self.last_logged_at: datetime | None = None
        self._policy: HotlineRules | None = None
        self._policy_problem = "no policy was adopted before it"
        self._organisations: dict[str, str] = {}  # slug -> id
        self._members: dict[str, str] = {}  # username -> organisation slug
        # channel -> its members' (organisation, acknowledges)
        self._channels: dict[str, tuple[tuple[str, bool], ...]] = {}
        self._messages: dict[str, _Message] = {}
        self._logged: list[_Logged] = []
        self._problems: list[tuple[int, str]] = []
        self._handlers: dict[str, Callable[[int, datetime, dict[str, Any]], None]] = {
            LedgerEntry.POLICY_ADOPTED.value: self._policy_adopted,
            CellEntry.ORGANISATION_CREATED.value: self._organisation_created,
            CellEntry.MEMBER_CREATED.value: self._member_created,
            HotlineEntry.CHANNEL_OPENED.value: self._channel_opened,
            HotlineEntry.MESSAGE_SENT.value: self._message_sent,
            HotlineEntry.MESSAGE_DELIVERED.value: self._message_delivered,
            HotlineEntry.MESSAGE_ACKNOWLEDGED.value: self._message_acknowledged,
            HotlineEntry.ESCALATION.value: self._escalation,
        }

    def observe(self, index: int, entry_type: str, logged_at: datetime, body: str | None) -> None:
        self.last_logged_at = logged_at
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
            handler(index, logged_at, value)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # Only the hotline's own entries must be readable; a cell entry the replay cannot
            # read just leaves a gap that a message depending on it reports.
            if entry_type.startswith("hotline."):
                reason = f"the {entry_type} body cannot be replayed for escalation: {exc!r}"
                self._problems.append((index, reason))

    def first_problem(self) -> tuple[int, str] | None:
        """The fault at the lowest entry index, or None if the escalations are as due."""
        if not self.complete or self.last_logged_at is None:
            return None
        problems = list(self._problems)
        logged: dict[tuple[str, str, int], _Logged] = {}
        for entry in self._logged:
            key = (entry.message, entry.organisation, entry.step)
            if (earlier := logged.get(key)) is not None:
                problems.append(
                    (
                        entry.index,
                        f"escalation step {entry.step} is already logged at entry {earlier.index}",
                    )
                )
                continue
            logged[key] = entry
            if (reason := self._judge(entry)) is not None:
                problems.append((entry.index, reason))
        now = self.last_logged_at - self.grace
        for message in self._messages.values():
            if message.rule is None:
                continue
            until = min(now, message.sent_at + self.horizon)
            for organisation in sorted(message.recipients):
                for step in message.steps(
                    until,
                    delivered_at=message.delivered.get(organisation),
                    acked_at=message.acked.get(organisation),
                ):
                    if (message.id, organisation, step.step) not in logged:
                        problems.append(
                            (
                                message.index,
                                f"escalation step {step.step} of this {message.precedence} message "
                                f"to organisation {organisation} fell due at "
                                f"{log_time(step.due_at)}, and no entry records it",
                            )
                        )
        return min(problems, default=None, key=lambda problem: problem[0])

    def _judge(self, entry: _Logged) -> str | None:
        message = entry.sent
        if message is None:
            return f"an escalation of message {entry.message}, which no earlier entry sent"
        if entry.organisation not in message.recipients:
            return (
                f"an escalation to organisation {entry.organisation}, which does not owe "
                f"the message at entry {message.index} an acknowledgement"
            )
        if entry.logged_at < entry.due_at:
            return (
                f"escalation step {entry.step} is logged at {log_time(entry.logged_at)}, "
                f"before its due time {log_time(entry.due_at)}"
            )
        if message.rule is None:
            return None  # reported at the message
        if entry.logged_at - self.horizon > message.sent_at:
            return (
                f"escalation step {entry.step} of the message at entry {message.index}, "
                f"which was past the escalation horizon when this was logged"
            )
        due = {
            step.step: step
            for step in message.steps(
                entry.logged_at, delivered_at=entry.delivered_at, acked_at=entry.acked_at
            )
        }
        expected = due.get(entry.step)
        if expected is None:
            return (
                f"escalation step {entry.step} of the message at entry {message.index} was not "
                f"due when logged at {log_time(entry.logged_at)}"
            )
        if (expected.due_at, expected.notify) != (entry.due_at, entry.notify):
            return (
                f"escalation step {entry.step} states due {log_time(entry.due_at)} notifying "
                f"{list(entry.notify)}; the policy says {log_time(expected.due_at)} notifying "
                f"{list(expected.notify)}"
            )
        return None

    # -- what each entry tells ------------------------------------------------------------

    def _policy_adopted(self, index: int, _at: datetime, body: dict[str, Any]) -> None:
        self._policy = None
        document = body.get("policy")
        hotline = document.get("hotline") if isinstance(document, dict) else None
        if hotline is None:
            self._policy_problem = f"the policy adopted at entry {index} has no hotline part"
            return
        try:
            self._policy = parse_rules(hotline)
        except RulesError as exc:
            self._policy_problem = f"the hotline policy adopted at entry {index} is unusable: {exc}"

    def _organisation_created(self, _index: int, _at: datetime, body: dict[str, Any]) -> None:
        self._organisations[str(body["slug"])] = str(body["organisation"])

    def _member_created(self, _index: int, _at: datetime, body: dict[str, Any]) -> None:
        self._members[str(body["username"])] = str(body["organisation"])

    def _channel_opened(self, index: int, _at: datetime, body: dict[str, Any]) -> None:
        members = []
        for member in body["members"]:
            acknowledges, slug = bool(member["acknowledges"]), str(member["organisation"])
            if slug in self._organisations:
                members.append((self._organisations[slug], acknowledges))
            elif acknowledges:  # one that owes nothing may stay unnamed
                self._problems.append((index, f"a channel member {slug!r} that no entry created"))
        self._channels[str(body["channel"])] = tuple(members)

    def _message_sent(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        message_id, channel = str(body["message"]), str(body["channel"])
        if message_id in self._messages:
            return  # the server never sends one id twice; the first is the one that counts
        sender_organisation = None
        if (sender := body["sender"]) is not None:
            slug = self._members.get(str(sender))
            sender_organisation = self._organisations.get(slug) if slug else None
            if sender_organisation is None:
                self._problems.append((index, f"a message from {sender!r}, whom no entry created"))
        if channel not in self._channels:
            self._problems.append((index, f"a message in channel {channel}, which no entry opened"))
        rule = None
        if self._policy is None:
            self._problems.append(
                (index, f"a message with no hotline policy in force: {self._policy_problem}")
            )
        elif body["hotline_policy"] != self._policy.hash:
            self._problems.append(
                (
                    index,
                    f"the message binds hotline policy {body['hotline_policy']}, but the one "
                    f"in force was {self._policy.hash}",
                )
            )
        elif (rule := self._policy.precedences.get(str(body["precedence"]))) is None:
            self._problems.append(
                (index, f"precedence {body['precedence']!r} is not in the policy")
            )
        self._messages[message_id] = _Message(
            index=index,
            id=message_id,
            precedence=str(body["precedence"]),
            sent_at=at,
            rule=rule,
            recipients=owed_acknowledgements(self._channels.get(channel, ()), sender_organisation),
        )

    def _message_delivered(self, _index: int, at: datetime, body: dict[str, Any]) -> None:
        if (message := self._messages.get(str(body["message"]))) is not None:
            message.delivered.setdefault(str(body["organisation"]), at)

    def _message_acknowledged(self, _index: int, at: datetime, body: dict[str, Any]) -> None:
        if (message := self._messages.get(str(body["message"]))) is not None:
            message.acked.setdefault(str(body["organisation"]), at)

    def _escalation(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        step = body["step"]
        if not isinstance(step, int) or isinstance(step, bool):
            raise TypeError(f"step {step!r} is not a whole number")
        message_id, organisation = str(body["message"]), str(body["organisation"])
        message = self._messages.get(message_id)
        self._logged.append(
            _Logged(
                index=index,
                logged_at=at,
                message=message_id,
                organisation=organisation,
                step=step,
                due_at=parse_log_time(str(body["due_at"])),
                notify=tuple(str(who) for who in body["notify"]),
                sent=message,
                delivered_at=message.delivered.get(organisation) if message else None,
                acked_at=message.acked.get(organisation) if message else None,
            )
        )
