"""The hotline's reads take the viewer first and show nothing the policy does not release."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.errors import Forbidden
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID, bilateral_channel_id
from fusioncell.hotline.actions.messages import (
    do_acknowledge_message,
    do_mark_delivered,
    do_send_message,
)
from fusioncell.hotline.models import Message
from fusioncell.hotline.queries import (
    channel_members,
    list_channel_members,
    list_open_deadlines,
    message_state,
    message_states,
    names,
)
from fusioncell.scenario.demo import stable_id

ALPHA = stable_id("organisation", "ALPHA")
BRAVO = stable_id("organisation", "BRAVO")


def test_a_channel_the_viewer_is_not_in_has_no_members_for_them(
    db: Session, member: Callable[[str], Viewer]
) -> None:
    bravo_channel = bilateral_channel_id(BRAVO)

    assert channel_members(db, member("alpha.liaison"), bravo_channel) == []
    assert {
        m.organisation_id for m in channel_members(db, member("bravo.duty"), bravo_channel)
    } >= {BRAVO}


def test_the_state_of_a_message_the_viewer_may_not_see_is_empty(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    message = do_send_message(
        db,
        member("supervisor.chair"),
        message_id=uuid.uuid4(),
        channel_id=bilateral_channel_id(BRAVO),
        precedence="FLASH",
        text="For BRAVO only",
        now=clock.now(),
    )
    do_mark_delivered(db, member("bravo.duty"), message_ids=[message.id], now=clock.now())

    seen = message_state(db, member("bravo.duty"), message)
    hidden = message_state(db, member("alpha.liaison"), message)

    assert [d.organisation_id for d in seen.deliveries] == [BRAVO]
    assert [r.organisation_id for r in seen.recipients] == [BRAVO]
    assert (hidden.deliveries, hidden.acks, hidden.escalations, hidden.recipients) == (
        [],
        [],
        [],
        [],
    )


def test_the_states_of_a_page_of_messages_are_read_at_once_each_with_its_own_rows(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    def send(username: str, channel_id: uuid.UUID) -> Message:
        return do_send_message(
            db,
            member(username),
            message_id=uuid.uuid4(),
            channel_id=channel_id,
            precedence="FLASH",
            text=f"From {username}",
            now=clock.now(),
        )

    to_bravo = send("alpha.liaison", CELL_CHANNEL_ID)
    to_alpha = send("bravo.liaison", CELL_CHANNEL_ID)
    bravo_only = send("supervisor.chair", bilateral_channel_id(BRAVO))
    do_mark_delivered(db, member("bravo.duty"), message_ids=[to_bravo.id], now=clock.now())
    do_mark_delivered(db, member("alpha.duty"), message_ids=[to_alpha.id], now=clock.now())
    do_acknowledge_message(
        db,
        member("alpha.duty"),
        message_id=to_alpha.id,
        ack_id=uuid.uuid4(),
        checkpoint_size=None,
        now=clock.now(),
    )
    page = [to_bravo, to_alpha, bravo_only]

    states = message_states(db, member("bravo.duty"), page)
    hidden = message_states(db, member("alpha.liaison"), page)[bravo_only.id]

    assert [d.organisation_id for d in states[to_bravo.id].deliveries] == [BRAVO]
    assert (states[to_bravo.id].acks, states[to_bravo.id].owing) == ([], {BRAVO})
    assert [d.organisation_id for d in states[to_alpha.id].deliveries] == [ALPHA]
    assert [a.organisation_id for a in states[to_alpha.id].acks] == [ALPHA]
    assert states[to_alpha.id].owing == frozenset()
    assert [r.organisation_id for r in states[bravo_only.id].recipients] == [BRAVO]
    assert (hidden.deliveries, hidden.recipients, hidden.owing) == ([], [], frozenset())
    # The same as each message read alone.
    for message in page:
        assert states[message.id] == message_state(db, member("bravo.duty"), message)
    assert message_states(db, member("bravo.duty"), []) == {}


def test_the_members_of_every_channel_are_those_of_the_channels_the_viewer_is_in(
    db: Session, member: Callable[[str], Viewer]
) -> None:
    seen = {
        (m.channel_id, m.organisation_id) for m in list_channel_members(db, member("alpha.duty"))
    }

    assert {channel for channel, _ in seen} == {CELL_CHANNEL_ID, bilateral_channel_id(ALPHA)}
    assert {(CELL_CHANNEL_ID, BRAVO), (bilateral_channel_id(ALPHA), ALPHA)} <= seen
    # In no channel: no members of any.
    assert list_channel_members(db, member("hum1.coordinator")) == []


def test_names_are_those_of_the_organisations_the_viewer_shares_a_channel_with(
    db: Session, member: Callable[[str], Viewer]
) -> None:
    organisations, members = names(db, member("hum1.coordinator"))
    hum1 = stable_id("organisation", "HUM-1")

    # The humanitarian organisation is in no channel: it names itself and nobody else.
    assert set(organisations) == {hum1}
    assert set(members.values()) == {"hum1.coordinator"}
    party_orgs, party_members = names(db, member("bravo.duty"))
    assert {ALPHA, BRAVO} <= set(party_orgs)
    assert hum1 not in party_orgs
    assert "alpha.liaison" in party_members.values()


def test_only_the_supervisors_watch_may_list_the_open_deadlines(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    message = do_send_message(
        db,
        member("alpha.liaison"),
        message_id=uuid.uuid4(),
        channel_id=CELL_CHANNEL_ID,
        precedence="FLASH",
        text="Awaiting BRAVO's acknowledgement",
        now=clock.now(),
    )

    assert message.id in {m.id for m in list_open_deadlines(db, member("supervisor.duty"))}
    for party in ("alpha.liaison", "bravo.duty"):
        with pytest.raises(Forbidden):
            list_open_deadlines(db, member(party))
