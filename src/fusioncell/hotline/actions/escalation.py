"""The escalation engine's writes: every step that has fallen due and is not yet logged."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import CONSOLE_ID, console_viewer
from fusioncell.db.transaction import atomic
from fusioncell.hotline.escalation import due_steps
from fusioncell.hotline.events import emit
from fusioncell.hotline.models import Ack, ChannelMember, Delivery, Escalation, EventKind, Message
from fusioncell.hotline.policy import HotlinePolicy, PolicyError, parse_policy
from fusioncell.ledger import queries as ledger_queries
from fusioncell.ledger.context import ledger_context
from fusioncell.ledger.entries import EntryType, audience, log_time
from fusioncell.ledger.record import ByLog, record

# Messages older than this no longer escalate (the ladder's repeats are bounded anyway).
HORIZON = timedelta(days=2)


def _bound_policies(db: Session, current: HotlinePolicy) -> dict[str, HotlinePolicy]:
    """Every hotline policy the log has adopted, by hash: a message escalates by the policy
    bound into it, even after a newer one is in force (``fusioncell verify`` replays it so)."""
    policies = {current.hash: current}
    reader = console_viewer(CONSOLE_ID)  # adopted policies are public: any reader may see them
    adopted = ledger_queries.list_entries(
        db, reader, entry_type=EntryType.POLICY_ADOPTED.value, limit=500
    )
    for entry in adopted:
        body = ledger_queries.get_body(db, reader, entry.index)
        if body is None:
            continue
        try:
            policy = parse_policy(json.loads(body.body)["policy"]["hotline"])
        except (PolicyError, KeyError, TypeError, ValueError):
            continue  # a policy from before the hotline had one
        policies.setdefault(policy.hash, policy)
    return policies


def do_escalate_due(db: Session, *, now: datetime) -> list[Escalation]:
    """Write the escalations due by ``now``. Run every second, and at start-up, so steps that
    fell due while the server was down are written on restart."""
    current = ledger_context(db).hotline
    written: list[Escalation] = []
    with atomic(db):
        messages = db.scalars(
            select(Message).where(Message.sent_at >= now - HORIZON, Message.sent_at <= now)
        ).all()
        policies = (
            _bound_policies(db, current)
            if any(m.hotline_policy != current.hash for m in messages)
            else {current.hash: current}
        )
        for message in messages:
            policy = policies.get(message.hotline_policy, current)
            if message.precedence not in policy.precedences:
                continue
            rule = policy.rule(message.precedence)
            recipients = db.scalars(
                select(ChannelMember).where(
                    ChannelMember.channel_id == message.channel_id,
                    ChannelMember.acknowledges.is_(True),
                    ChannelMember.organisation_id != message.sender_organisation_id,
                )
            ).all()
            for recipient in recipients:
                organisation = recipient.organisation_id
                delivery = db.get(Delivery, (message.id, organisation))
                acked_at = db.scalar(
                    select(Ack.acked_at).where(
                        Ack.message_id == message.id,
                        Ack.organisation_id == organisation,
                        Ack.counts.is_(True),
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
                for step in steps:
                    if step.step in done:
                        continue
                    appended = record(
                        db,
                        ByLog(),
                        EntryType.ESCALATION,
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
                        now=now,
                    )
                    escalation = Escalation(
                        message_id=message.id,
                        organisation_id=organisation,
                        step=step.step,
                        due_at=step.due_at,
                        notify=list(step.notify),
                        written_at=now,
                        log_index=appended.index,
                    )
                    db.add(escalation)
                    emit(
                        db,
                        channel_id=message.channel_id,
                        kind=EventKind.ESCALATION,
                        message_id=message.id,
                        payload={
                            "message": str(message.id),
                            "organisation": str(organisation),
                            "step": step.step,
                            "due_at": log_time(step.due_at),
                            "notify": list(step.notify),
                        },
                        now=now,
                    )
                    written.append(escalation)
    return written
