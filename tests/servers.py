"""Real servers on loopback, for tests that need one of their own: ``fusioncell serve`` as a
process, or the test's app under uvicorn in a thread."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI

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
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                # A server still starting at the deadline is stopped first: reading its
                # standard error waits for the end of the stream.
                if process.poll() is None:
                    process.kill()
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


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """The test's own app under uvicorn in a thread of this process (for an app whose settings
    a subprocess cannot take); yields its base URL, and stops it afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert server.started, "the server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
