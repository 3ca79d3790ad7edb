"""The live hotline: N Server-Sent Events subscribers while alpha.liaison sends through the API.

``fusioncell demo`` runs on a fresh SQLite database; N subscribers (BRAVO's and the
supervisor's members, a few bearer tokens shared) hold ``GET /api/v1/stream`` open with httpx,
and messages go to the cell-wide channel through ``POST /api/v1/channels/{id}/messages``.
Each message's text carries its send time, so every subscriber measures send -> receive
latency (including the POST: signing, the log append, the commit). Two phases per N:

- steady: ``--rate`` messages per second for ``--seconds``; latency p50 / p99 over every
  (message, subscriber) pair;
- burst: ``--burst`` messages as fast as ``--senders`` concurrent clients can send them; the
  sustained rate is messages over the time until the last subscriber had the last one.

The reference, in the same run and from the same client, is a bare Starlette SSE endpoint
(``bench/_bare_sse.py`` under uvicorn) pushing the same message payloads (captured from
fusioncell's stream) to as many subscribers, with no database, auth or log behind it.
fusioncell's streams also carry the delivery events its subscribers cause (BRAVO's and the
supervisor's, two per message), which the reference does not.

    python -m bench.hotline [--subscribers 100 500] [--rate 5] [--seconds 6] [--burst 60]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import emit, free_port, latency_summary, server
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID

PASSWORD = "bench-password-0123"
SENDER = "alpha.liaison"
VIEWERS = ["bravo.duty", "bravo.liaison", "bravo.analyst", "supervisor.chair", "supervisor.duty"]
STAMP = re.compile(rb"bench (\d+) (\d+)")


@dataclass
class Subscribers:
    """What every subscriber received: latency per (message, subscriber), by message."""

    count: int
    ready: int = 0
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    latencies: dict[int, list[float]] = field(default_factory=dict)
    template: dict[str, Any] | None = None

    def received(self, seq: int) -> int:
        return len(self.latencies.get(seq, ()))

    def done(self, seqs: range) -> bool:
        return all(self.received(seq) >= self.count for seq in seqs)

    async def wait_for(self, seqs: range, timeout: float) -> float:
        """Wait until every subscriber has every message; the ``perf_counter`` time it happened."""
        try:
            async with asyncio.timeout(timeout):
                while not self.done(seqs):
                    self.progress.clear()
                    await self.progress.wait()
        except TimeoutError:
            pass
        return time.perf_counter()


async def subscribe(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], sink: Subscribers
) -> None:
    async with client.stream("GET", url, headers=headers) as response:
        response.raise_for_status()
        buffer = b""
        opened = False
        async for chunk in response.aiter_bytes():
            now = time.perf_counter_ns()
            *frames, buffer = (buffer + chunk).split(b"\n\n")
            for frame in frames:
                if not opened:
                    opened = True
                    sink.ready += 1
                    if sink.ready == sink.count:
                        sink.opened.set()
                if b"event: message" not in frame or (found := STAMP.search(frame)) is None:
                    continue
                seq, sent = int(found[1]), int(found[2])
                sink.latencies.setdefault(seq, []).append((now - sent) / 1e9)
                if sink.template is None:
                    data = frame.split(b"data: ", 1)[1]
                    sink.template = json.loads(data)
                sink.progress.set()


@dataclass
class Target:
    name: str
    base: str
    stream_url: str
    headers: list[dict[str, str]]
    send: Callable[[httpx.AsyncClient, str], Awaitable[None]]


async def timed(request: Awaitable[None]) -> float:
    started = time.perf_counter()
    await request
    return time.perf_counter() - started


def stamp(seq: int) -> str:
    return f"bench {seq} {time.perf_counter_ns()}"


async def measure(
    target: Target,
    subscribers: int,
    *,
    rate: float,
    seconds: float,
    burst: int,
    senders: int,
    first_seq: int,
) -> tuple[dict[str, Any], Subscribers, int]:
    sink = Subscribers(subscribers)
    limits = httpx.Limits(max_connections=subscribers + 8, max_keepalive_connections=0)
    timeout = httpx.Timeout(30, read=None)
    async with (
        httpx.AsyncClient(limits=limits, timeout=timeout) as streams,
        httpx.AsyncClient(base_url=target.base, timeout=30) as sender,
    ):
        tasks = [
            asyncio.create_task(
                subscribe(streams, target.stream_url, target.headers[i % len(target.headers)], sink)
            )
            for i in range(subscribers)
        ]
        started = time.perf_counter()
        await asyncio.wait_for(sink.opened.wait(), timeout=120)
        connect_s = time.perf_counter() - started
        seq = first_seq

        # Warm up: every subscriber gets a few messages first.
        warm = range(seq, seq + 3)
        for number in warm:
            await target.send(sender, stamp(number))
        await sink.wait_for(warm, timeout=30)
        seq = warm.stop

        # Steady: one message every 1/rate seconds, each sent without waiting for the last.
        steady = range(seq, seq + max(1, round(rate * seconds)))
        gate = asyncio.Semaphore(16)

        posts: list[float] = []

        async def one(number: int) -> None:
            async with gate:
                posts.append(await timed(target.send(sender, stamp(number))))

        steady_begun = time.perf_counter()
        pending = []
        for index, number in enumerate(steady):
            await asyncio.sleep(max(0.0, steady_begun + index / rate - time.perf_counter()))
            pending.append(asyncio.create_task(one(number)))
        await asyncio.gather(*pending)
        sent_s = time.perf_counter() - steady_begun
        received_s = await sink.wait_for(steady, timeout=30) - steady_begun
        steady_latency = [x for number in steady for x in sink.latencies.get(number, [])]
        steady_posts, posts = posts, []
        seq = steady.stop

        # Burst: as fast as the API takes them.
        flood = range(seq, seq + burst)
        numbers = iter(flood)

        async def flood_sender() -> None:
            for number in numbers:
                posts.append(await timed(target.send(sender, stamp(number))))

        burst_begun = time.perf_counter()
        await asyncio.gather(*(flood_sender() for _ in range(senders)))
        burst_sent_s = time.perf_counter() - burst_begun
        burst_received_s = await sink.wait_for(flood, timeout=60) - burst_begun
        burst_latency = [x for number in flood for x in sink.latencies.get(number, [])]
        seq = flood.stop

        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    expected = subscribers * (len(steady) + len(flood))
    got = sum(sink.received(n) for n in (*steady, *flood))
    result = {
        "subscribers": subscribers,
        "connect_all_s": round(connect_s, 2),
        "steady": {
            "target_messages_per_s": rate,
            "messages": len(steady),
            "sent_per_s": round(len(steady) / sent_s, 1),
            "received_by_all_per_s": round(len(steady) / received_s, 1),
            **latency_summary(steady_latency),
            "post_answered": latency_summary(steady_posts),
        },
        "burst": {
            "messages": len(flood),
            "senders": senders,
            "api_messages_per_s": round(len(flood) / burst_sent_s, 1),
            "sustained_messages_per_s": round(len(flood) / burst_received_s, 1),
            "frames_to_subscribers_per_s": round(len(flood) * subscribers / burst_received_s),
            **latency_summary(burst_latency),
            "post_answered": latency_summary(posts),
        },
        "received_fraction": round(got / expected, 4) if expected else None,
    }
    return result, sink, seq


def _token(base: str, username: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": PASSWORD}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def fusioncell_target(base: str) -> Target:
    alpha = _token(base, SENDER)

    async def send(client: httpx.AsyncClient, text: str) -> None:
        response = await client.post(
            f"/api/v1/channels/{CELL_CHANNEL_ID}/messages",
            json={"precedence": "ROUTINE", "text": text},
            headers=alpha,
        )
        if response.status_code != 201:
            raise RuntimeError(f"send: {response.status_code} {response.text}")

    return Target(
        "fusioncell",
        base,
        f"{base}/api/v1/stream",
        [_token(base, name) for name in VIEWERS],
        send,
    )


def bare_target(base: str, template: dict[str, Any]) -> Target:
    async def send(client: httpx.AsyncClient, text: str) -> None:
        data = copy.deepcopy(template)
        data["detail"]["text"] = data["detail"]["rendered"] = text
        response = await client.post("/publish", json={"event": "message", "data": data})
        if response.status_code != 201:
            raise RuntimeError(f"publish: {response.status_code} {response.text}")

    return Target("bare", base, f"{base}/stream", [{}], send)


def _ratio(ours: float, bare: float) -> float | None:
    return round(ours / bare, 3) if bare else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--rate", type=float, default=5.0, help="steady messages per second")
    parser.add_argument("--seconds", type=float, default=6.0, help="of steady sending")
    parser.add_argument("--burst", type=int, default=60, help="messages sent flat out")
    parser.add_argument("--senders", type=int, default=4, help="concurrent clients in the burst")
    args = parser.parse_args()
    python = sys.executable
    options = {
        "rate": args.rate,
        "seconds": args.seconds,
        "burst": args.burst,
        "senders": args.senders,
    }

    results: dict[str, dict[int, dict[str, Any]]] = {"fusioncell": {}, "bare": {}}
    template: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "FUSIONCELL_DEMO_PASSWORD": PASSWORD,
            "FUSIONCELL_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "FUSIONCELL_KEY_DIR": str(Path(tmp) / "keys"),
            # Logins are not what is measured here (bench.auth does that).
            "FUSIONCELL_PASSWORD_HASH_PROFILE": "fast-insecure",
        }
        port = free_port()
        with server(
            [python, "-m", "fusioncell.cli", "demo", "--port", str(port)], port=port, env=env
        ) as base:
            target = fusioncell_target(base)
            seq = 0
            for count in args.subscribers:
                result, sink, seq = asyncio.run(measure(target, count, first_seq=seq, **options))
                results["fusioncell"][count] = result
                template = template or sink.template
        if template is None:
            raise RuntimeError("no message reached a fusioncell subscriber")
        port = free_port()
        uvicorn = [python, "-m", "uvicorn", "bench._bare_sse:app", "--port", str(port)]
        with server([*uvicorn, "--log-level", "warning"], port=port) as base:
            target = bare_target(base, template)
            for count in args.subscribers:
                result, _sink, seq = asyncio.run(measure(target, count, first_seq=seq, **options))
                results["bare"][count] = result

    ratios = {}
    for count in args.subscribers:
        ours, bare = results["fusioncell"][count], results["bare"][count]
        ratios[count] = {
            "burst_sustained_rate": _ratio(
                ours["burst"]["sustained_messages_per_s"],
                bare["burst"]["sustained_messages_per_s"],
            ),
            "steady_p50": _ratio(ours["steady"]["p50_ms"], bare["steady"]["p50_ms"]),
            "steady_p99": _ratio(ours["steady"]["p99_ms"], bare["steady"]["p99_ms"]),
        }
    target_p99 = 50.0
    largest = max(args.subscribers)
    emit(
        {
            "bench": "hotline",
            "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "fusioncell": results["fusioncell"],
            "reference_bare_starlette_sse": results["bare"],
            "ratio_fusioncell_to_bare": ratios,
            "target": f"steady p99 <= {target_p99} ms at {largest} subscribers",
            "target_met": results["fusioncell"][largest]["steady"]["p99_ms"] <= target_p99,
        }
    )


if __name__ == "__main__":
    main()
