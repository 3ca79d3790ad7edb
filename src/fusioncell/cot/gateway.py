"""The CoT gateway: TLS listener (client certificates from the cell's CA), and a plain TCP
listener on loopback for tests, in an event loop of its own thread.

Reading: each client's bytes are split into documents (``parse.StreamSplitter``) and each
event is handed to ``actions.events.do_receive_event`` with the member's viewer, in a worker
thread; "accepted" is logged only once its entries are committed. Writing: each client has
a bounded queue and a writer task; a client whose queue fills (it reads too slowly) is
disconnected, so no other client waits for it. The picture is computed once per kind of
viewer (``live.hub.audience_key``) whenever something was committed (the app's wake-up, or
a poll of the log's size every ``poll_seconds`` for other processes), and each client is
sent what changed in its picture since it was last sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from fusioncell.cell.policy import Viewer
from fusioncell.clock import Clock
from fusioncell.config import Settings
from fusioncell.cot import ca, picture
from fusioncell.cot.actions.events import do_receive_event
from fusioncell.cot.parse import CotError, Oversize, StreamSplitter, parse_event
from fusioncell.cot.queries import certificate_holder, may_connect
from fusioncell.cot.rules import COT_RULES, CotRules
from fusioncell.errors import FusioncellError
from fusioncell.ledger.context import ledger_context
from fusioncell.ledger.queries import current_size
from fusioncell.live.emit import ON_EVENT
from fusioncell.live.hub import AudienceKey, audience_key

log = logging.getLogger("fusioncell.cot")

T = TypeVar("T")
PING = "t-x-c-t"
POLL_SECONDS = 1.0
HANDSHAKE_SECONDS = 10.0
WRITE_BUFFER_BYTES = 256 * 1024
SOCKET_BUFFER_BYTES = 64 * 1024
READ_CHUNK = 65536


class _HoldingProtocol(asyncio.StreamReaderProtocol):
    """A stream that reads nothing until the callback starts TLS on it: the client's hello
    must reach the TLS layer, not the stream's buffer."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.ReadTransport):
            transport.pause_reading()
        super().connection_made(transport)


class PlainBindRefused(ValueError):
    """Plain TCP carries no certificate: it listens on loopback only."""


@dataclass(frozen=True)
class GatewaySettings:
    tls_port: int | None = None
    plain_port: int | None = None
    # The member a plain connection acts for (tests only; loopback only).
    plain_member: str | None = None
    host: str = "0.0.0.0"  # noqa: S104 (TAK devices connect from the network, with certificates)
    plain_host: str = "127.0.0.1"
    key_dir: Path = Path("var") / "keys"
    cell: str = "cell"
    server_names: tuple[str, ...] = ()
    # Overrides of the rules' limits (tests); None takes the rules in force.
    idle_seconds: float | None = None
    queue_events: int | None = None
    max_event_bytes: int | None = None
    poll_seconds: float = POLL_SECONDS
    # Bytes written to a client that may wait in this process and in the kernel before its
    # queue starts to fill: together with the queue, what a slow reader may hold back.
    write_buffer_bytes: int = WRITE_BUFFER_BYTES
    socket_buffer_bytes: int = SOCKET_BUFFER_BYTES

    @classmethod
    def from_env(cls) -> GatewaySettings:
        def port(name: str) -> int | None:
            raw = os.environ.get(name)
            return int(raw) if raw else None

        base = Settings.from_env()
        names = os.environ.get("FUSIONCELL_COT_SERVER_NAMES", "")
        return cls(
            tls_port=port("FUSIONCELL_COT_PORT"),
            plain_port=port("FUSIONCELL_COT_PLAIN_PORT"),
            plain_member=os.environ.get("FUSIONCELL_COT_PLAIN_MEMBER") or None,
            host=os.environ.get("FUSIONCELL_COT_HOST") or cls.host,
            plain_host=os.environ.get("FUSIONCELL_COT_PLAIN_HOST") or cls.plain_host,
            key_dir=base.key_dir,
            cell=base.cell,
            server_names=tuple(n.strip() for n in names.split(",") if n.strip()),
        )


def check_plain_host(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise PlainBindRefused(
            f"plain CoT (no certificate) listens on loopback only, not on {host!r}"
        )


@dataclass(eq=False)
class Client:
    viewer: Viewer
    peer: str
    serial: str | None
    writer: asyncio.StreamWriter
    queue: asyncio.Queue[bytes]
    sent: dict[str, bytes] = field(default_factory=dict)
    closed: bool = False
    # Set once the first picture went out (the bench and the tests wait for it).
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def name(self) -> str:
        return f"{self.peer} {self.viewer.username}"


class CotGateway:
    """A ``Running`` worker: ``start`` listens (nothing when no port is set), ``stop`` ends
    every connection."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        settings: GatewaySettings | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings or GatewaySettings.from_env()
        self.clients: set[Client] = set()
        self.tls_port: int | None = None
        self.plain_port: int | None = None
        self.accepted = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._changed: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cot-db")
        self._rules: CotRules | None = None
        self._context: ssl.SSLContext | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self._chain_wake_up()

    # -- settings --------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self.settings.tls_port is not None or self.settings.plain_port is not None

    @property
    def rules(self) -> CotRules:
        if self._rules is None:
            with self.sessions() as db:
                self._rules = ledger_context(db).rules(COT_RULES)
        rules = self._rules
        s = self.settings
        return replace(
            rules,
            idle_seconds=rules.idle_seconds if s.idle_seconds is None else s.idle_seconds,
            queue_events=rules.queue_events if s.queue_events is None else s.queue_events,
            max_event_bytes=(
                rules.max_event_bytes if s.max_event_bytes is None else s.max_event_bytes
            ),
        )

    def _chain_wake_up(self) -> None:
        """Be woken after every commit that emitted a live event, beside the app's streams."""
        info = dict(self.sessions.kw.get("info", {}))
        previous = info.get(ON_EVENT)

        def wake() -> None:
            if callable(previous):
                previous()
            self.wake()

        info[ON_EVENT] = wake
        self.sessions.configure(info=info)

    def wake(self) -> None:
        loop, changed = self._loop, self._changed
        if loop is None or changed is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed
            loop.call_soon_threadsafe(changed.set)

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        if not log.handlers and not logging.getLogger().handlers:
            # ``fusioncell serve`` configures uvicorn's loggers only: the gateway's lines
            # (accepted, refused, disconnected) go to standard error beside them.
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(levelname)s:     cot: %(message)s"))
            log.addHandler(handler)
            if log.level == logging.NOTSET:
                log.setLevel(logging.INFO)
        if self.settings.plain_port is not None:
            check_plain_host(self.settings.plain_host)
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="cot-gateway", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._failed is not None:
            raise self._failed

    def stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if self._thread is None:
            return
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        self._thread.join(timeout=10)
        self._thread = None

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start(), which re-raises it
            self._failed = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(self._loop_exception)
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()
        servers: list[asyncio.Server] = []
        rules = await self._db(lambda _db: self.rules)
        del rules
        s = self.settings
        if s.tls_port is not None:
            self._context = await asyncio.to_thread(self._tls_context)
            # The handshake is ours (``start_tls``), so that a refused one is logged.
            loop = asyncio.get_running_loop()
            server = await loop.create_server(
                lambda: _HoldingProtocol(asyncio.StreamReader(), self._on_tls),
                s.host,
                s.tls_port,
            )
            self.tls_port = server.sockets[0].getsockname()[1]
            servers.append(server)
            log.info("CoT over TLS on %s:%s", s.host, self.tls_port)
        if s.plain_port is not None:
            server = await asyncio.start_server(self._on_plain, s.plain_host, s.plain_port)
            self.plain_port = server.sockets[0].getsockname()[1]
            servers.append(server)
            log.info("CoT plain TCP (tests) on %s:%s", s.plain_host, self.plain_port)
        refresher = asyncio.create_task(self._refresher())
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            refresher.cancel()
            for server in servers:
                server.close()
            for client in list(self.clients):
                self._disconnect(client, "the gateway stops")
            if self._handlers:
                await asyncio.wait(set(self._handlers), timeout=3)
            for server in servers:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(server.wait_closed(), 2)
            self._loop = None

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, ssl.SSLError | ConnectionError | TimeoutError):
            peer = context.get("transport") or context.get("protocol") or ""
            log.warning("refused a TLS connection %s: %s", peer, exc)
            return
        loop.default_exception_handler(context)

    def _tls_context(self) -> ssl.SSLContext:
        s = self.settings
        now = datetime.now(UTC)
        authority = ca.load_or_create_authority(s.key_dir, cell=s.cell, now=now)
        cert, key = ca.server_credentials(
            authority, s.key_dir, extra_names=list(s.server_names), now=now
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        context.load_verify_locations(cadata=authority.pem.decode())
        context.verify_mode = ssl.CERT_REQUIRED
        return context

    async def _db(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with self.sessions() as db:
                return work(db)

        return await asyncio.get_running_loop().run_in_executor(self._pool, run)

    # -- connections -----------------------------------------------------------------------

    @staticmethod
    def _peer(writer: asyncio.StreamWriter) -> str:
        peer = writer.get_extra_info("peername")
        return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    async def _on_tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = self._peer(writer)
        assert self._context is not None
        try:
            await asyncio.wait_for(writer.start_tls(self._context), HANDSHAKE_SECONDS)
        except (ssl.SSLError, ConnectionError, TimeoutError, OSError) as exc:
            log.warning("refused a TLS connection from %s: %s", peer, exc or type(exc).__name__)
            writer.transport.abort()
            return
        ssl_object = writer.get_extra_info("ssl_object")
        der = None if ssl_object is None else ssl_object.getpeercert(binary_form=True)
        if der is None:
            log.warning("refused %s: no client certificate", peer)
            await _close(writer)
            return
        serial = ca.serial_of(der)

        def holder(db: Session) -> tuple[Viewer | None, str]:
            found = certificate_holder(db, serial)
            if found is None:
                return None, "certificate not enrolled"
            certificate, viewer = found
            if certificate.fingerprint != ca.fingerprint(der):
                return None, "certificate not enrolled"
            if not may_connect(db, certificate):
                return None, "certificate revoked or member disabled"
            return viewer, ""

        viewer, why = await self._db(holder)
        if viewer is None:
            log.warning("refused %s: %s (serial %s)", peer, why, serial)
            await _close(writer)
            return
        await self._serve(Client(viewer, peer, serial, writer, self._queue()), reader)

    async def _on_plain(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = self._peer(writer)
        username = self.settings.plain_member

        def member(db: Session) -> Viewer | None:
            from fusioncell.cell.queries import console_of_cell, get_member_by_username, viewer_of

            console = console_of_cell(db)
            if console is None or username is None:
                return None
            try:
                found = get_member_by_username(db, console, username)
            except FusioncellError:
                return None
            return viewer_of(found) if found.may_log_in else None

        viewer = await self._db(member)
        if viewer is None:
            log.warning("refused %s: plain CoT names no member who may log in", peer)
            await _close(writer)
            return
        await self._serve(Client(viewer, peer, None, writer, self._queue()), reader)

    def _queue(self) -> asyncio.Queue[bytes]:
        return asyncio.Queue(maxsize=self.rules.queue_events)

    async def _serve(self, client: Client, reader: asyncio.StreamReader) -> None:
        rules = self.rules
        transport = client.writer.transport
        transport.set_write_buffer_limits(high=self.settings.write_buffer_bytes)
        sock = client.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.settings.socket_buffer_bytes)
        log.info("connected %s", client.name)
        self.clients.add(client)
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
        writing = asyncio.create_task(self._write(client))
        try:
            await self._push(client, await self._picture(client.viewer), full=True)
            client.ready.set()
            await self._read(client, reader, rules)
        finally:
            writing.cancel()
            self._disconnect(client, None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.writer.wait_closed(), 2)
            if handler is not None:
                self._handlers.discard(handler)

    async def _read(self, client: Client, reader: asyncio.StreamReader, rules: CotRules) -> None:
        splitter = StreamSplitter(max_bytes=rules.max_event_bytes)
        while not client.closed:
            try:
                data = await asyncio.wait_for(reader.read(READ_CHUNK), rules.idle_seconds)
            except TimeoutError:
                self._disconnect(client, f"idle for {rules.idle_seconds} s")
                return
            except (ConnectionError, ssl.SSLError) as exc:
                self._disconnect(client, f"connection lost ({exc})")
                return
            if not data:
                self._disconnect(client, "closed by the client")
                return
            try:
                documents = splitter.feed(data)
            except Oversize as exc:
                self._disconnect(client, f"refused: {exc}")
                return
            for document in documents:
                if not await self._receive(client, document):
                    return

    async def _receive(self, client: Client, document: bytes) -> bool:
        """Handle one document; False when the client was disconnected for it."""
        try:
            event = parse_event(document)
        except CotError as exc:
            if exc.reason == "entities":
                self._disconnect(client, f"refused: an XML bomb or external entity ({exc})")
                return False
            log.warning("refused from %s: %s", client.name, exc)
            return True
        if event.type == PING:
            now = self.clock.now()
            self._send(
                client,
                picture.event_document(
                    uid="takPong",
                    cot_type="t-x-c-t-r",
                    how="h-g-i-g-o",
                    lat=0.0,
                    lon=0.0,
                    now=now,
                    stale=now,
                ),
            )
            return True
        viewer = client.viewer

        def receive(db: Session) -> Any:
            return do_receive_event(db, viewer, event, now=self.clock.now())

        try:
            received = await self._db(receive)
        except FusioncellError as exc:
            log.warning("refused %s %s from %s: %s", event.type, event.uid, client.name, exc.detail)
            return True
        self.accepted += 1
        if received.log_index is None:
            log.info("already accepted %s %s from %s", event.type, event.uid, client.name)
        elif received.kind == "kept":
            log.info(
                "received %s %s from %s, kept, not interpreted (entry %s)",
                event.type,
                event.uid,
                client.name,
                received.log_index,
            )
        else:
            log.info(
                "accepted %s %s %s from %s (entries %s, %s)",
                received.kind,
                event.type,
                event.uid,
                client.name,
                received.became,
                received.log_index,
            )
        return True

    async def _write(self, client: Client) -> None:
        writer = client.writer
        try:
            while True:
                document = await client.queue.get()
                writer.write(document)
                await writer.drain()  # waits while the transport is above its limit
        except (ConnectionError, ssl.SSLError) as exc:
            self._disconnect(client, f"connection lost ({exc})")

    def _send(self, client: Client, document: bytes) -> bool:
        if client.closed:
            return False
        transport = client.writer.transport
        if client.queue.empty() and (
            transport.get_write_buffer_size() < self.settings.write_buffer_bytes
        ):
            client.writer.write(document)  # the kernel or the transport takes it now
            return True
        try:
            client.queue.put_nowait(document)
        except asyncio.QueueFull:
            self._disconnect(
                client, f"slow consumer: {client.queue.qsize()} documents waiting unread"
            )
            return False
        return True

    def _disconnect(self, client: Client, why: str | None) -> None:
        if client.closed:
            return
        client.closed = True
        self.clients.discard(client)
        if why is not None:
            log.warning("disconnected %s: %s", client.name, why)
        else:
            log.info("disconnected %s", client.name)
        with contextlib.suppress(Exception):
            client.writer.transport.abort() if why and "slow" in why else client.writer.close()

    # -- the picture -----------------------------------------------------------------------

    async def _picture(self, viewer: Viewer) -> dict[str, picture.Item]:
        rules = self.rules
        return await self._db(
            lambda db: picture.picture(db, viewer, rules=rules, now=self.clock.now())
        )

    async def _push(self, client: Client, items: dict[str, picture.Item], *, full: bool) -> None:
        now = self.clock.now()
        for uid in [uid for uid in client.sent if uid not in items]:
            del client.sent[uid]
            if not self._send(client, picture.delete_document(uid, now=now)):
                return
        for uid, item in items.items():
            key = item.key
            if not full and client.sent.get(uid) == key:
                continue
            client.sent[uid] = key
            if not self._send(client, item.document(now)):
                return

    async def _refresher(self) -> None:
        assert self._changed is not None
        size = -1
        refreshed = time.monotonic()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self.settings.poll_seconds)
            self._changed.clear()
            if not self.clients:
                continue
            try:
                now_size = await self._db(current_size)
                full = time.monotonic() - refreshed >= self.rules.refresh_seconds
                if now_size == size and not full:
                    continue
                size = now_size
                if full:
                    refreshed = time.monotonic()
                await self._check_certificates()
                await self._push_everyone(full=full)
            except Exception:  # the next change or poll tries again
                log.exception("could not update the CoT clients")

    async def _check_certificates(self) -> None:
        clients = [c for c in self.clients if c.serial is not None]
        if not clients:
            return

        def still(db: Session) -> set[str]:
            kept = set()
            for client in clients:
                assert client.serial is not None
                found = certificate_holder(db, client.serial)
                if found is not None and may_connect(db, found[0]):
                    kept.add(client.serial)
            return kept

        kept = await self._db(still)
        for client in clients:
            if client.serial not in kept:
                self._disconnect(client, "certificate revoked or member disabled")

    async def _push_everyone(self, *, full: bool) -> None:
        groups: dict[AudienceKey, list[Client]] = {}
        for client in list(self.clients):
            groups.setdefault(audience_key(client.viewer), []).append(client)
        pictures = await asyncio.gather(
            *(self._picture(members[0].viewer) for members in groups.values())
        )
        for members, items in zip(groups.values(), pictures, strict=True):
            for client in members:
                if not client.closed:
                    await self._push(client, items, full=full)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(writer.wait_closed(), 2)


def make_gateway(sessions: sessionmaker[Session], clock: Clock) -> CotGateway:
    """The worker the app starts: it listens when ``FUSIONCELL_COT_PORT`` or
    ``FUSIONCELL_COT_PLAIN_PORT`` is set (``fusioncell serve --cot-port``)."""
    return CotGateway(sessions, clock)
