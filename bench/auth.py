"""Login and ``GET /api/v1/me`` through the real server, against a bare Starlette endpoint.

Both servers run as separate uvicorn processes on loopback in the same run; the client
drives each with the same concurrency. Logins use the production argon2id profile (RFC 9106
low-memory), so the login rate is bounded by password hashing by design.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import emit, free_port, latency_summary, server

PASSWORD = "bench-password-0123"


async def drive(
    base: str, method: str, path: str, *, count: int, concurrency: int, **kwargs: object
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            try:
                queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            started = time.perf_counter()
            response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
            latencies.append(time.perf_counter() - started)
            if response.status_code >= 400:
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return count / elapsed, latencies


def measure(
    base: str, method: str, path: str, *, count: int, concurrency: int, **kw: object
) -> dict[str, float]:
    asyncio.run(drive(base, method, path, count=min(count, 50), concurrency=concurrency, **kw))
    rate, latencies = asyncio.run(
        drive(base, method, path, count=count, concurrency=concurrency, **kw)
    )
    return {"requests_per_s": round(rate, 1), **latency_summary(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--logins", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        env = {"FUSIONCELL_DEMO_PASSWORD": PASSWORD, "FUSIONCELL_DATABASE_URL": url}
        fusion_port, bare_port = free_port(), free_port()
        python = sys.executable
        with server(
            [python, "-m", "fusioncell.cli", "demo", "--port", str(fusion_port)],
            port=fusion_port,
            env=env,
        ) as base:
            body = {"username": "alpha.liaison", "password": PASSWORD}
            login = measure(
                base,
                "POST",
                "/api/v1/auth/token",
                count=args.logins,
                concurrency=args.concurrency,
                json=body,
            )
            token = httpx.post(f"{base}/api/v1/auth/token", json=body).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            me = measure(
                base,
                "GET",
                "/api/v1/me",
                count=args.requests,
                concurrency=args.concurrency,
                headers=headers,
            )
        with server(
            [
                python,
                "-m",
                "uvicorn",
                "bench._bare_starlette:app",
                "--port",
                str(bare_port),
                "--log-level",
                "warning",
            ],
            port=bare_port,
        ) as base:
            bare = measure(
                base, "GET", "/api/v1/me", count=args.requests, concurrency=args.concurrency
            )
    emit(
        {
            "bench": "auth",
            "concurrency": args.concurrency,
            "login_argon2id_rfc9106_low_memory": login,
            "me_with_bearer_token": me,
            "reference_bare_starlette": bare,
            "ratio_me_to_bare_rps": round(me["requests_per_s"] / bare["requests_per_s"], 3),
        }
    )


if __name__ == "__main__":
    main()
