"""Who owes a message an acknowledgement: one rule, stated once for log bodies
(``hotline.recipients``) and once in SQL (``hotline.queries.owed_acknowledgements``), and the
two give the same answers."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.hotline.factories import acknowledge, send

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.hotline.actions.channels import bilateral_channel_id
from fusioncell.hotline.models import Ack, ChannelMember, Message
from fusioncell.hotline.queries import (
    list_messages,
    message_state,
    owed_acknowledgements,
    recipients_for_engine,
    unacknowledged_messages,
)
from fusioncell.hotline.recipients import owed_acknowledgements as owed_by_rule
from fusioncell.scenario.demo import stable_id

ALPHA = stable_id("organisation", "ALPHA")
BRAVO = stable_id("organisation", "BRAVO")
SUPERVISOR = stable_id("organisation", "SUPERVISOR")


def test_members_that_acknowledge_owe_except_the_sender_and_those_that_acknowledged() -> None:
    members = [("alpha", True), ("bravo", True), ("charlie", True), ("supervisor", False)]

    assert owed_by_rule(members, "alpha") == {"bravo", "charlie"}
    assert owed_by_rule(members, "alpha", ["charlie", "charlie"]) == {"bravo"}
    assert owed_by_rule(members, "supervisor", ["bravo"]) == {"alpha", "charlie"}


def test_with_no_sender_organisation_every_member_that_acknowledges_owes() -> None:
    assert owed_by_rule([("alpha", True), ("bravo", True), ("hum", False)], None) == {
        "alpha",
        "bravo",
    }


def test_the_sql_query_owes_exactly_what_the_rule_says_for_every_message(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    chair, alpha, bravo = member("supervisor.chair"), member("alpha.liaison"), member("bravo.duty")
    from_chair = send(db, chair, now=clock.now(), precedence="ROUTINE")
    from_alpha = send(db, alpha, now=clock.now(), precedence="ROUTINE")
    to_bravo = send(
        db, chair, now=clock.now(), channel_id=bilateral_channel_id(BRAVO), precedence="ROUTINE"
    )
    both_acked = send(db, chair, now=clock.now(), precedence="ROUTINE")
    acknowledge(db, bravo, from_chair.id, now=clock.now())
    acknowledge(db, alpha, both_acked.id, now=clock.now())
    # A second acknowledgement by ALPHA counts for nothing more.
    acknowledge(db, member("alpha.duty"), both_acked.id, now=clock.now())
    acknowledge(db, bravo, both_acked.id, now=clock.now())

    owed: dict[uuid.UUID, set[uuid.UUID]] = {}
    for message_id, organisation_id in db.execute(owed_acknowledgements()):
        owed.setdefault(message_id, set()).add(organisation_id)
    ruled = {}
    for message in db.scalars(select(Message)):
        members = db.scalars(
            select(ChannelMember).where(ChannelMember.channel_id == message.channel_id)
        )
        acks = db.scalars(select(Ack).where(Ack.message_id == message.id))
        ruled[message.id] = owed_by_rule(
            [(m.organisation_id, m.acknowledges) for m in members],
            message.sender_organisation_id,
            [a.organisation_id for a in acks],
        )
    assert {m: o for m, o in ruled.items() if o} == owed
    assert owed[from_chair.id] == {ALPHA}
    assert owed[from_alpha.id] == {BRAVO}
    assert owed[to_bravo.id] == {BRAVO}
    assert both_acked.id not in owed
    sent = recipients_for_engine(db, select(Message.id))
    assert set(sent[both_acked.id]) == {ALPHA, BRAVO}
    assert sent[to_bravo.id] == [BRAVO]
    assert recipients_for_engine(db, select(Message.id).where(Message.id == to_bravo.id)) == {
        to_bravo.id: [BRAVO]
    }


def test_every_read_of_what_is_owed_agrees_with_the_rule(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    chair, alpha, bravo = member("supervisor.chair"), member("alpha.liaison"), member("bravo.duty")
    acked_by_bravo = send(db, chair, now=clock.now(), precedence="ROUTINE")
    from_alpha = send(db, alpha, now=clock.now(), precedence="ROUTINE")
    acknowledge(db, bravo, acked_by_bravo.id, now=clock.now())

    assert message_state(db, bravo, acked_by_bravo).owing == {ALPHA}
    assert {r.organisation_id for r in message_state(db, bravo, acked_by_bravo).recipients} == {
        ALPHA,
        BRAVO,
    }
    assert message_state(db, alpha, from_alpha).owing == {BRAVO}
    assert [m.id for m in list_messages(db, alpha, unacknowledged=True)] == [acked_by_bravo.id]
    assert [m.id for m in list_messages(db, bravo, unacknowledged=True)] == [from_alpha.id]
    assert {m.id for m in unacknowledged_messages(db, chair)} == {
        acked_by_bravo.id,
        from_alpha.id,
    }
    acknowledge(db, alpha, acked_by_bravo.id, now=clock.now())
    assert message_state(db, chair, acked_by_bravo).owing == frozenset()
    assert list_messages(db, alpha, unacknowledged=True) == []
    assert [m.id for m in unacknowledged_messages(db, chair)] == [from_alpha.id]
