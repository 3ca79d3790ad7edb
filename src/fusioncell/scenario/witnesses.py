"""The demo's witnesses: one per party, each its own process with its own key and state.

The design's promise is that each party's own witness cosigns the log, so the demo runs them
too: ALPHA's, BRAVO's and the verifier's, on loopback ports, as ``fusioncell witness serve``
processes an operator could run anywhere. Their keys are made once and kept beside the log's
keys; their state (what each cosigned) lives beside its key. They are given the log's key, so
they need not wait for the cell to answer before they start.
"""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from fusioncell.ledger.witness_cli import (
    WitnessSetupError,
    default_state_path,
    read_key_file,
    write_key_file,
)

NAMES = ("witness.alpha", "witness.bravo", "witness.verifier")
READY_SECONDS = 30.0
STOP_SECONDS = 5.0


@dataclass(frozen=True)
class DemoWitness:
    name: str
    verifier_key: str
    port: int
    log: Path
    # ``fusioncell witness serve`` as this one was started: to start it again by hand.
    arguments: tuple[str, ...]
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def serve_arguments(key: Path, port: int, *, log_url: str, log_key: str) -> tuple[str, ...]:
    return (
        "witness",
        "serve",
        "--log-url",
        log_url,
        "--key",
        str(key),
        "--port",
        str(port),
        "--log-key",
        log_key,
    )


def command_line(witness: DemoWitness) -> str:
    return shlex.join(["fusioncell", *witness.arguments])


def ensure_keys(directory: Path, *, fresh_log: bool) -> dict[str, tuple[Path, str]]:
    """Each demo witness's key file and verifier key, making the keys the first time.

    A fresh demo database is a new log under the same log key: the witnesses' memory of the old
    one would make them refuse it as a fork, so their state starts afresh with it.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = {}
    for name in NAMES:
        key = directory / f"{name}.key"
        if not key.exists():
            write_key_file(key, name)
        elif fresh_log:
            default_state_path(key).unlink(missing_ok=True)
        keys[name] = (key, read_key_file(key).verifier().key_string())
    return keys


def start(directory: Path, *, log_url: str, log_key: str, fresh_log: bool) -> list[DemoWitness]:
    """Start every demo witness and return once each answers; stop them all if one fails."""
    started: list[DemoWitness] = []
    try:
        for name, (key, verifier_key) in ensure_keys(directory, fresh_log=fresh_log).items():
            port = _free_port()
            log = directory / f"{name}.log"
            arguments = serve_arguments(key, port, log_url=log_url, log_key=log_key)
            with log.open("ab") as output:
                process = subprocess.Popen(  # noqa: S603 (our own executable, no shell)
                    [sys.executable, "-m", "fusioncell.cli", *arguments],
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            started.append(DemoWitness(name, verifier_key, port, log, arguments, process))
        for witness in started:
            _wait_ready(witness)
    except BaseException:
        stop(started)
        raise
    return started


def witnesses_setting(witnesses: list[DemoWitness]) -> str:
    """The value of ``FUSIONCELL_WITNESSES`` naming these witnesses."""
    return "; ".join(f"{w.verifier_key} {w.url}" for w in witnesses)


def stop(witnesses: list[DemoWitness]) -> None:
    for witness in witnesses:
        if witness.process.poll() is None:
            witness.process.terminate()
    for witness in witnesses:
        try:
            witness.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            witness.process.kill()
            witness.process.wait()


def _wait_ready(witness: DemoWitness) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            if httpx.get(f"{witness.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if witness.process.poll() is not None or time.monotonic() > deadline:
            tail = witness.log.read_text(errors="replace").strip().splitlines()[-3:]
            reason = "; ".join(tail) or "no output"
            raise WitnessSetupError(f"the demo witness {witness.name} did not start: {reason}")
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
