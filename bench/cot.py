"""The CoT gateway under 50 TAK clients, against a bare asyncio TCP fan-out in the same run.

- setup: the demo cell in a fresh SQLite database (on the wall clock: TAK clients date their
  events by it), the gateway in this process over TLS, ``alpha.liaison`` and
  ``bravo.liaison`` enrolled, ``--clients`` (50) TLS connections, half for each party, every
  one reading what it is sent;
- ingest: every client sends ``--events`` (10) position reports of its own units at once;
  events per second accepted (parsed, turned into observations and signed entries,
  committed) from the first byte sent to the last event committed;
- fan-out: ``--rounds`` (20) times, one ALPHA client reports a new position and the time
  until each of the 50 clients has it (as ``a-f`` or ``a-u``) is one sample; p50 / p99;
- bare: an asyncio TCP server with the same 50 clients that writes every line it receives to
  all of them (no TLS, no parsing, no database): the same p50 / p99; ``ratio`` is the
  gateway's p50 over the bare one's.

    python -m bench.cot [--clients 50] [--events 10] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import ssl
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import latency_summary


def _t(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _position(uid: str, lat: float, lon: float) -> bytes:
    now = datetime.now(UTC)
    return (
        f'<?xml version="1.0"?><event version="2.0" uid="{uid}" type="a-f-G-U-C-I" how="m-g" '
        f'time="{_t(now)}" start="{_t(now)}" stale="{_t(now + timedelta(minutes=5))}">'
        f'<point lat="{lat:.6f}" lon="{lon:.6f}" hae="0" ce="10" le="10"/>'
        f'<detail><contact callsign="{uid}"/></detail></event>'
    ).encode()


class Listener:
    """One client's reader: the time each uid was first seen."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        from fusioncell.cot.parse import StreamSplitter

        self.reader = reader
        self.splitter = StreamSplitter(max_bytes=1 << 20)
        self.seen: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Event] = {}
        self.task = asyncio.create_task(self.run())

    async def run(self) -> None:
        from fusioncell.cot.parse import parse_event

        while data := await self.reader.read(65536):
            now = time.perf_counter()
            for document in self.splitter.feed(data):
                uid = parse_event(document).uid
                self.seen.setdefault(uid, now)
                if (waiter := self.waiters.get(uid)) is not None:
                    waiter.set()

    async def wait(self, uid: str) -> float:
        if uid not in self.seen:
            waiter = self.waiters.setdefault(uid, asyncio.Event())
            await asyncio.wait_for(waiter.wait(), 60)
        return self.seen[uid]


async def _gateway_run(gateway: Any, contexts: list[ssl.SSLContext], args: Any) -> dict[str, Any]:
    connections = [
        await asyncio.open_connection("127.0.0.1", gateway.tls_port, ssl=context)
        for context in contexts
    ]
    listeners = [Listener(reader) for reader, _writer in connections]
    while sum(1 for c in gateway.clients if c.ready.is_set()) < len(connections):
        await asyncio.sleep(0.05)
    # Ingest: every client reports its own units at once.
    expected = gateway.accepted + len(connections) * args.events
    began = time.perf_counter()
    for n, (_reader, writer) in enumerate(connections):
        writer.write(
            b"".join(
                _position(f"bench-{n}-{k}", 33.10 + k / 1000, 35.70 + n / 1000)
                for k in range(args.events)
            )
        )
    while gateway.accepted < expected:
        await asyncio.sleep(0.01)
    ingest_seconds = time.perf_counter() - began
    # Fan-out: one ALPHA client's new position, until every client has it.
    await asyncio.sleep(1.0)
    samples: list[float] = []
    _reader, sender = connections[0]
    for round_ in range(args.rounds):
        uid = f"fanout-{round_}"
        sent = time.perf_counter()
        sender.write(_position(uid, 33.12, 35.75))
        await sender.drain()
        arrived = await asyncio.gather(*(listener.wait(uid) for listener in listeners))
        samples.extend(moment - sent for moment in arrived)
    for _reader, writer in connections:
        writer.close()
    for listener in listeners:
        listener.task.cancel()
    accepted = len(connections) * args.events
    return {
        "events": accepted,
        "ingest_seconds": round(ingest_seconds, 3),
        "events_per_second": round(accepted / ingest_seconds, 1),
        "fanout": latency_summary(samples),
    }


async def _bare_run(clients: int, rounds: int) -> dict[str, Any]:
    writers: list[asyncio.StreamWriter] = []
    handlers: list[asyncio.Future[Any]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        done = asyncio.get_running_loop().create_future()
        handlers.append(done)
        while line := await reader.readline():
            for other in writers:
                other.write(line)
        writer.close()
        done.set_result(None)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(clients)]
    while len(writers) < clients:
        await asyncio.sleep(0.01)

    async def until(reader: asyncio.StreamReader, token: bytes) -> float:
        while True:
            line = await reader.readline()
            if line.strip() == token:
                return time.perf_counter()

    samples: list[float] = []
    for round_ in range(rounds):
        token = f"fanout-{round_}".encode()
        sent = time.perf_counter()
        connections[0][1].write(token + b"\n")
        arrived = await asyncio.gather(*(until(reader, token) for reader, _w in connections))
        samples.extend(moment - sent for moment in arrived)
    for _reader, writer in connections:
        writer.close()
    await asyncio.gather(*handlers)
    server.close()
    await server.wait_closed()
    return {"fanout": latency_summary(samples)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from fusioncell import bootstrap  # noqa: F401  (registers the tracks)
    from fusioncell.cell.queries import console_of_cell
    from fusioncell.clock import SystemClock
    from fusioncell.config import Settings
    from fusioncell.cot import ca
    from fusioncell.cot.actions.certificates import do_issue_certificate
    from fusioncell.cot.gateway import CotGateway, GatewaySettings
    from fusioncell.db import migrate
    from fusioncell.db.engine import create_db_engine, make_sessionmaker
    from fusioncell.ledger.context import build_ledger_context
    from fusioncell.scenario.demo import load_demo

    logging.getLogger("fusioncell.cot").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(database_url=url, key_dir=Path(tmp) / "keys")
        engine = create_db_engine(url)
        migrate.upgrade(engine)
        sessions = make_sessionmaker(engine, ledger=build_ledger_context(settings))
        clock = SystemClock()
        authority = ca.load_or_create_authority(settings.key_dir, cell="cell", now=clock.now())
        contexts: list[ssl.SSLContext] = []
        with sessions() as db:
            load_demo(
                db, password="bench-password-1234", now=clock.now(), hash_profile="fast-insecure"
            )
            db.commit()
            console = console_of_cell(db)
            assert console is not None
            for username in ("alpha.liaison", "bravo.liaison"):
                issued = do_issue_certificate(
                    db, console, username=username, authority=authority, now=clock.now()
                ).issued
                folder = Path(tmp) / username
                folder.mkdir()
                (folder / "key.pem").write_bytes(issued.key_pem())
                (folder / "cert.pem").write_bytes(issued.cert_pem())
                context = ssl.create_default_context(cadata=authority.pem.decode())
                context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
                contexts.append(context)
        gateway = CotGateway(
            sessions,
            clock,
            replace(GatewaySettings(), tls_port=0, host="127.0.0.1", key_dir=settings.key_dir),
        )
        gateway.start()
        try:
            per_party = [contexts[n % 2] for n in range(args.clients)]
            result = asyncio.run(_gateway_run(gateway, per_party, args))
        finally:
            gateway.stop()
            engine.dispose()
    bare = asyncio.run(_bare_run(args.clients, args.rounds))
    return {
        "benchmark": "cot",
        "clients": args.clients,
        "database": "sqlite",
        "gateway": result,
        "bare_tcp_fanout": bare,
        "ratio_p50": round(result["fanout"]["p50_ms"] / max(bare["fanout"]["p50_ms"], 1e-3), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
