"""Fixtures of the CoT gateway's tests: the demo cell on the wall clock (TAK clients date
their events by it), a running gateway on ephemeral loopback ports, enrolled members, and a
reader of what a connection receives."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fusioncell.cell.queries import console_of_cell
from fusioncell.clock import ManualClock
from fusioncell.cot import ca
from fusioncell.cot.actions.certificates import do_issue_certificate
from fusioncell.cot.gateway import CotGateway, GatewaySettings
from fusioncell.cot.package import Written, write_enrolment
from fusioncell.cot.parse import CotEvent, StreamSplitter, parse_event
from fusioncell.db.engine import make_sessionmaker
from fusioncell.ledger.context import LedgerContext


@pytest.fixture
def clock() -> ManualClock:
    now = datetime.now(UTC)
    return ManualClock(current=now.replace(microsecond=(now.microsecond // 1000) * 1000))


@pytest.fixture
def authority(key_dir: Path) -> ca.Authority:
    return ca.load_or_create_authority(key_dir, cell="cell", now=datetime.now(UTC))


@pytest.fixture
def start_gateway(
    engine: Engine, ledger: LedgerContext, clock: ManualClock, key_dir: Path, demo: None
) -> Iterator[Callable[..., CotGateway]]:
    started: list[CotGateway] = []

    def start(**overrides: object) -> CotGateway:
        settings = GatewaySettings(
            tls_port=0,
            plain_port=0,
            plain_member="alpha.liaison",
            host="127.0.0.1",
            key_dir=key_dir,
            poll_seconds=0.2,
        )
        gateway = CotGateway(
            make_sessionmaker(engine, ledger=ledger), clock, replace(settings, **overrides)
        )
        gateway.start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture
def enrol(
    db: Session, authority: ca.Authority, clock: ManualClock, tmp_path: Path, demo: None
) -> Callable[..., Written]:
    def issue(username: str, *, port: int = 8089) -> Written:
        console = console_of_cell(db)
        assert console is not None
        enrolment = do_issue_certificate(
            db, console, username=username, authority=authority, now=clock.now()
        )
        return write_enrolment(
            tmp_path / username,
            username=username,
            issued=enrolment.issued,
            authority=authority,
            host="127.0.0.1",
            port=port,
        )

    return issue


def tls_context(files: Written) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(files.ca)
    context.load_cert_chain(files.certificate, files.key)
    return context


@dataclass
class Received:
    """What a connection received, parsed as it arrives."""

    reader: asyncio.StreamReader
    splitter: StreamSplitter
    events: list[CotEvent]

    async def until(
        self, done: Callable[[list[CotEvent]], bool], *, timeout: float = 15.0
    ) -> list[CotEvent]:
        async def read() -> list[CotEvent]:
            while not done(self.events):
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionError("closed")
                self.events.extend(parse_event(d) for d in self.splitter.feed(data))
            return self.events

        return await asyncio.wait_for(read(), timeout)

    def by_uid(self) -> dict[str, CotEvent]:
        return {event.uid: event for event in self.events}


def receiving(reader: asyncio.StreamReader) -> Received:
    return Received(reader, StreamSplitter(max_bytes=1 << 20), [])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def close(*writers: asyncio.StreamWriter) -> None:
    """Close client connections and wait until they are (the loop ends right after)."""
    for writer in writers:
        writer.close()
    for writer in writers:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 2)
