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
from fusioncell.hotline.actions.messages import do_mark_delivered, do_send_message
from fusioncell.hotline.queries import (
    channel_members,
    list_open_deadlines,
    message_state,
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
