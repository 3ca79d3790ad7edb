"""The escalation engine's writes: every step that has fallen due and is not yet logged."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import CONSOLE_ID, console_viewer
from fusioncell.db.transaction import atomic
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.escalation import Step, due_steps
from fusioncell.hotline.events import emit_hotline
from fusioncell.hotline.models import Ack, Delivery, Escalation, EventKind, Message
from fusioncell.hotline.queries import recipients_for_engine
from fusioncell.hotline.rules import (
    HOTLINE_RULES,
    HotlineRules,
    PrecedenceRule,
    RulesError,
    parse_rules,
)
from fusioncell.ledger import queries as ledger_queries
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.context import ledger_context
from fusioncell.ledger.entries import LedgerEntry, audience, log_time
from fusioncell.ledger.record import ByLog, record

# Messages older than this no longer escalate (the ladder's repeats are bounded anyway).
HORIZON = timedelta(days=2)


def _bound_policies(db: Session, current: HotlineRules) -> dict[str, HotlineRules]:
    """Every hotline policy the log has adopted, by hash: a message escalates by the policy
    bound into it, even after a newer one is in force (``fusioncell verify`` replays it so)."""
    policies = {current.hash: current}
    reader = console_viewer(CONSOLE_ID)  # adopted policies are public: any reader may see them
    adopted = ledger_queries.list_entries(
        db, reader, entry_type=LedgerEntry.POLICY_ADOPTED.value, limit=500
    )
    for entry in adopted:
        body = ledger_queries.get_body(db, reader, entry.index)
        if body is None:
            continue
        try:
            policy = parse_rules(json.loads(body.body)["policy"]["hotline"])
        except (RulesError, KeyError, TypeError, ValueError):
            continue  # a policy from before the hotline had one
        policies.setdefault(policy.hash, policy)
    return policies


def _unlogged_steps(
    db: Session, message: Message, rule: PrecedenceRule, organisation: uuid.UUID, *, now: datetime
) -> list[Step]:
    """The steps due by ``now`` and not yet logged. Every time here is a log time: the
    message's, its delivery's and its first acknowledgement's entries' (the rows hold exactly
    those), so this is the computation ``fusioncell verify`` repeats from the log."""
    delivery = db.get(Delivery, (message.id, organisation))
    # The party's earliest acknowledgement is its first in the log (the log's clock never
    # runs backwards); ``counts`` is not consulted, so two members acknowledging at once
    # cannot make the engine read the later one.
    acked_at = db.scalar(
        select(func.min(Ack.acked_at)).where(
            Ack.message_id == message.id, Ack.organisation_id == organisation
        )
    )
    steps = due_steps(
        sent_at=message.sent_at,
        rule=rule,
        delivered_at=delivery.delivered_at if delivery else None,
        acked_at=acked_at,
        now=now,
    )
    done = set(
        db.scalars(
            select(Escalation.step).where(
                Escalation.message_id == message.id,
                Escalation.organisation_id == organisation,
            )
        )
    )
    return [step for step in steps if step.step not in done]


@dataclass(frozen=True)
class _Known:
    """What the first pass needs of every message in the horizon, read in four statements
    whatever the traffic: the recipients, their deliveries, their first acknowledgements and
    the steps already logged (the pass runs every second, so one read per message would grow
    with the hotline's traffic)."""

    recipients: dict[uuid.UUID, list[uuid.UUID]]
    delivered: dict[tuple[uuid.UUID, uuid.UUID], datetime]
    acked: dict[tuple[uuid.UUID, uuid.UUID], datetime]
    logged: dict[tuple[uuid.UUID, uuid.UUID], set[int]]

    @classmethod
    def read(cls, db: Session, messages: Select[uuid.UUID]) -> _Known:
        delivered = {
            (row.message_id, row.organisation_id): row.delivered_at
            for row in db.execute(
                select(Delivery.message_id, Delivery.organisation_id, Delivery.delivered_at).where(
                    Delivery.message_id.in_(messages)
                )
            )
        }
        # The party's earliest acknowledgement, as in ``_unlogged_steps``.
        acked = {
            (row.message_id, row.organisation_id): row.acked_at
            for row in db.execute(
                select(
                    Ack.message_id, Ack.organisation_id, func.min(Ack.acked_at).label("acked_at")
                )
                .where(Ack.message_id.in_(messages))
                .group_by(Ack.message_id, Ack.organisation_id)
            )
        }
        logged: dict[tuple[uuid.UUID, uuid.UUID], set[int]] = defaultdict(set)
        for row in db.execute(
            select(Escalation.message_id, Escalation.organisation_id, Escalation.step).where(
                Escalation.message_id.in_(messages)
            )
        ):
            logged[(row.message_id, row.organisation_id)].add(row.step)
        return cls(recipients_for_engine(db, messages), delivered, acked, dict(logged))

    def unlogged_steps(
        self, message: Message, rule: PrecedenceRule, organisation: uuid.UUID, *, now: datetime
    ) -> list[Step]:
        key = (message.id, organisation)
        steps = due_steps(
            sent_at=message.sent_at,
            rule=rule,
            delivered_at=self.delivered.get(key),
            acked_at=self.acked.get(key),
            now=now,
        )
        done = self.logged.get(key, set())
        return [step for step in steps if step.step not in done]


def do_escalate_due(db: Session, *, now: datetime) -> list[Escalation]:
    """Write the escalations due by ``now``. Run every second, and at start-up, so steps that
    fell due while the server was down are written on restart.

    A first pass, without the log's lock, finds what may be due. Only then does the engine
    take the lock (``log_clock``) and decide again, at the log time its entries will bear and
    seeing every entry logged before them: an acknowledgement that was committing during the
    first pass counts, and each escalation is due at its own entry's log time, as ``fusioncell
    verify`` judges it.
    """
    current = ledger_context(db).rules(HOTLINE_RULES)
    written: list[Escalation] = []
    with atomic(db):
        horizon = select(Message.id).where(Message.sent_at >= now - HORIZON, Message.sent_at <= now)
        messages = db.scalars(select(Message).where(Message.id.in_(horizon))).all()
        policies = (
            _bound_policies(db, current)
            if any(m.hotline_policy != current.hash for m in messages)
            else {current.hash: current}
        )
        pending: list[tuple[Message, PrecedenceRule, uuid.UUID]] = []
        known = _Known.read(db, horizon)
        for message in messages:
            policy = policies.get(message.hotline_policy, current)
            if message.precedence not in policy.precedences:
                continue
            rule = policy.rule(message.precedence)
            for organisation in known.recipients.get(message.id, ()):
                if known.unlogged_steps(message, rule, organisation, now=now):
                    pending.append((message, rule, organisation))
        if not pending:
            return written
        logged_at = log_clock(db, now=now)
        for message, rule, organisation in pending:
            if message.sent_at < logged_at - HORIZON:
                continue
            for step in _unlogged_steps(db, message, rule, organisation, now=logged_at):
                written.append(_escalate(db, message, organisation, step, logged_at=logged_at))
    return written


def _escalate(
    db: Session, message: Message, organisation: uuid.UUID, step: Step, *, logged_at: datetime
) -> Escalation:
    appended = record(
        db,
        ByLog(),
        HotlineEntry.ESCALATION,
        {
            "message": str(message.id),
            "message_index": message.log_index,
            "organisation": str(organisation),
            "step": step.step,
            "due_at": log_time(step.due_at),
            "notify": list(step.notify),
        },
        audience=audience(
            organisations=[organisation, message.sender_organisation_id],
            roles=["supervisor"],
        ),
        now=logged_at,
    )
    assert appended.logged_at == logged_at  # the lock is held: the clock cannot have moved
    escalation = Escalation(
        message_id=message.id,
        organisation_id=organisation,
        step=step.step,
        due_at=step.due_at,
        notify=list(step.notify),
        written_at=appended.logged_at,
        log_index=appended.index,
    )
    db.add(escalation)
    emit_hotline(
        db,
        message,
        EventKind.ESCALATION,
        {
            "message": str(message.id),
            "organisation": str(organisation),
            "step": step.step,
            "due_at": log_time(step.due_at),
            "notify": list(step.notify),
        },
        log_index=appended.index,
        now=logged_at,
    )
    return escalation
