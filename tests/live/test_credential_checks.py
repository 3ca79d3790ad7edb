"""A stream vouches for its frames with its last credential check while no credential changed
and its own has not expired; otherwise it checks again before sending."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.cell.factories import issue_token

from fusioncell.bootstrap import FEEDS
from fusioncell.cell.actions.account import do_set_language
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import viewer_for_token
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.db.engine import make_sessionmaker
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID
from fusioncell.hotline.actions.messages import do_send_message
from fusioncell.ledger.context import LedgerContext
from fusioncell.live.hub import CredentialCheck, StreamHub
from fusioncell.live.stream import Credential, event_stream


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[CredentialCheck]:
    """Every credential check the streams make, in order."""
    made: list[CredentialCheck] = []
    check = Credential.check

    def counted(self: Credential, hub: StreamHub, viewer: Viewer) -> CredentialCheck:
        result = check(self, hub, viewer)
        made.append(result)
        return result

    monkeypatch.setattr(Credential, "check", counted)
    return made


def test_frames_go_out_on_the_last_check_until_a_credential_changes_or_expires(
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    settings: Settings,
    clock: ManualClock,
    member: Callable[[str], Viewer],
    checks: list[CredentialCheck],
) -> None:
    token = issue_token(db, settings, clock, "bravo.duty")
    db.commit()
    bravo = viewer_for_token(db, token.secret, now=clock.now())
    assert bravo is not None
    alpha, alpha_duty = member("alpha.liaison"), member("alpha.duty")
    # No idle rechecks: only the check before sending can happen.
    hub = StreamHub(
        make_sessionmaker(engine, ledger=ledger),
        clock,
        FEEDS,
        poll_seconds=0.05,
        recheck_seconds=3600,
    )

    def send(text: str) -> str:
        with hub.sessions() as fresh:
            return str(
                do_send_message(
                    fresh,
                    alpha,
                    message_id=uuid.uuid4(),
                    channel_id=CELL_CHANNEL_ID,
                    precedence="ROUTINE",
                    text=text,
                    now=clock.now(),
                ).id
            )

    def someone_changes_language() -> None:
        with hub.sessions() as fresh:
            do_set_language(fresh, alpha_duty, language="he", now=clock.now())

    async def until_sent(frames: AsyncIterator[bytes], message_id: str) -> None:
        async with asyncio.timeout(10):
            while message_id.encode() not in await anext(frames):
                pass

    async def scenario() -> list[int]:
        counts = []
        frames = event_stream(hub, bravo, Credential(token.secret, None), after=None)
        try:
            await anext(frames)  # open
            for number in range(3):
                await until_sent(frames, await asyncio.to_thread(send, f"m{number}"))
            counts.append(len(checks))  # the first frames needed a check; the rest did not
            await asyncio.to_thread(someone_changes_language)
            await until_sent(frames, await asyncio.to_thread(send, "after a change"))
            counts.append(len(checks))  # any credential change: checked again
            await until_sent(frames, await asyncio.to_thread(send, "quiet again"))
            counts.append(len(checks))
            clock.advance((token.expires_at - clock.now()).total_seconds() + 1)
            late = await asyncio.to_thread(send, "after expiry")
            async with asyncio.timeout(10):
                async for chunk in frames:
                    assert late.encode() not in chunk
        finally:
            await frames.aclose()
        counts.append(len(checks))
        return counts

    counts = asyncio.run(scenario())

    assert counts == [1, 2, 2, 3]
    assert [check.holds for check in checks] == [True, True, False]
    assert checks[0].epoch < checks[1].epoch
    assert checks[0].expires_at == token.expires_at
