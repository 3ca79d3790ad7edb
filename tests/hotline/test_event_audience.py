"""Live events reach exactly the audience of the log entry they announce."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from fusioncell.bootstrap import FEEDS
from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID
from fusioncell.hotline.actions.escalation import do_escalate_due
from fusioncell.hotline.actions.messages import do_mark_delivered, do_send_message
from fusioncell.hotline.models import EventKind
from fusioncell.live.queries import events_since


def _escalated_flash(db: Session, member: Callable[[str], Viewer], clock: ManualClock) -> uuid.UUID:
    """alpha.liaison's FLASH in the cell channel, delivered to BRAVO and escalated for BRAVO's
    missing acknowledgement."""
    message = do_send_message(
        db,
        member("alpha.liaison"),
        message_id=uuid.uuid4(),
        channel_id=CELL_CHANNEL_ID,
        precedence="FLASH",
        text="Artillery movement reported near the line",
        now=clock.now(),
    )
    message_id = message.id
    do_mark_delivered(db, member("bravo.duty"), message_ids=[message_id], now=clock.now())
    clock.advance(timedelta(minutes=3).total_seconds())
    assert do_escalate_due(db, now=clock.now())
    return message_id


def _kinds(db: Session, viewer: Viewer, message_id: uuid.UUID) -> set[str]:
    return {e.kind for e in events_since(db, viewer, FEEDS, 0) if e.subject == str(message_id)}


def test_an_escalation_event_reaches_the_parties_concerned_and_the_supervisor_only(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    message_id = _escalated_flash(db, member, clock)

    for concerned in ("bravo.duty", "alpha.liaison", "supervisor.chair", "supervisor.duty"):
        assert EventKind.ESCALATION.value in _kinds(db, member(concerned), message_id), concerned
    # The host state sits in the cell channel: it sees the message, not BRAVO's escalation.
    host = _kinds(db, member("host.observer"), message_id)
    assert EventKind.MESSAGE.value in host
    assert EventKind.ESCALATION.value not in host
