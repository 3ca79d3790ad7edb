"""Bad input and faults at the gateway: each is refused or disconnected with a log line,
nothing is written for it, and no other client waits for it. A restart loses no accepted
event."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.cot.conftest import Received, close, receiving, tls_context
from tests.cot.samples import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    geochat,
    ping,
    position,
    spot_marker,
)

from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import console_of_cell
from fusioncell.clock import ManualClock
from fusioncell.cot import ca
from fusioncell.cot.actions.certificates import do_revoke_certificates
from fusioncell.cot.actions.events import do_receive_event
from fusioncell.cot.gateway import CotGateway
from fusioncell.cot.models import CotEvent as CotEventRow
from fusioncell.cot.package import Written, write_enrolment
from fusioncell.cot.parse import parse_event
from fusioncell.deescalation.actions.observations import do_record_observations
from fusioncell.deescalation.models import ObservationRow
from fusioncell.hotline.models import Channel, Message
from fusioncell.ledger.models import EntryBody, LogEntry
from fusioncell.scenario.demo import stable_id

pytestmark = pytest.mark.long
LOGGER = "fusioncell.cot"


async def plain(
    gateway: CotGateway, *, rcvbuf: int | None = None
) -> tuple[Received, asyncio.StreamWriter]:
    if rcvbuf is None:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.plain_port)
        return receiving(reader), writer
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", gateway.plain_port))
    reader, writer = await asyncio.open_connection(sock=sock)
    return receiving(reader), writer


async def logged(caplog: pytest.LogCaptureFixture, text: str, *, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in caplog.records:
            if record.name == LOGGER and text in record.getMessage():
                return record.getMessage()
        await asyncio.sleep(0.05)
    raise AssertionError(f"no log line with {text!r}: {[r.getMessage() for r in caplog.records]}")


async def accepted(gateway: CotGateway, count: int, *, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while gateway.accepted < count:
        assert time.monotonic() < deadline, f"{gateway.accepted} of {count} accepted"
        await asyncio.sleep(0.05)


async def closed_by_server(received: Received, *, timeout: float = 10.0) -> None:
    with pytest.raises((ConnectionError, ssl.SSLError)):
        await received.until(lambda _events: False, timeout=timeout)


def count(db: Session, model: type) -> int:
    found = db.scalar(select(func.count()).select_from(model))
    db.commit()
    return int(found or 0)


def test_a_stream_of_events_as_tak_clients_send_them_is_read_whole_and_kept_as_received(
    db: Session,
    start_gateway: Callable[..., CotGateway],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    gateway = start_gateway()
    now = clock.now()
    p1, p2, p3 = (position(f"ANDROID-{n}", now=now, declaration=n != 2) for n in (1, 2, 3))
    chat = geochat("ANDROID-1", "msg-1", "Patrol back at base", now=now)
    marker = spot_marker("marker-7", now=now)
    malformed = b'<event version="2.0" uid="m" type="a-f-G" time="noon"><point/></event>'

    async def story() -> Received:
        received, writer = await plain(gateway)
        writer.write(p1 + p2 + chat[:120])
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(chat[120:] + b"\n" + marker + malformed + ping(now=now))
        for cut in (0, 50, 400):
            writer.write(p3[cut : {0: 50, 50: 400, 400: len(p3)}[cut]])
            await writer.drain()
            await asyncio.sleep(0.02)
        await accepted(gateway, 5)
        await received.until(lambda es: any(e.type == "t-x-c-t-r" for e in es))
        await logged(caplog, "malformed")
        await logged(caplog, "kept, not interpreted")
        await close(writer)
        return received

    asyncio.run(story())
    rows = {row.uid: row for row in db.scalars(select(CotEventRow)).all()}
    assert {uid: row.kind for uid, row in rows.items()} == {
        "ANDROID-1": "position",
        "ANDROID-2": "position",
        "ANDROID-3": "position",
        "GeoChat.ANDROID-1.All Chat Rooms.msg-1": "chat",
        "marker-7": "kept",
    }
    # Kept byte for byte, unknown detail elements included, in the signed entry too.
    assert rows["ANDROID-1"].raw.encode() == p1 and rows["marker-7"].raw.encode() == marker
    body = db.get(EntryBody, rows["marker-7"].log_index)
    entry = db.get(LogEntry, rows["marker-7"].log_index)
    assert body is not None and entry is not None and entry.entry_type == "cot.event.received"
    said = json.loads(body.body)
    assert said["raw"].encode() == marker and said["kind"] == "kept"
    assert "x-unknown-vendor" in rows["ANDROID-3"].raw
    units = {row.unit for row in db.scalars(select(ObservationRow)).all()}
    assert units == {"ANDROID-1", "ANDROID-2", "ANDROID-3"}
    message = db.scalar(select(Message).where(Message.text == "Patrol back at base"))
    assert message is not None and message.precedence == "ROUTINE"
    channel = db.get(Channel, message.channel_id)
    assert channel is not None and channel.party_id == stable_id("organisation", "ALPHA")
    assert rows["GeoChat.ANDROID-1.All Chat Rooms.msg-1"].became == message.log_index


def test_xml_bombs_oversize_events_and_idle_clients_are_disconnected_with_nothing_written(
    db: Session,
    start_gateway: Callable[..., CotGateway],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    gateway = start_gateway(max_event_bytes=4096, idle_seconds=1.0)

    async def story() -> None:
        for hostile, line in (
            (BILLION_LAUGHS, "XML bomb"),
            (EXTERNAL_ENTITY, "XML bomb"),
            (b"<event uid='a' type='a-f-G'><detail>" + b"x" * 5000, "oversize"),
        ):
            caplog.clear()
            received, writer = await plain(gateway)
            writer.write(hostile)
            await writer.drain()
            await closed_by_server(received)
            await close(writer)
            await logged(caplog, line)
        idle, writer = await plain(gateway)
        began = time.monotonic()
        await closed_by_server(idle)
        await close(writer)
        assert time.monotonic() - began < 5
        await logged(caplog, "idle for 1.0 s")

    asyncio.run(story())
    assert count(db, CotEventRow) == 0


def test_a_position_for_another_partys_uid_or_unit_is_refused(
    db: Session,
    start_gateway: Callable[..., CotGateway],
    member: Callable[[str], Viewer],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    bravo = member("bravo.liaison")
    do_receive_event(
        db,
        bravo,
        parse_event(position("BRAVO-7", now=clock.now(), lat=33.3, lon=35.7)),
        now=clock.now(),
    )
    gateway = start_gateway()
    before = (count(db, CotEventRow), count(db, ObservationRow))

    async def story() -> None:
        received, writer = await plain(gateway)
        writer.write(position("BRAVO-7", now=clock.now()))
        writer.write(position("seen-hostile", now=clock.now(), cot_type="a-h-G-U-C-A"))
        await writer.drain()
        await logged(caplog, "another party's unit")
        await logged(caplog, "affiliation f")
        writer.write(ping(now=clock.now()))  # still connected
        await received.until(lambda es: any(e.type == "t-x-c-t-r" for e in es))
        await close(writer)

    asyncio.run(story())
    assert (count(db, CotEventRow), count(db, ObservationRow)) == before


def test_only_an_enrolled_certificate_in_force_connects(
    db: Session,
    start_gateway: Callable[..., CotGateway],
    enrol: Callable[..., Written],
    authority: ca.Authority,
    clock: ManualClock,
    tmp_path: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    gateway = start_gateway()
    enrolled = enrol("bravo.liaison")
    # Issued by the cell's CA but never recorded: not enrolled.
    stray = ca.issue_member_certificate(authority, "alpha.liaison", now=clock.now())
    unrecorded = write_enrolment(
        enrolled.key.parent.parent / "stray",
        username="alpha.liaison",
        issued=stray,
        authority=authority,
        host="127.0.0.1",
        port=0,
    )
    # Issued by another CA: the handshake fails.
    other = ca.load_or_create_authority(
        enrolled.key.parent.parent / "other-ca", cell="x", now=clock.now()
    )
    foreign = write_enrolment(
        enrolled.key.parent.parent / "foreign",
        username="alpha.liaison",
        issued=ca.issue_member_certificate(other, "alpha.liaison", now=clock.now()),
        authority=authority,
        host="127.0.0.1",
        port=0,
    )

    writers: list[asyncio.StreamWriter] = []

    async def connect(files: Written) -> Received:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", gateway.tls_port, ssl=tls_context(files)
        )
        writers.append(writer)
        return receiving(reader)

    async def story() -> None:
        try:
            await checks()
        finally:
            await close(*writers)

    async def checks() -> None:
        received = await connect(unrecorded)
        await closed_by_server(received)
        await logged(caplog, "certificate not enrolled")
        with pytest.raises((ssl.SSLError, ConnectionError)):
            received = await connect(foreign)
            await received.until(lambda _events: False)
        await logged(caplog, "refused a TLS connection")

        received = await connect(enrolled)
        await received.until(lambda es: any(e.type == "u-d-f" for e in es))
        console = console_of_cell(db)
        assert console is not None
        await asyncio.to_thread(
            do_revoke_certificates, db, console, username="bravo.liaison", now=clock.now()
        )
        await closed_by_server(received)
        await logged(caplog, "disconnected 127.0.0.1")
        received = await connect(enrolled)
        await closed_by_server(received)
        await logged(caplog, "certificate revoked")

    asyncio.run(story())


def inspected(first: int, many: int, *, at: str) -> dict[str, object]:
    """The verifier's inspection of ``many`` units, released to every party."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": f"unit-{n}",
                "geometry": {"type": "Point", "coordinates": [35.6 + n / 2000, 33.3]},
                "properties": {
                    "unit": f"unit-{n}",
                    "party": "ALPHA",
                    "category": "other",
                    "count": 1,
                    "observed_at": at,
                    "source": "inspection",
                },
            }
            for n in range(first, first + many)
        ],
    }


def test_a_slow_consumer_is_disconnected_and_no_other_client_waits_for_it(
    db: Session,
    start_gateway: Callable[..., CotGateway],
    enrol: Callable[..., Written],
    member: Callable[[str], Viewer],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    at = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    verifier = member("verifier.lead")
    do_record_observations(db, verifier, inspected(0, 300, at=at), now=clock.now())
    gateway = start_gateway(queue_events=400, write_buffer_bytes=1024, socket_buffer_bytes=4096)
    fast_files = enrol("bravo.liaison")

    def units(events: list[Any], first: int, many: int) -> bool:
        return {f"unit-{n}.verification" for n in range(first, first + many)} <= {
            e.uid for e in events
        }

    async def story() -> None:
        slow, slow_writer = await plain(gateway, rcvbuf=2048)  # never reads
        while not any(c.queue.qsize() > 100 for c in list(gateway.clients)):
            await asyncio.sleep(0.05)  # its picture waits in its queue
        reader, fast_writer = await asyncio.open_connection(
            "127.0.0.1", gateway.tls_port, ssl=tls_context(fast_files)
        )
        fast = receiving(reader)
        await fast.until(lambda es: units(es, 0, 300))
        assert len(gateway.clients) == 2  # served while the slow one is stuck
        # More than its queue holds: the slow one is cut off, the fast one gets it all.
        await asyncio.to_thread(
            do_record_observations, db, verifier, inspected(300, 300, at=at), now=clock.now()
        )
        await fast.until(lambda es: units(es, 300, 300))
        await logged(caplog, "slow consumer")
        assert [c.viewer.username for c in gateway.clients] == ["bravo.liaison"]
        assert slow.events == []
        await close(fast_writer, slow_writer)

    asyncio.run(story())


def test_a_restart_loses_no_accepted_event(
    db: Session,
    start_gateway: Callable[..., CotGateway],
    clock: ManualClock,
) -> None:
    gateway = start_gateway()
    now = clock.now()

    writers: list[asyncio.StreamWriter] = []

    async def send() -> None:
        _received, writer = await plain(gateway)
        writers.append(writer)
        for n in range(3):
            writer.write(position(f"unit-{n}", now=now, lat=33.1 + n / 100))
        await writer.drain()
        await accepted(gateway, 3)
        await close(writer)

    asyncio.run(send())
    gateway.stop()
    assert count(db, CotEventRow) == 3
    again = start_gateway()

    async def reconnect() -> None:
        received, writer = await plain(again)
        await received.until(lambda es: {f"unit-{n}" for n in range(3)} <= {e.uid for e in es})
        assert all(e.type == "a-f-G-U-C-I" for e in received.events if e.uid.startswith("unit-"))
        await close(writer)

    asyncio.run(reconnect())
    assert datetime.now(UTC) > now
