"""The demo's hotline traffic, mirrored: whatever happens to one party's message happens to the
other's, so the duty officer's console shows the whole hotline the moment the demo starts.

For each party, over the half hour before the demo starts (``start`` is that half hour's
beginning; the log's clock runs from there):

- a FLASH from its liaison officer in the cell channel, received and acknowledged in time by
  the other party's duty officer;
- an IMMEDIATE incident alert with its place on the map, acknowledged late, after the first
  rung of its ladder;
- a request for clarification from the supervisor, in the party's own channel, acknowledged
  by the party's duty officer;
- a FLASH that the other party received and never acknowledged: overdue, escalated rung after
  rung, pinned in red at the top of that party's inbox and in every page's header strip, and
  on the supervisor's deadlines page.

Every step is an action with a stable id, so loading the story again changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import console_of_cell, get_member_by_username, viewer_of
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID, bilateral_channel_id
from fusioncell.hotline.actions.escalation import do_escalate_due
from fusioncell.hotline.actions.messages import (
    do_acknowledge_message,
    do_mark_delivered,
    do_send_message,
)
from fusioncell.hotline.models import Ack, Message
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.scenario.demo import stable_id
from fusioncell.scenario.geometry import ALPHA, BRAVO

# How long before the demo starts its hotline traffic begins.
LEAD = timedelta(minutes=30)


@dataclass(frozen=True)
class _Side:
    party: str
    other: str
    # Where its incident happened: on its own side of the area of separation.
    incident_at: tuple[float, float]
    flash: str
    incident: str
    question: tuple[str, str]
    unanswered: str


SIDES = (
    _Side(
        party=ALPHA,
        other=BRAVO,
        incident_at=(35.781, 33.112),
        flash="Artillery battery moving north of the southern crossing; please confirm receipt.",
        incident="Two rounds landed in open ground 800 m west of line A; no casualties.",
        question=(
            "Night exercise near line A",
            "Is the night exercise announced for Thursday still going ahead, and until when?",
        ),
        unanswered="Armoured vehicles approaching line B at the northern end; answer at once.",
    ),
    _Side(
        party=BRAVO,
        other=ALPHA,
        incident_at=(35.921, 33.102),
        flash="Drone activity over the southern line; please confirm receipt.",
        incident="Small-arms fire heard 1 km east of line B; a patrol is checking.",
        question=(
            "Engineering works near line B",
            "Which positions do the announced engineering works near line B cover?",
        ),
        unanswered="Helicopter crossing towards the area of separation; answer at once.",
    ),
)


def _member(db: Session, username: str) -> Viewer:
    """A demo member as they act, read as the cell's console reads members."""
    console = console_of_cell(db)
    if console is None:
        raise LookupError("the demo cell has no supervising organisation")
    return viewer_of(get_member_by_username(db, console, username))


def _id(name: str) -> uuid.UUID:
    return stable_id("hotline-story", name)


def load_hotline_story(db: Session, *, start: datetime) -> None:
    """Write the story's messages, deliveries and acknowledgements from ``start`` on, and the
    escalations that fell due by its end (``start + LEAD``). Both parties' steps are taken in
    the order of their times, since the log's clock never runs backwards."""
    do_sign_checkpoint(db, now=start)  # acknowledgements cite the newest checkpoint
    db.commit()
    steps = [
        step
        for number, side in enumerate(SIDES)
        for step in _steps(db, side, lag=timedelta(seconds=20 * number))
    ]
    for offset, take in sorted(steps, key=lambda step: step[0]):
        take(start + offset)
        db.commit()
    do_escalate_due(db, now=start + LEAD)
    db.commit()


_Step = tuple[timedelta, Callable[[datetime], object]]


def _steps(db: Session, side: _Side, *, lag: timedelta) -> list[_Step]:
    liaison = _member(db, f"{side.party.lower()}.liaison")
    own_duty = _member(db, f"{side.party.lower()}.duty")
    other_duty = _member(db, f"{side.other.lower()}.duty")
    chair = _member(db, "supervisor.chair")
    key = side.party.lower()
    subject, question = side.question

    def at(minutes: float) -> timedelta:
        return lag + timedelta(minutes=minutes)

    def incident(moment: datetime) -> object:
        occurred = moment - timedelta(minutes=1)
        return _send(
            db,
            liaison,
            f"{key}/incident",
            "IMMEDIATE",
            moment,
            form="incident_alert",
            fields={
                "occurred_at": occurred.isoformat().replace("+00:00", "Z"),
                "description": side.incident,
                "location": {"type": "Point", "coordinates": list(side.incident_at)},
            },
        )

    def ask(moment: datetime) -> object:
        return _send(
            db,
            chair,
            f"{key}/question",
            "ROUTINE",
            moment,
            channel=bilateral_channel_id(stable_id("organisation", side.party)),
            form="clarification_request",
            fields={"subject": subject, "question": question},
        )

    return [
        # A FLASH, received at once and acknowledged in time.
        (at(0), lambda t: _send(db, liaison, f"{key}/flash", "FLASH", t, text=side.flash)),
        (at(0.1), lambda t: _deliver(db, other_duty, f"{key}/flash", t)),
        (at(0.8), lambda t: _acknowledge(db, other_duty, f"{key}/flash", t)),
        # An incident alert, acknowledged after its ten-minute deadline and first rung.
        (at(3), incident),
        (at(3.5), lambda t: _deliver(db, other_duty, f"{key}/incident", t)),
        (at(13.5), lambda t: do_escalate_due(db, now=t)),
        (at(14), lambda t: _acknowledge(db, other_duty, f"{key}/incident", t)),
        # The supervisor's question in the party's own channel, answered by its duty officer.
        (at(4), ask),
        (at(5), lambda t: _deliver(db, own_duty, f"{key}/question", t)),
        (at(6), lambda t: _acknowledge(db, own_duty, f"{key}/question", t)),
        # A FLASH delivered and never acknowledged.
        (
            at(16),
            lambda t: _send(db, liaison, f"{key}/unanswered", "FLASH", t, text=side.unanswered),
        ),
        (at(16.1), lambda t: _deliver(db, other_duty, f"{key}/unanswered", t)),
    ]


def _send(
    db: Session,
    sender: Viewer,
    name: str,
    precedence: str,
    at: datetime,
    *,
    channel: uuid.UUID = CELL_CHANNEL_ID,
    text: str | None = None,
    form: str = "text",
    fields: dict[str, object] | None = None,
) -> Message:
    message = do_send_message(
        db,
        sender,
        message_id=_id(name),
        channel_id=channel,
        precedence=precedence,
        form=form,
        text=text,
        fields=fields,
        now=at,
    )
    return message


def _deliver(db: Session, member: Viewer, name: str, at: datetime) -> None:
    do_mark_delivered(db, member, message_ids=[_id(name)], now=at)


def _acknowledge(db: Session, member: Viewer, name: str, at: datetime) -> Ack:
    ack = do_acknowledge_message(
        db,
        member,
        message_id=_id(name),
        ack_id=_id(f"{name}/ack"),
        checkpoint_size=None,
        now=at,
    )
    return ack
