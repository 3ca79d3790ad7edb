"""Intelligence over TAXII 2.1, against medallion on the same data, and the track's ingest
and search.

- TAXII write: 2,000 indicators posted in envelopes of 100 to ALPHA's submission collection
  of ``fusioncell serve`` (SQLite; each envelope validated by stix2-validator, signed
  custodially into the log and stored as a report; HTTP Basic, as TAXII clients send it), and
  to a writable collection of medallion 3.0.0 (memory backend) installed from PyPI in a
  bench-only virtualenv made at run time (``--medallion-venv``, default under /tmp);
- TAXII read: the same objects read back with ``limit=20``, page after page (``next``);
- before the clock starts, each server gets one untimed envelope (one identity), so that what
  a process does once (fusioncell imports STIX validation, checks a Basic password) is done;
- ingest: bundles of 5 objects through ``do_submit_reports`` in process, 500 a transaction
  (validated, signed, stored, a report and a signed entry each), as ``fusioncell intel
  submit FOLDER`` sends them;
- search: full-text search p99 over ``--objects`` objects (100,000 by default), on SQLite
  (FTS5) and on PostgreSQL (``--pg-url``; skipped if there is none).

    python -m bench.intel [--objects 100000] [--indicators 2000] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    DEFAULT_PG_URL,
    NoPostgres,
    emit,
    free_port,
    latency_summary,
    percentile,
    postgres_database,
    server,
)

PASSWORD = "bench-password-0123"
TAXII = "application/taxii+json;version=2.1"
WORDS = [
    "convoy",
    "artillery",
    "drone",
    "checkpoint",
    "launcher",
    "radar",
    "bridge",
    "depot",
    "patrol",
    "crossing",
]


WARM_UP = {
    "type": "identity",
    "spec_version": "2.1",
    "created": "2026-01-06T08:00:00.000Z",
    "modified": "2026-01-06T08:00:00.000Z",
    "name": "bench warm-up",
    "identity_class": "system",
}


def indicators(count: int) -> list[dict[str, Any]]:
    made = []
    for n in range(count):
        stamp = "2026-01-06T08:00:00.000Z"
        made.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid.uuid4()}",
                "created": stamp,
                "modified": stamp,
                "name": f"{WORDS[n % len(WORDS)]} {n}",
                "pattern": f"[ipv4-addr:value = '198.51.{n // 250}.{n % 250}']",
                "pattern_type": "stix",
                "valid_from": stamp,
            }
        )
    return made


def medallion_python(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not (venv / "bin" / "medallion").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "medallion==3.0.0"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return python


@contextmanager
def medallion(venv: Path, tmp: Path) -> Iterator[tuple[str, str]]:
    collection = str(uuid.uuid4())
    data = {
        "/discovery": {"title": "bench", "default": "http://127.0.0.1/api1/", "api_roots": []},
        "api1": {
            "information": {"title": "bench", "versions": [TAXII], "max_content_length": 10**8},
            "status": [],
            "collections": [
                {
                    "id": collection,
                    "title": "bench",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (tmp / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(tmp / "data.json"),
        },
        "users": {"bench": PASSWORD},
        "taxii": {"max_page_size": 1000},
    }
    (tmp / "config.json").write_text(json.dumps(config))
    port = free_port()
    process = subprocess.Popen(
        [str(venv / "bin" / "medallion"), "--port", str(port), str(tmp / "config.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                found = httpx.get(
                    f"{base}/taxii2/", auth=("bench", PASSWORD), headers={"Accept": TAXII}
                )
                if found.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("medallion did not start")
            time.sleep(0.1)
        yield f"{base}/api1/collections/{collection}/objects/", "bench"
    finally:
        process.terminate()
        process.wait(timeout=10)


def write_and_read(url: str, user: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
    headers = {"Accept": TAXII, "Content-Type": TAXII}
    with httpx.Client(auth=(user, PASSWORD), timeout=300) as client:
        # Untimed: one envelope of one identity, so that each server has done what a process
        # does once (fusioncell: importing STIX validation, a Basic login's password check)
        # before the clock starts. The read below asks for indicators only.
        warm = {"objects": [{**WARM_UP, "id": f"identity--{uuid.uuid4()}"}]}
        answer = client.post(url, content=json.dumps(warm), headers=headers)
        if answer.status_code != 202:
            raise RuntimeError(f"{url}: {answer.status_code} {answer.text[:300]}")
        started = time.perf_counter()
        for first in range(0, len(objects), 100):
            body = json.dumps({"objects": objects[first : first + 100]})
            answer = client.post(url, content=body, headers=headers)
            if answer.status_code != 202:
                raise RuntimeError(f"{url}: {answer.status_code} {answer.text[:300]}")
        wrote = time.perf_counter() - started
        started = time.perf_counter()
        read = 0
        pages = 0
        params: dict[str, str] = {"limit": "20", "match[type]": "indicator"}
        while True:
            page = client.get(url, params=params, headers={"Accept": TAXII})
            if page.status_code != 200:
                raise RuntimeError(f"{url}: {page.status_code} {page.text[:300]}")
            envelope = page.json()
            read += len(envelope.get("objects", []))
            pages += 1
            if not envelope.get("more"):
                break
            params = {**params, "next": envelope["next"]}
        took = time.perf_counter() - started
    return {
        "write_objects_per_s": round(len(objects) / wrote, 1),
        "read_objects_per_s": round(read / took, 1),
        "read_objects": read,
        "read_pages": pages,
    }


def fusioncell_taxii(tmp: Path, objects: list[dict[str, Any]]) -> dict[str, Any]:
    from fusioncell.intel.taxii.queries import CollectionKind, collection_id
    from fusioncell.scenario.demo import stable_id

    env = {
        "FUSIONCELL_DEMO_PASSWORD": PASSWORD,
        "FUSIONCELL_DATABASE_URL": f"sqlite:///{tmp / 'taxii.db'}",
        "FUSIONCELL_KEY_DIR": str(tmp / "keys"),
    }
    subprocess.run(
        [sys.executable, "-m", "fusioncell.cli", "demo", "--no-serve"],
        env={**os.environ, **env},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    own = collection_id(CollectionKind.SUBMITTED, stable_id("organisation", "ALPHA"))
    with server(
        [sys.executable, "-m", "fusioncell.cli", "serve", "--port", str(port)],
        port=port,
        env=env,
        timeout=300,
    ) as base:
        return write_and_read(
            f"{base}/taxii2/cell/collections/{own}/objects/", "alpha.analyst", objects
        )


def ingest_and_search(
    tmp: Path, database_url: str, total_objects: int, queries: int, *, batch: int
) -> dict[str, Any]:
    """Bundles of five objects through ``do_submit_reports`` in batches (validated, signed,
    stored, a report and an entry each), as ``fusioncell intel submit FOLDER`` sends them;
    then full-text search over them, as a member of the other party."""
    from dataclasses import replace

    from fusioncell.cell.models import Member
    from fusioncell.cell.queries import viewer_of
    from fusioncell.config import Settings
    from fusioncell.db import migrate
    from fusioncell.db.engine import create_db_engine, make_sessionmaker
    from fusioncell.intel.actions.reports import Submission, do_submit_reports
    from fusioncell.intel.queries import Filters, list_reports
    from fusioncell.ledger.context import build_ledger_context
    from fusioncell.scenario.demo import load_demo, stable_id

    settings = replace(
        Settings(),
        database_url=database_url,
        key_dir=tmp / f"ingest-keys-{uuid.uuid4().hex[:6]}",
        password_hash_profile="fast-insecure",
        background_checkpoints=False,
    )
    engine = create_db_engine(settings.database_url)
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine, ledger=build_ledger_context(settings))
    now = datetime.now(UTC) - timedelta(days=1)
    with sessions() as db:
        load_demo(db, password=PASSWORD, now=now, hash_profile="fast-insecure")
        db.commit()
        member = db.get(Member, stable_id("member", "alpha.analyst"))
        assert member is not None
        actor = viewer_of(member)
        db.commit()
        bundles = max(1, total_objects // 5)
        made = indicators(bundles * 5)
        # Untimed, as the app's warm-up worker does at start: the import of STIX validation.
        from fusioncell.intel import stix

        stix.validation_errors(made[0])
        timed = min(bundles, 4 * batch)
        ingest_rate = 0.0
        started = time.perf_counter()
        for first in range(0, bundles, batch):
            if first == timed:
                ingest_rate = timed / (time.perf_counter() - started)
            do_submit_reports(
                db,
                actor,
                [
                    Submission(
                        report_id=uuid.uuid4(),
                        bundle={"type": "bundle", "objects": made[n * 5 : n * 5 + 5]},
                        release_to=["BRAVO"] if n % 2 else [],
                        tlp="amber",
                        grade="B2",
                    )
                    for n in range(first, min(first + batch, bundles))
                ],
                now=now,
            )
        if not ingest_rate:
            ingest_rate = bundles / (time.perf_counter() - started)
        chair = viewer_of(db.get(Member, stable_id("member", "bravo.analyst")))  # type: ignore[arg-type]
        db.commit()
        samples: list[float] = []
        for n in range(queries):
            word = WORDS[n % len(WORDS)]
            started = time.perf_counter()
            list_reports(db, chair, Filters(text=word), limit=50)
            samples.append(time.perf_counter() - started)
            db.rollback()
    engine.dispose()
    return {
        "ingest_bundles_per_s": round(ingest_rate, 1),
        "ingest_objects_per_s": round(ingest_rate * 5, 1),
        "ingest_batch": batch,
        "objects": bundles * 5,
        "search": {**latency_summary(samples), "queries": queries},
        "search_p99_ms": round(percentile(samples, 0.99) * 1000, 3),
    }


def _ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("inf")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--indicators", type=int, default=2000)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=500, help="bundles per ingest batch")
    parser.add_argument(
        "--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server for ingest and search ('')"
    )
    parser.add_argument(
        "--medallion-venv",
        type=Path,
        default=Path(tempfile.gettempdir()) / "fusioncell-bench-medallion",
    )
    args = parser.parse_args(argv)
    objects = indicators(args.indicators)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        ours = fusioncell_taxii(tmp, objects)
        with medallion(medallion_python(args.medallion_venv).parent.parent, tmp) as (url, user):
            theirs = write_and_read(url, user, objects)
        sqlite = ingest_and_search(
            tmp, f"sqlite:///{tmp / 'ingest.db'}", args.objects, args.queries, batch=args.batch
        )
        postgresql: dict[str, Any]
        if args.pg_url:
            try:
                with postgres_database(args.pg_url) as url:
                    postgresql = ingest_and_search(
                        tmp, url, args.objects, args.queries, batch=args.batch
                    )
            except NoPostgres as skipped:
                postgresql = {"skipped": str(skipped)}
        else:
            postgresql = {"skipped": "no --pg-url"}
    emit(
        {
            "bench": "intel",
            "load_average": [round(v, 2) for v in os.getloadavg()],
            "taxii": {"fusioncell": ours, "medallion_3_0_0": theirs},
            "ratios": {
                "write": _ratio(ours["write_objects_per_s"], theirs["write_objects_per_s"]),
                "read": _ratio(ours["read_objects_per_s"], theirs["read_objects_per_s"]),
            },
            "targets": {"write_ratio": 2.0, "read_ratio": 50.0, "ingest_bundles_per_s": 1000},
            **sqlite,
            "postgresql": postgresql,
        }
    )


if __name__ == "__main__":
    main(sys.argv[1:])
