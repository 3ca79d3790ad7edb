"""Shared pieces for the benchmarks: latency statistics, free ports, server processes, and a
PostgreSQL database of their own."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from fusioncell.db.engine import normalise_url

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(seconds, 0.50) * 1000, 3),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 3),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 3) if seconds else float("nan"),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(
    args: list[str], *, port: int, env: dict[str, str] | None = None, timeout: float = 30
) -> Iterator[str]:
    """Start a server process on 127.0.0.1:port and wait until it answers /healthz (at most
    ``timeout`` seconds)."""
    process = subprocess.Popen(
        args,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                if process.poll() is None:  # reading its standard error waits for its end
                    process.kill()
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"server did not start: {stderr[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result, sort_keys=True))
    sys.stdout.flush()


class NoPostgres(Exception):
    """No PostgreSQL server to benchmark on (the bench then reports the part as skipped)."""


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh, empty database on the PostgreSQL server at ``server_url``, dropped afterwards;
    yields its URL."""
    server = normalise_url(server_url)
    name = f"fusioncell_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        except OperationalError as exc:
            detail = str(exc.orig).strip()[:200]
            raise NoPostgres(f"no PostgreSQL at {server_url}: {detail}") from None
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
