"""The live hotline over Server-Sent Events, against real server processes.

Each test starts ``fusioncell serve`` on the test database (the demo cell, channels open)
and reads ``GET /api/v1/stream`` with an httpx streaming client, as a browser's EventSource
or ``fusioncell hotline tail`` would.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from typing import IO, Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from fusioncell.config import Settings
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID, bilateral_channel_id
from fusioncell.hotline.models import Delivery, Message
from fusioncell.live.models import Event as LiveEvent
from fusioncell.scenario.demo import stable_id

pytestmark = pytest.mark.long


BRAVO = stable_id("organisation", "BRAVO")
ALPHA_CHANNEL = bilateral_channel_id(stable_id("organisation", "ALPHA"))


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    stderr: IO[bytes]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving_many(count: int, database_url: str, settings: Settings) -> Iterator[list[Server]]:
    """``count`` app processes on one database, started side by side."""
    env = {
        **os.environ,
        "FUSIONCELL_DATABASE_URL": database_url,
        "FUSIONCELL_PASSWORD_HASH_PROFILE": "fast-insecure",
        "FUSIONCELL_KEY_DIR": str(settings.key_dir),
    }
    with ExitStack() as stack:
        servers = []
        for _ in range(count):
            port = _free_port()
            stderr = stack.enter_context(tempfile.TemporaryFile())
            process = subprocess.Popen(
                [sys.executable, "-m", "fusioncell.cli", "serve", "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            stack.callback(_stop, process)
            servers.append(Server(f"http://127.0.0.1:{port}", process, stderr))
        for server in servers:
            _wait_until_ready(server)
        yield servers


@contextmanager
def serving(database_url: str, settings: Settings) -> Iterator[Server]:
    with serving_many(1, database_url, settings) as (server,):
        yield server


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{server.base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            server.stderr.seek(0)
            pytest.fail(f"the server did not start:\n{server.stderr.read().decode()[-3000:]}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    process.wait(timeout=20)


def token(base: str, username: str, password: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": password}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    data: dict[str, Any]


@dataclass
class Stream:
    """One SSE connection: the events it received, and whether the server said it is open."""

    events: list[Event] = field(default_factory=list)
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    received_at: dict[int, float] = field(default_factory=dict)

    def messages(self) -> list[str]:
        return [event.data["message"] for event in self.events if event.kind == "message"]

    async def until(self, done: Callable[[Stream], bool], *, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not done(self):
                self.arrived.clear()
                await self.arrived.wait()

    async def read(self, response: httpx.Response) -> None:
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line.startswith(":"):
                self.opened.set()
            elif line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
            elif "data" in fields:
                event = Event(int(fields["id"]), fields["event"], json.loads(fields["data"]))
                self.events.append(event)
                self.received_at[event.id] = time.monotonic()
                self.arrived.set()
                fields = {}
            else:
                fields = {}
        self.ended.set()


@asynccontextmanager
async def streaming(
    base: str, headers: dict[str, str], *, last_event_id: int | None = None
) -> AsyncIterator[Stream]:
    """Read the viewer's stream in a task until the block ends (a disconnect) or the server
    goes away; yields once the server has said the stream is open."""
    stream = Stream()
    if last_event_id is not None:
        headers = {**headers, "Last-Event-ID": str(last_event_id)}

    async def run() -> None:
        timeout = httpx.Timeout(10, read=None)
        async with (
            httpx.AsyncClient(timeout=timeout) as client,
            client.stream("GET", f"{base}/api/v1/stream", headers=headers) as response,
        ):
            assert response.status_code == 200, await response.aread()
            assert response.headers["content-type"].startswith("text/event-stream")
            with suppress(httpx.RemoteProtocolError, httpx.ReadError):  # the server was killed
                await stream.read(response)

    task = asyncio.create_task(run())
    opened = asyncio.create_task(stream.opened.wait())
    await asyncio.wait({task, opened}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if not stream.opened.is_set():
        opened.cancel()
        task.cancel()
        await asyncio.gather(task, opened, return_exceptions=True)
        raise AssertionError(f"the stream did not open: {task}")
    try:
        yield stream
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def send(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    text: str,
    *,
    channel: uuid.UUID = CELL_CHANNEL_ID,
) -> str:
    response = await client.post(
        f"/api/v1/channels/{channel}/messages",
        json={"precedence": "ROUTINE", "text": text},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    message_id: str = response.json()["id"]
    return message_id


async def send_burst(
    base: str, headers: dict[str, str], count: int, answered: list[str], *, senders: int = 4
) -> None:
    """``count`` messages from ``senders`` concurrent clients; ``answered`` gets each 201."""
    numbers = iter(range(count))

    async def sender() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            for number in numbers:
                try:
                    answered.append(await send(client, headers, f"burst {number}"))
                except httpx.TransportError:
                    return  # the server is gone

    await asyncio.gather(*(sender() for _ in range(senders)))


def in_order_once(events: list[Event]) -> None:
    ids = [event.id for event in events]
    assert ids == sorted(set(ids)), "event ids repeat or go backwards"


def visible_event_ids(engine: Engine, after: int) -> list[int]:
    """BRAVO's events after ``after``: those in the channels BRAVO belongs to."""
    channels = [CELL_CHANNEL_ID, bilateral_channel_id(BRAVO)]
    with engine.connect() as connection:
        return list(
            connection.scalars(
                select(LiveEvent.id)
                .where(LiveEvent.id > after, LiveEvent.scope.in_([str(c) for c in channels]))
                .order_by(LiveEvent.id)
            )
        )


def test_a_party_duty_officer_sees_a_message_live_and_its_delivery_is_recorded(
    engine: Engine, database_url: str, settings: Settings, demo: None, demo_password: str
) -> None:
    async def scenario(base: str) -> None:
        alpha = token(base, "alpha.liaison", demo_password)
        bravo = token(base, "bravo.duty", demo_password)
        async with (
            streaming(base, bravo) as stream,
            httpx.AsyncClient(base_url=base, timeout=10) as client,
        ):
            sent_at = time.monotonic()
            message_id = await send(client, alpha, "Two trucks will cross at 10:00.")
            await stream.until(lambda s: message_id in s.messages(), timeout=5)
            event = next(e for e in stream.events if e.data["message"] == message_id)
            assert stream.received_at[event.id] - sent_at < 2
            assert event.kind == "message"
            assert event.data["channel"] == str(CELL_CHANNEL_ID)
            assert event.data["detail"]["text"] == "Two trucks will cross at 10:00."
            assert event.data["detail"]["sender"] == "alpha.liaison"
            assert event.data["detail"]["rendered"] == "Two trucks will cross at 10:00."

            # The stream itself carries the delivery it caused.
            await stream.until(
                lambda s: any(
                    e.kind == "delivered" and e.data["message"] == message_id for e in s.events
                ),
                timeout=5,
            )
            shown = (await client.get(f"/api/v1/messages/{message_id}", headers=alpha)).json()
            assert [(d["organisation"], d["member"]) for d in shown["deliveries"]] == [
                ("BRAVO", "bravo.duty")
            ]
            in_order_once(stream.events)

    with serving(database_url, settings) as server:
        asyncio.run(scenario(server.base))


def test_a_client_disconnected_during_a_burst_of_1000_messages_receives_every_one_after_reconnecting(
    engine: Engine, database_url: str, settings: Settings, demo: None, demo_password: str
) -> None:
    answered: list[str] = []

    async def scenario(base: str) -> tuple[list[Event], list[Event]]:
        alpha = token(base, "alpha.liaison", demo_password)
        bravo = token(base, "bravo.duty", demo_password)
        async with streaming(base, bravo) as first:
            burst = asyncio.create_task(send_burst(base, alpha, 1000, answered))
            await first.until(lambda s: len(s.messages()) >= 150, timeout=60)
        # Disconnected in the middle of the burst; come back while it goes on.
        await asyncio.sleep(0.5)
        assert not burst.done(), "the burst ended before the client came back"
        async with streaming(base, bravo, last_event_id=first.events[-1].id) as second:
            await burst
            await second.until(
                lambda s: set(answered) <= {*first.messages(), *s.messages()}, timeout=60
            )
        return first.events, second.events

    with serving(database_url, settings) as server:
        before, after = asyncio.run(scenario(server.base))

    assert len(answered) == 1000
    received = before + after
    in_order_once(received)
    streamed = [e.data["message"] for e in received if e.kind == "message"]
    assert sorted(m for m in streamed if m in set(answered)) == sorted(answered)
    # Nothing BRAVO may see was skipped between the first event and the last.
    assert [e.id for e in received] == visible_event_ids(engine, received[0].id - 1)[
        : len(received)
    ]


def test_a_message_posted_to_one_app_process_reaches_a_stream_on_another(
    engine: Engine,
    database_url: str,
    settings: Settings,
    demo: None,
    demo_password: str,
    backend: str,
) -> None:
    latencies: list[float] = []
    count = 8 if backend == "postgresql" else 3

    async def scenario(first: str, second: str) -> None:
        alpha = token(first, "alpha.liaison", demo_password)
        bravo = token(second, "bravo.duty", demo_password)
        async with (
            streaming(second, bravo) as stream,
            httpx.AsyncClient(base_url=first, timeout=10) as client,
        ):
            for number in range(count):
                message_id = await send(client, alpha, f"across processes {number}")
                answered_at = time.monotonic()
                await stream.until(lambda s, m=message_id: m in s.messages(), timeout=5)
                event = next(e for e in stream.events if e.data["message"] == message_id)
                latencies.append(stream.received_at[event.id] - answered_at)
                await asyncio.sleep(0.2)

    with serving_many(2, database_url, settings) as (first, second):
        asyncio.run(scenario(first.base, second.base))

    if backend == "postgresql":
        assert max(latencies) < 1.0, latencies
        # NOTIFY, not the one-second poll: polled arrivals spread evenly over [0, 1 s], and
        # six of eight under 0.25 s would happen about once in 250 runs.
        assert sum(latency < 0.25 for latency in latencies) >= 6, latencies
    else:
        # SQLite has no NOTIFY: the other process's poll finds it within about a second.
        assert max(latencies) < 2.5, latencies


def test_kill_9_during_a_burst_loses_no_message_answered_201_and_a_reconnecting_stream_delivers_them_all(
    engine: Engine, database_url: str, settings: Settings, demo: None, demo_password: str
) -> None:
    answered: list[str] = []

    async def before_the_kill(server: Server) -> tuple[dict[str, str], Stream]:
        alpha = token(server.base, "alpha.liaison", demo_password)
        bravo = token(server.base, "bravo.duty", demo_password)
        async with streaming(server.base, bravo) as stream:
            burst = asyncio.create_task(send_burst(server.base, alpha, 100_000, answered))
            await stream.until(lambda s: len(s.messages()) >= 20, timeout=30)
        # The client lost its connection; the burst goes on until the server is killed.
        await asyncio.sleep(1.0)
        os.kill(server.process.pid, signal.SIGKILL)
        await asyncio.wait_for(burst, timeout=30)
        return bravo, stream

    with serving(database_url, settings) as server:
        bravo, before = asyncio.run(before_the_kill(server))
    assert 20 <= len(answered) < 100_000
    in_order_once(before.events)

    with engine.connect() as connection:
        stored = set(connection.scalars(select(Message.id)))
    assert {uuid.UUID(m) for m in answered} <= stored

    async def after_restart(base: str) -> Stream:
        last_seen = before.events[-1].id
        async with streaming(base, bravo, last_event_id=last_seen) as stream:
            await stream.until(
                lambda s: set(answered) <= {*before.messages(), *s.messages()}, timeout=30
            )
            # What it streamed is recorded as delivered to BRAVO, in a batch soon after.
            replayed = {uuid.UUID(m) for m in stream.messages()}
            async with asyncio.timeout(10):
                while not replayed <= delivered_to(engine, BRAVO):
                    await asyncio.sleep(0.1)
        return stream

    with serving(database_url, settings) as server:
        after = asyncio.run(after_restart(server.base))
    in_order_once(before.events + after.events)
    assert set(answered) - set(before.messages()), "nothing was sent while disconnected"


def delivered_to(engine: Engine, organisation: uuid.UUID) -> set[uuid.UUID]:
    with engine.connect() as connection:
        return set(
            connection.scalars(
                select(Delivery.message_id).where(Delivery.organisation_id == organisation)
            )
        )


def test_an_unauthenticated_stream_request_gets_a_401_problem(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = client.get("/api/v1/stream", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].startswith("urn:fusioncell:problem:")


def test_an_organisation_outside_a_channel_never_receives_its_events(
    engine: Engine, database_url: str, settings: Settings, demo: None, demo_password: str
) -> None:
    async def scenario(base: str) -> tuple[Stream, Stream, str, str]:
        alpha = token(base, "alpha.liaison", demo_password)
        bravo = token(base, "bravo.duty", demo_password)
        humanitarian = token(base, "hum1.coordinator", demo_password)
        async with (
            streaming(base, humanitarian) as outsider,
            streaming(base, bravo) as bravo_stream,
            httpx.AsyncClient(base_url=base, timeout=10) as client,
        ):
            bilateral = await send(client, alpha, "For the supervisor only.", channel=ALPHA_CHANNEL)
            cell = await send(client, alpha, "For the whole cell.")
            await bravo_stream.until(lambda s: cell in s.messages(), timeout=5)
            # BRAVO's delivery and a poll period more: anything leaking would have arrived.
            await asyncio.sleep(1.5)
        return outsider, bravo_stream, bilateral, cell

    with serving(database_url, settings) as server:
        outsider, bravo_stream, bilateral, cell = asyncio.run(scenario(server.base))

    assert outsider.events == []
    assert bilateral not in bravo_stream.messages()
    assert cell in bravo_stream.messages()
    assert all(
        e.data["channel"] in {str(CELL_CHANNEL_ID), str(bilateral_channel_id(BRAVO))}
        for e in bravo_stream.events
    )


@pytest.mark.parametrize("last_event_id", ["-1", "abc", "1.5"])
def test_a_malformed_last_event_id_is_refused_as_a_problem(
    client: TestClient, token_for: Callable[[str], dict[str, str]], last_event_id: str
) -> None:
    response = client.get(
        "/api/v1/stream", headers={**token_for("bravo.duty"), "Last-Event-ID": last_event_id}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_a_malformed_last_event_id_parameter_is_refused_as_a_problem(
    client: TestClient, token_for: Callable[[str], dict[str, str]]
) -> None:
    response = client.get("/api/v1/stream?last_event_id=-3", headers=token_for("bravo.duty"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@contextmanager
def serving_in_process(app: FastAPI) -> Iterator[str]:
    """The test's own app under uvicorn in a thread, for settings a subprocess cannot take."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_stream_ends_when_its_token_is_revoked_and_cannot_be_reopened_with_it(
    app: FastAPI, demo: None, demo_password: str
) -> None:
    app.state.streams.recheck_seconds = 0.2

    async def scenario(base: str) -> tuple[Stream, int]:
        bravo = token(base, "bravo.duty", demo_password)
        async with (
            streaming(base, bravo) as stream,
            httpx.AsyncClient(base_url=base, timeout=10) as client,
        ):
            revoked = await client.delete("/api/v1/auth/token", headers=bravo)
            assert revoked.status_code == 204
            await asyncio.wait_for(stream.ended.wait(), timeout=5)
            again = await client.get("/api/v1/stream", headers=bravo)
        return stream, again.status_code

    with serving_in_process(app) as base:
        stream, status = asyncio.run(scenario(base))
    assert stream.ended.is_set()
    assert status == 401


async def _log_in_browser(client: httpx.AsyncClient, username: str, password: str) -> str:
    """A browser session through the login form; returns the session's CSRF token."""
    form = await client.get("/login", headers={"Accept": "text/html"})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = await client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf.group(1)},
        headers={"Accept": "text/html"},
    )
    assert answer.status_code == 303, answer.text
    account = await client.get("/account", headers={"Accept": "text/html"})
    found = re.search(r'name="csrf_token" value="([^"]+)"', account.text)
    assert found is not None
    return found.group(1)


Ending = Callable[[], Awaitable[None]]


async def _revoke_token(
    base: str, client: httpx.AsyncClient, password: str
) -> tuple[dict[str, str], Ending]:
    bravo = token(base, "bravo.duty", password)

    async def end() -> None:
        assert (await client.delete("/api/v1/auth/token", headers=bravo)).status_code == 204

    return bravo, end


async def _change_password(
    base: str, client: httpx.AsyncClient, password: str
) -> tuple[dict[str, str], Ending]:
    """Changing the password from one token ends the member's other tokens."""
    bravo, other = token(base, "bravo.duty", password), token(base, "bravo.duty", password)

    async def end() -> None:
        changed = await client.post(
            "/api/v1/me/password",
            json={"current_password": password, "new_password": "a new and longer passphrase"},
            headers=other,
        )
        assert changed.status_code == 204, changed.text

    return bravo, end


async def _log_out(
    base: str, client: httpx.AsyncClient, password: str
) -> tuple[dict[str, str], Ending]:
    browser = httpx.AsyncClient(base_url=base, timeout=10)
    csrf = await _log_in_browser(browser, "bravo.duty", password)

    async def end() -> None:
        out = await browser.post(
            "/logout", data={"csrf_token": csrf}, headers={"Accept": "text/html"}
        )
        assert out.status_code == 303, out.text
        await browser.aclose()

    return {"Cookie": f"fc_session={browser.cookies['fc_session']}"}, end


@pytest.mark.parametrize(
    "credential",
    [_revoke_token, _change_password, _log_out],
    ids=["token-revoked", "password-changed", "logged-out"],
)
def test_a_stream_whose_credential_ended_never_delivers_a_later_message_and_ends(
    app: FastAPI,
    demo: None,
    demo_password: str,
    credential: Callable[[str, httpx.AsyncClient, str], Awaitable[tuple[dict[str, str], Ending]]],
) -> None:
    # Only the check before sending can stop it: the idle check would come far too late.
    app.state.streams.recheck_seconds = 3600

    async def scenario(base: str) -> tuple[Stream, str, str]:
        alpha = token(base, "alpha.liaison", demo_password)
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            headers, end = await credential(base, client, demo_password)
            async with streaming(base, headers) as stream:
                before = await send(client, alpha, "Before the credential ended.")
                await stream.until(lambda s: before in s.messages(), timeout=5)
                await end()
                after = await send(client, alpha, "After the credential ended.")
                await asyncio.wait_for(stream.ended.wait(), timeout=10)
        return stream, before, after

    with serving_in_process(app) as base:
        stream, before, after = asyncio.run(scenario(base))

    assert stream.ended.is_set()
    assert before in stream.messages()
    assert after not in stream.messages()
