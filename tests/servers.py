"""Real `fusioncell serve` processes on loopback, for tests that need a server of their own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from fusioncell.config import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_cell(
    database_url: str, settings: Settings, *, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``fusioncell serve`` on the test database and keys; yields (base URL, process) once
    ``/readyz`` answers, and stops the process afterwards (unless the test killed it)."""
    port = free_port()
    environment = {
        **os.environ,
        "FUSIONCELL_DATABASE_URL": database_url,
        "FUSIONCELL_PASSWORD_HASH_PROFILE": "fast-insecure",
        "FUSIONCELL_KEY_DIR": str(settings.key_dir),
        **(env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "fusioncell.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"the server did not start:\n{stderr[-3000:]}")
            time.sleep(0.05)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if process.stderr:
            process.stderr.close()
