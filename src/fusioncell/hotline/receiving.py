"""Showing a message to a member is delivering it to their organisation: the pages and the API
read a list's state and record the deliveries it lacks, in a constant number of statements
once every message shown has been delivered."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.hotline.actions.messages import do_mark_delivered
from fusioncell.hotline.models import Message
from fusioncell.hotline.queries import MessageState, message_states


def receive(
    db: Session, viewer: Viewer, messages: Sequence[Message], *, now: datetime
) -> dict[uuid.UUID, MessageState]:
    """The messages' states, with the viewer's organisation's deliveries recorded.

    Only messages that the state shows undelivered to the organisation (and that it did not
    send) go to ``do_mark_delivered``, which checks again under the log's lock; the state is
    read again only if some did, so a list shown again costs its reads alone."""
    states = message_states(db, viewer, messages)
    ours = viewer.organisation_id
    undelivered = [
        message.id
        for message in messages
        if message.sender_organisation_id != ours
        and all(d.organisation_id != ours for d in states[message.id].deliveries)
    ]
    if not undelivered:
        return states
    do_mark_delivered(db, viewer, message_ids=undelivered, now=now)
    return message_states(db, viewer, messages)
