"""The database half of the ledger bench: durable signed appends and submit → cosigned checkpoint.

Appends go through ``ledger.record.record`` exactly as actions do (the log key signs, so the
cost is the server's: sign, canonicalise, hash, insert, commit with fsync). The witness run
starts two real ``fusioncell witness serve`` processes and a real app server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from bench.common import free_port, latency_summary, server
from fusioncell import bootstrap  # noqa: F401  (registers the tracks' entry types and rules)
from fusioncell.clock import SystemClock
from fusioncell.config import Settings
from fusioncell.db import migrate
from fusioncell.db.engine import create_db_engine, make_sessionmaker
from fusioncell.db.transaction import atomic
from fusioncell.geo.entries import GeoEntry
from fusioncell.ledger.context import build_ledger_context
from fusioncell.ledger.entries import EVERYONE
from fusioncell.ledger.record import ByLog, record


def durable_appends(
    url: str, key_dir: Path, *, singles: int, batches: int, batch: int
) -> dict[str, Any]:
    settings = replace(Settings(), database_url=url, key_dir=key_dir)
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine, ledger=build_ledger_context(settings))
    clock = SystemClock()

    def body(i: int) -> dict[str, Any]:
        return {"bench": i, "text": "routine status report"}

    with sessions() as db:
        with atomic(db):  # adopt the policy outside the measurement
            record(
                db,
                ByLog(),
                GeoEntry.GEO_FEATURE_DEFINED,
                body(-1),
                audience=EVERYONE,
                now=clock.now(),
            )
        latencies = []
        start = time.perf_counter()
        for i in range(singles):
            began = time.perf_counter()
            with atomic(db):
                record(
                    db,
                    ByLog(),
                    GeoEntry.GEO_FEATURE_DEFINED,
                    body(i),
                    audience=EVERYONE,
                    now=clock.now(),
                )
            latencies.append(time.perf_counter() - began)
        single_s = time.perf_counter() - start
        start = time.perf_counter()
        for b in range(batches):
            with atomic(db):
                for i in range(batch):
                    record(
                        db,
                        ByLog(),
                        GeoEntry.GEO_FEATURE_DEFINED,
                        body(b * batch + i),
                        audience=EVERYONE,
                        now=clock.now(),
                    )
        batched_s = time.perf_counter() - start
    engine.dispose()
    return {
        "single": {"appends_per_s": round(singles / single_s, 1), **latency_summary(latencies)},
        "batched": {
            "batch_size": batch,
            "appends_per_s": round(batches * batch / batched_s, 1),
        },
    }


def submit_to_cosigned(*, samples: int) -> dict[str, Any]:
    """Time from a member's request (201/204) to a checkpoint covering it cosigned by two witnesses."""
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        witnesses = []
        for name in ("alpha", "bravo"):
            key = root / f"{name}.witness.key"
            result = subprocess.run(
                [
                    python,
                    "-m",
                    "fusioncell.cli",
                    "witness",
                    "keygen",
                    "--name",
                    f"witness.{name}",
                    "--out",
                    str(key),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            vkey = result.stdout.strip().split()[-1]
            witnesses.append((name, key, vkey, free_port()))
        port = free_port()
        log_url = f"http://127.0.0.1:{port}"
        env = {
            "FUSIONCELL_DATABASE_URL": f"sqlite:///{root / 'cell.db'}",
            "FUSIONCELL_KEY_DIR": str(root / "keys"),
            "FUSIONCELL_DEMO_PASSWORD": "bench-password-0123",
            "FUSIONCELL_PASSWORD_HASH_PROFILE": "fast-insecure",
            "FUSIONCELL_WITNESSES": ";".join(
                f"{vkey} http://127.0.0.1:{wport}" for _, _, vkey, wport in witnesses
            ),
        }
        # The app must be up before the witnesses pin its key on first use.
        with server(
            [python, "-m", "fusioncell.cli", "demo", "--port", str(port)], port=port, env=env
        ) as base:
            procs = [
                subprocess.Popen(
                    [
                        python,
                        "-m",
                        "fusioncell.cli",
                        "witness",
                        "serve",
                        "--log-url",
                        log_url,
                        "--key",
                        str(key),
                        "--port",
                        str(wport),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env={**os.environ},
                )
                for _, key, _, wport in witnesses
            ]
            try:
                for _, _, _, wport in witnesses:
                    _wait(f"http://127.0.0.1:{wport}/healthz")
                client = httpx.Client(base_url=base, timeout=10)
                # The cell started first, so its first pushes found no witness and back off
                # (1, 2, 4 s): measure the steady state, from the first cosigned checkpoint on.
                _wait_cosigned(client, witnesses=2)
                token = client.post(
                    "/api/v1/auth/token",
                    json={"username": "alpha.liaison", "password": "bench-password-0123"},
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                latencies = []
                for i in range(samples):
                    began = time.perf_counter()
                    response = client.put(
                        "/api/v1/me/language",
                        json={"language": "ar" if i % 2 else "he"},
                        headers=headers,
                    )
                    response.raise_for_status()
                    entries = client.get("/api/v1/log/entries?limit=1", headers=headers).json()
                    wanted = entries[0]["index"] + 1
                    while True:
                        checkpoint = client.get("/log/checkpoint")
                        if checkpoint.status_code == 200:
                            lines = checkpoint.text.splitlines()
                            if (
                                int(lines[1]) >= wanted
                                and sum(line.startswith("— witness.") for line in lines) == 2
                            ):
                                break
                        time.sleep(0.005)
                    latencies.append(time.perf_counter() - began)
            finally:
                for proc in procs:
                    proc.terminate()
                    proc.wait(timeout=10)
    return {"samples": samples, "witnesses": 2, **latency_summary(latencies)}


def _wait_cosigned(client: httpx.Client, *, witnesses: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        checkpoint = client.get("/log/checkpoint")
        lines = checkpoint.text.splitlines() if checkpoint.status_code == 200 else []
        if sum(line.startswith("— witness.") for line in lines) >= witnesses:
            return
        time.sleep(0.05)
    raise RuntimeError("no checkpoint was cosigned within 60 s")


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")
