"""A stream records a delivery before the frame that announces the message goes out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fusioncell.bootstrap import FEEDS
from fusioncell.cell.actions.auth import do_issue_token
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import viewer_for_token
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.db.engine import make_sessionmaker
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID
from fusioncell.hotline.actions.messages import do_send_message
from fusioncell.hotline.models import Delivery
from fusioncell.ledger.context import LedgerContext
from fusioncell.live.hub import Frame, StreamHub
from fusioncell.live.stream import Credential, event_stream


def _signed_in(db: Session, settings: Settings, clock: ManualClock, password: str) -> str:
    issued = do_issue_token(
        db,
        username="bravo.duty",
        password=password,
        totp_code=None,
        now=clock.now(),
        settings=settings,
    )
    return issued.secret


def test_the_frame_announcing_a_message_is_sent_only_once_its_delivery_is_committed(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    settings: Settings,
    clock: ManualClock,
    member: Callable[[str], Viewer],
    demo_password: str,
) -> None:
    secret = _signed_in(db, settings, clock, demo_password)
    bravo = viewer_for_token(db, secret, now=clock.now())
    assert bravo is not None
    db.commit()
    sessions = make_sessionmaker(engine, ledger=ledger)
    hub = StreamHub(sessions, clock, FEEDS, poll_seconds=0.05)
    sent = [
        do_send_message(
            db,
            member("alpha.liaison"),
            message_id=uuid.uuid4(),
            channel_id=CELL_CHANNEL_ID,
            precedence="FLASH",
            text=f"Crossing {number}",
            now=clock.now(),
        ).id
        for number in range(3)
    ]
    db.commit()

    def committed_deliveries() -> set[uuid.UUID]:
        with sessions() as fresh:  # another connection: only what is committed
            return set(
                fresh.scalars(
                    select(Delivery.message_id).where(
                        Delivery.organisation_id == bravo.organisation_id
                    )
                )
            )

    async def first_frames() -> tuple[bytes, set[uuid.UUID]]:
        frames = event_stream(hub, bravo, Credential(secret, None), after=0)
        try:
            await anext(frames)  # the stream is open
            chunk = await anext(frames)
            return chunk, await asyncio.to_thread(committed_deliveries)
        finally:
            await frames.aclose()

    chunk, delivered_when_sent = asyncio.run(first_frames())

    assert all(str(message_id).encode() in chunk for message_id in sent)
    assert delivered_when_sent == set(sent)


def test_a_stream_cancelled_while_recording_a_delivery_leaves_no_other_stream_waiting(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
    member: Callable[[str], Viewer],
) -> None:
    bravo = member("bravo.duty")
    message_id = do_send_message(
        db,
        member("alpha.liaison"),
        message_id=uuid.uuid4(),
        channel_id=CELL_CHANNEL_ID,
        precedence="FLASH",
        text="Crossing",
        now=clock.now(),
    ).id
    db.commit()
    hub = StreamHub(make_sessionmaker(engine, ledger=ledger), clock, FEEDS, poll_seconds=0.05)
    frames = [Frame(id=1, data=b"", receipt=("hotline", str(message_id)))]

    async def scenario() -> list[bool]:
        first = asyncio.create_task(hub.record_receipts(bravo, frames))
        for _ in range(3):  # the first stream is now writing, in a worker thread
            await asyncio.sleep(0)
        first.cancel()  # its client went away
        answers = []
        async with asyncio.timeout(10):
            while not answers or not answers[-1]:
                answers.append(await hub.record_receipts(bravo, frames))
        return answers

    answers = asyncio.run(scenario())

    assert answers[-1] is True
    db.rollback()
    assert db.scalars(
        select(Delivery.organisation_id).where(Delivery.message_id == message_id)
    ).all() == [bravo.organisation_id]
