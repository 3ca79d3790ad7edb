"""The one live-event bus: every track's events in one table and one ordered stream, each
emitted right after the entry it announces, reaching that entry's readers."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import ColumnElement, Engine, false, func, select, true
from sqlalchemy.orm import Session

from fusioncell.bootstrap import FEEDS
from fusioncell.cell.actions.auth import do_issue_token
from fusioncell.cell.models import OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import viewer_for_token
from fusioncell.client_stream import parse_sse
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.db.engine import make_sessionmaker
from fusioncell.db.transaction import atomic
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID
from fusioncell.hotline.actions.escalation import do_escalate_due
from fusioncell.hotline.actions.messages import (
    do_acknowledge_message,
    do_mark_delivered,
    do_send_message,
)
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.entries import audience
from fusioncell.ledger.models import LogEntry
from fusioncell.ledger.record import ByLog, record
from fusioncell.live.emit import OutOfLogOrder, emit
from fusioncell.live.feeds import Rendered, check_feeds
from fusioncell.live.hub import StreamHub
from fusioncell.live.models import Event
from fusioncell.live.queries import events_since
from fusioncell.live.stream import Credential, event_stream
from fusioncell.scenario.demo import stable_id

ALPHA, BRAVO, SUPERVISOR = (stable_id("organisation", n) for n in ("ALPHA", "BRAVO", "SUPERVISOR"))


class DrillFeed:
    """A second track's feed, for these tests: notes about hotline messages, heard only by
    the parties (its own SQL filter), within the audience of the entry each note points at."""

    track = "drill"
    kinds = frozenset({"drill.note"})

    def visible(self, viewer: Viewer) -> ColumnElement[bool]:
        return true() if viewer.organisation_kind == OrganisationKind.PARTY else false()

    def render(self, db: Session, viewer: Viewer, events: Sequence[Event]) -> list[Rendered]:
        return [Rendered({"note": event.payload["note"]}) for event in events]

    def record_receipts(
        self, db: Session, viewer: Viewer, subjects: Sequence[str], *, now: datetime
    ) -> None:
        raise AssertionError("drill frames carry no receipt")


def _note(db: Session, clock: ManualClock, text: str, organisations: Sequence[uuid.UUID]) -> int:
    """A drill note: an entry (of a hotline type, read as hotline messages are) and its event,
    in one transaction, as an action of the drill track would write them."""
    with atomic(db):
        appended = record(
            db,
            ByLog(),
            HotlineEntry.MESSAGE_SENT,
            {"note": text},
            audience=audience(organisations=list(organisations)),
            now=clock.now(),
        )
        emit(
            db,
            track="drill",
            kind="drill.note",
            scope="notes",
            subject=None,
            log_index=appended.index,
            payload={"note": text},
            now=clock.now(),
        )
    return appended.index


def _send(db: Session, sender: Viewer, clock: ManualClock, text: str) -> uuid.UUID:
    return do_send_message(
        db,
        sender,
        message_id=uuid.uuid4(),
        channel_id=CELL_CHANNEL_ID,
        precedence="ROUTINE",
        text=text,
        now=clock.now(),
    ).id


def _token(
    db: Session, settings: Settings, clock: ManualClock, username: str, password: str
) -> str:
    issued = do_issue_token(
        db, username=username, password=password, totp_code=None, now=clock.now(), settings=settings
    )
    db.commit()
    return issued.secret


def _first_chunk(hub: StreamHub, viewer: Viewer, secret: str) -> list[tuple[int, str, dict]]:
    async def read() -> bytes:
        frames = event_stream(hub, viewer, Credential(secret, None), after=0)
        try:
            await anext(frames)  # the stream is open
            return await anext(frames)
        finally:
            await frames.aclose()

    chunk = asyncio.run(read()).decode()
    return [
        (int(event.id or 0), event.event, json.loads(event.data))
        for event in parse_sse(chunk.split("\n"))
    ]


def test_one_stream_carries_every_tracks_events_in_order_each_as_its_feed_allows(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    settings: Settings,
    clock: ManualClock,
    member: Callable[[str], Viewer],
    demo_password: str,
) -> None:
    everyone = [ALPHA, BRAVO, SUPERVISOR]
    sent = []
    for n in range(3):
        sent.append(_send(db, member("alpha.liaison"), clock, f"crossing {n}"))
        _note(db, clock, f"about crossing {n}", everyone)
    hub = StreamHub(make_sessionmaker(engine, ledger=ledger), clock, (*FEEDS, DrillFeed()))

    bravo_secret = _token(db, settings, clock, "bravo.duty", demo_password)
    bravo = viewer_for_token(db, bravo_secret, now=clock.now())
    assert bravo is not None
    frames = _first_chunk(hub, bravo, bravo_secret)
    ids = [frame_id for frame_id, _kind, _data in frames]
    assert ids == sorted(set(ids))
    heard = [
        (kind, data["message"] if kind == "message" else data["note"])
        for _id, kind, data in frames
        if kind in ("message", "drill.note")
    ]
    assert heard == [
        pair
        for n, message_id in enumerate(sent)
        for pair in (("message", str(message_id)), ("drill.note", f"about crossing {n}"))
    ]

    # The supervisor reads the messages' entries, but the drill feed's own filter leaves
    # its notes out: the supervisor hears the messages alone.
    chair_secret = _token(db, settings, clock, "supervisor.chair", demo_password)
    chair = viewer_for_token(db, chair_secret, now=clock.now())
    assert chair is not None
    kinds = {kind for _id, kind, _data in _first_chunk(hub, chair, chair_secret)}
    assert "message" in kinds and "drill.note" not in kinds


def test_an_event_reaches_only_the_readers_of_the_entry_it_announces(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
    member: Callable[[str], Viewer],
) -> None:
    """The drill feed lets every party through; a note whose entry is for ALPHA and the
    supervisor still reaches ALPHA only, and the operator (in the supervisor's organisation,
    without the right to read messages) hears nothing."""
    _note(db, clock, "private", [ALPHA, SUPERVISOR])
    hub = StreamHub(make_sessionmaker(engine, ledger=ledger), clock, (*FEEDS, DrillFeed()))
    with hub.sessions() as fresh:
        heard = {
            name: {e.kind for e in events_since(fresh, member(name), hub.feeds, 0)}
            for name in ("alpha.duty", "bravo.duty", "cell.admin")
        }
    assert heard == {
        "alpha.duty": {"drill.note"},
        "bravo.duty": set(),
        "cell.admin": set(),
    }
    assert hub.newest(member("bravo.duty")) == 0


def _drill_event(db: Session, clock: ManualClock, log_index: int) -> None:
    emit(
        db,
        track="drill",
        kind="drill.note",
        scope="notes",
        subject=None,
        log_index=log_index,
        payload={},
        now=clock.now(),
    )


def test_an_event_outside_its_entrys_transaction_is_refused_and_nothing_is_written(
    db: Session, clock: ManualClock
) -> None:
    index = _note(db, clock, "logged", [ALPHA])
    before = db.scalar(select(func.count()).select_from(Event))

    with pytest.raises(OutOfLogOrder, match="not appended in this transaction"), atomic(db):
        _drill_event(db, clock, index)
    assert db.scalar(select(func.count()).select_from(Event)) == before


def test_an_event_for_an_earlier_entry_after_a_later_ones_is_refused(
    db: Session, clock: ManualClock
) -> None:
    before = db.scalar(select(func.count()).select_from(Event))
    with pytest.raises(OutOfLogOrder, match="after a later entry"), atomic(db):
        first, second = (
            record(
                db,
                ByLog(),
                HotlineEntry.MESSAGE_SENT,
                {"note": text},
                audience=audience(organisations=[ALPHA]),
                now=clock.now(),
            )
            for text in ("first", "second")
        )
        _drill_event(db, clock, second.index)
        _drill_event(db, clock, first.index)
    assert db.scalar(select(func.count()).select_from(Event)) == before


def test_event_ids_follow_the_log_and_each_announces_an_entry_of_its_track(
    db: Session, clock: ManualClock, member: Callable[[str], Viewer]
) -> None:
    """Every kind of hotline event, from actions in several transactions."""
    alpha, bravo = member("alpha.liaison"), member("bravo.duty")
    flash = do_send_message(
        db,
        alpha,
        message_id=uuid.uuid4(),
        channel_id=CELL_CHANNEL_ID,
        precedence="FLASH",
        text="flash",
        now=clock.now(),
    ).id
    db.commit()
    do_mark_delivered(db, bravo, message_ids=[flash], now=clock.now())
    db.commit()
    clock.advance(timedelta(minutes=3).total_seconds())
    assert do_escalate_due(db, now=clock.now())
    db.commit()
    do_acknowledge_message(
        db, bravo, message_id=flash, ack_id=uuid.uuid4(), checkpoint_size=None, now=clock.now()
    )
    db.commit()

    rows = db.execute(
        select(Event.id, Event.kind, Event.log_index, LogEntry.entry_type)
        .join(LogEntry, LogEntry.index == Event.log_index)
        .order_by(Event.id)
    ).all()
    assert {kind for _id, kind, _index, _type in rows} >= {
        "message",
        "delivered",
        "escalation",
        "acknowledged",
    }
    indexes = [index for _id, _kind, index, _type in rows]
    assert indexes == sorted(indexes)
    assert {entry_type for *_rest, entry_type in rows} <= {kind.value for kind in HotlineEntry}
    assert db.scalar(select(func.count()).select_from(Event)) == len(rows)


def test_two_feeds_may_not_share_a_track_or_an_event_name() -> None:
    check_feeds((*FEEDS, DrillFeed()))
    with pytest.raises(ValueError, match="two live feeds"):
        check_feeds((DrillFeed(), DrillFeed()))

    class Clashing(DrillFeed):
        track = "other"
        kinds = frozenset({"message"})

    with pytest.raises(ValueError, match="'message'"):
        check_feeds((*FEEDS, Clashing()))
