"""The live stream follows the same rule as every other read: the audience *and* the
hotline's read permission. The operator's organisation is in every channel; the operator
still receives nothing, and neither does a party's auditor."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.conftest import add_member_at_console
from tests.hotline.test_stream import ALPHA_CHANNEL, Stream, send, serving, streaming, token

from fusioncell.cell.models import Role
from fusioncell.clock import ManualClock
from fusioncell.config import Settings


@pytest.mark.parametrize("username", ["cell.admin", "alpha.auditor"])
def test_members_without_the_read_permission_receive_no_hotline_event(
    engine: Engine,
    db: Session,
    clock: ManualClock,
    database_url: str,
    settings: Settings,
    demo: None,
    demo_password: str,
    username: str,
) -> None:
    add_member_at_console(
        db,
        clock,
        "alpha.auditor",
        organisation="ALPHA",
        roles=[Role.AUDITOR],
        password=demo_password,
    )

    async def scenario(base: str) -> tuple[Stream, Stream, str]:
        alpha = token(base, "alpha.liaison", demo_password)
        async with (
            streaming(base, token(base, username, demo_password)) as outsider,
            streaming(base, token(base, "supervisor.chair", demo_password)) as chair,
            httpx.AsyncClient(base_url=base, timeout=10) as client,
        ):
            bilateral = await send(client, alpha, "For the chair only.", channel=ALPHA_CHANNEL)
            await send(client, alpha, "For the whole cell.")
            await chair.until(lambda s: bilateral in s.messages(), timeout=5)
            await asyncio.sleep(1.5)  # a poll period more: anything leaking would have arrived
        return outsider, chair, bilateral

    with serving(database_url, settings) as server:
        outsider, chair, bilateral = asyncio.run(scenario(server.base))

    assert bilateral in chair.messages()
    assert outsider.events == []
