"""`fusioncell demo` with a witness per party: real processes on loopback ports."""

from __future__ import annotations

import os
import re
import shlex
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from tests.conftest import DEMO_PASSWORD
from tests.helpers.pages import HTML, log_in_through_form
from tests.servers import free_port

from fusioncell.ledger.witness_cli import default_state_path
from fusioncell.scenario import witnesses as demo_witnesses

# The demo's witnesses check the log over HTTP, the same over either database: make test runs
# each of these on one (marker share).
pytestmark = [pytest.mark.long, pytest.mark.share]


NAMES = ("witness.alpha", "witness.bravo", "witness.verifier")
WAIT_SECONDS = 30.0


@dataclass
class RunningDemo:
    base: str
    process: subprocess.Popen[bytes]
    output: Path
    witness_dir: Path

    def printed(self) -> str:
        return self.output.read_text()

    def pid_of(self, name: str) -> int:
        found = re.search(rf"{re.escape(name)}\s*│\s*\S+\s*│\s*(\d+)", self.printed())
        assert found is not None, self.printed()
        return int(found.group(1))

    def command_of(self, name: str) -> list[str]:
        """The printed command that starts this witness again, without the leading name."""
        for line in self.printed().splitlines():
            words = shlex.split(line)
            if words[:3] == ["fusioncell", "witness", "serve"] and f"{name}.key" in line:
                return words[1:]
        raise AssertionError(self.printed())


def wait_for(condition: Callable[[], bool], what: str, *, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def demo_options() -> list[str]:
    return []


@pytest.fixture
def running_demo(
    engine: Engine, database_url: str, tmp_path: Path, demo_options: list[str]
) -> Iterator[RunningDemo]:
    """``fusioncell demo`` on an empty database, with fresh keys; stopped with SIGTERM after."""
    port = free_port()
    output = tmp_path / "demo.out"
    environment = {
        **os.environ,
        "FUSIONCELL_PASSWORD_HASH_PROFILE": "fast-insecure",
        "FUSIONCELL_DEMO_PASSWORD": DEMO_PASSWORD,
        "FUSIONCELL_KEY_DIR": str(tmp_path / "keys"),
        "COLUMNS": "200",
    }
    for variable in ("FUSIONCELL_WITNESSES", "FUSIONCELL_WITNESS_QUORUM"):
        environment.pop(variable, None)
    command = [sys.executable, "-m", "fusioncell.cli", "demo", "--port", str(port), *demo_options]
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "--database-url", database_url],
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    demo = RunningDemo(f"http://127.0.0.1:{port}", process, output, tmp_path / "witnesses")
    try:

        def ready() -> bool:
            assert process.poll() is None, demo.printed()
            try:
                return httpx.get(f"{demo.base}/readyz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, "the demo to serve", seconds=45)
        yield demo
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def cosigners(demo: RunningDemo) -> tuple[int, set[str]]:
    """The size of the checkpoint that counts, and who cosigned it."""
    response = httpx.get(f"{demo.base}/log/checkpoint", timeout=5)
    if response.status_code != 200:
        return 0, set()
    lines = response.text.splitlines()
    names = {line.split()[1] for line in lines if line.startswith("— witness.")}
    return int(lines[1]), names


@contextmanager
def log_in(demo: RunningDemo) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo.base, headers=HTML, timeout=5) as browser:
        log_in_through_form(browser, "alpha.liaison", totp="")
        yield browser


def grow_the_log(demo: RunningDemo, language: str) -> None:
    """Append one entry: alpha.liaison changes language."""
    token = httpx.post(
        f"{demo.base}/api/v1/auth/token",
        json={"username": "alpha.liaison", "password": DEMO_PASSWORD},
        timeout=5,
    ).json()["access_token"]
    response = httpx.put(
        f"{demo.base}/api/v1/me/language",
        json={"language": language},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert response.status_code == 204, response.text


def missing_on_page(page: str) -> list[str]:
    """The witnesses the page's quorum notice names, or [] if it shows none."""
    notice = re.search(r'<div class="alert warning quorum-missing".*?</div>', page, re.S)
    if notice is None:
        return []
    return re.findall(r'<code class="witness">([^<]+)</code>', notice.group(0))


def test_the_demo_runs_a_witness_per_party_and_the_record_page_names_them(
    running_demo: RunningDemo,
) -> None:
    wait_for(lambda: cosigners(running_demo)[1] == set(NAMES), "three cosignatures")
    with log_in(running_demo) as browser:
        page = browser.get("/record").text

    for name in NAMES:
        assert f'<code class="witness">{name}</code>' in page
        key = running_demo.witness_dir / f"{name}.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "3 of 3 witnesses" in page
    assert "No witnesses are configured" not in page
    assert missing_on_page(page) == []
    pids = [running_demo.pid_of(name) for name in NAMES]

    running_demo.process.send_signal(signal.SIGTERM)
    running_demo.process.wait(timeout=20)
    for pid in pids:  # the witnesses stop with the demo
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_stopped_witness_shows_the_quorum_missing_and_catches_up_when_restarted(
    running_demo: RunningDemo,
) -> None:
    wait_for(lambda: cosigners(running_demo)[1] == set(NAMES), "three cosignatures")
    with log_in(running_demo) as browser:
        os.kill(running_demo.pid_of("witness.bravo"), signal.SIGTERM)
        command = running_demo.command_of("witness.bravo")
        port = int(command[command.index("--port") + 1])

        def bravo_down() -> bool:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            except httpx.TransportError:
                return True
            return False

        wait_for(bravo_down, "witness.bravo to stop")
        counted, _ = cosigners(running_demo)  # no later checkpoint can count without bravo
        grow_the_log(running_demo, "ar")
        wait_for(
            lambda: missing_on_page(browser.get("/record").text) == ["witness.bravo"],
            "the page to show witness.bravo missing",
        )
        page = browser.get("/record").text
        newest = re.search(r'class="alert warning quorum-missing"[^>]*data-size="(\d+)"', page)
        assert newest is not None
        newest_size = int(newest.group(1))
        assert newest_size > counted
        assert f'id="checkpoint" aria-labelledby="checkpoint-heading" data-size="{counted}"' in page
        assert cosigners(running_demo)[0] == counted  # the one that counts stays the older one

        restarted = subprocess.Popen(
            [sys.executable, "-m", "fusioncell.cli", *command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:  # bravo is sent the newest checkpoint with a proof from the last one it cosigned
            wait_for(
                lambda: (
                    cosigners(running_demo)[0] >= newest_size
                    and cosigners(running_demo)[1] == set(NAMES)
                ),
                "witness.bravo to cosign the newest checkpoint",
            )
            assert missing_on_page(browser.get("/record").text) == []
        finally:
            restarted.terminate()
            restarted.wait(timeout=10)


@pytest.mark.parametrize("demo_options", [["--no-witnesses"]])
def test_the_demo_without_witnesses_starts_none_and_its_checkpoints_count_alone(
    running_demo: RunningDemo,
) -> None:
    wait_for(lambda: cosigners(running_demo)[0] > 0, "a checkpoint")
    with log_in(running_demo) as browser:
        page = browser.get("/record").text

    assert cosigners(running_demo)[1] == set()
    assert "No witnesses are configured" in page
    assert not running_demo.witness_dir.exists()
    assert "witness serve" not in running_demo.printed()


def test_the_demo_witness_keys_are_made_once_and_a_fresh_demo_log_starts_their_state_afresh(
    tmp_path: Path,
) -> None:
    first = demo_witnesses.ensure_keys(tmp_path, fresh_log=True)
    states = [default_state_path(key) for key, _vkey in first.values()]
    for state in states:
        state.write_text("{}")

    kept = demo_witnesses.ensure_keys(tmp_path, fresh_log=False)
    assert all(state.exists() for state in states)
    renewed = demo_witnesses.ensure_keys(tmp_path, fresh_log=True)

    assert first == kept == renewed
    assert sorted(first) == sorted(NAMES)
    assert not any(state.exists() for state in states)
