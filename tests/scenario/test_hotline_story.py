"""The demo's hotline story: every kind of hotline event happens for both parties, the log it
writes verifies, replayed escalations included, and loading it again changes nothing (each
step is an action with a stable id)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.helpers.tables import table_counts
from tests.helpers.verifying import verify_replays, verify_state

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.hotline.models import Ack, Delivery, Escalation, Message
from fusioncell.hotline.queries import list_open_obligations
from fusioncell.ledger.context import LedgerContext
from fusioncell.scenario.demo import stable_id
from fusioncell.scenario.hotline_story import LEAD, SIDES, load_hotline_story


def test_each_party_lives_the_same_hotline_story(
    app: FastAPI,
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
    member: Callable[[str], Viewer],
) -> None:
    start = clock.now()
    load_hotline_story(db, start=start)

    for side in SIDES:
        party, other = side.party.lower(), side.other.lower()
        sent = {
            m.id: m
            for m in db.scalars(
                select(Message).where(
                    Message.sender_organisation_id == stable_id("organisation", side.party)
                )
            )
        }

        def message(name: str, key: str = party, sent: dict[uuid.UUID, Message] = sent) -> Message:
            return sent[stable_id("hotline-story", f"{key}/{name}")]

        def acks(found: Message) -> list[Ack]:
            return list(db.scalars(select(Ack).where(Ack.message_id == found.id)))

        def steps(found: Message) -> list[int]:
            return sorted(
                db.scalars(select(Escalation.step).where(Escalation.message_id == found.id))
            )

        # A FLASH received and acknowledged in time, without an escalation.
        flash = message("flash")
        assert [a.organisation_id for a in acks(flash)] == [stable_id("organisation", side.other)]
        assert acks(flash)[0].acked_at <= flash.ack_deadline
        assert steps(flash) == []
        # An incident alert with its place, acknowledged late, after its first rung.
        incident = message("incident")
        assert incident.form == "incident_alert"
        assert incident.fields is not None
        assert incident.fields["location"]["type"] == "Point"
        assert acks(incident)[0].acked_at > incident.ack_deadline
        assert steps(incident) == [1]
        # The supervisor's question in the party's own channel, acknowledged by the party.
        question = db.get(Message, stable_id("hotline-story", f"{party}/question"))
        assert question is not None and question.form == "clarification_request"
        assert question.sender_organisation_id == stable_id("organisation", "SUPERVISOR")
        assert [a.organisation_id for a in acks(question)] == [
            stable_id("organisation", side.party)
        ]
        # A FLASH delivered and never acknowledged: escalated, and first in what the other
        # party's duty officer owes.
        unanswered = message("unanswered")
        assert acks(unanswered) == []
        assert db.get(Delivery, (unanswered.id, stable_id("organisation", side.other)))
        assert len(steps(unanswered)) >= 2
        owed = list_open_obligations(db, member(f"{other}.duty"))
        assert owed[0].message.id == unanswered.id
        assert owed[0].steps == len(steps(unanswered))
        assert unanswered.sent_at < start + LEAD

    assert verify_state(engine, ledger).ok
    report = verify_replays(app, engine, ledger)
    assert report.ok, report.summary()

    before = table_counts(db)
    load_hotline_story(db, start=start)
    assert table_counts(db) == before
