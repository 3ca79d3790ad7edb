"""Benchmark the Merkle log: build, prove, verify, against raw SHA-256 and Ed25519; then
durable signed appends on SQLite and PostgreSQL, singly and in batches of 1,000.

The references are measured in the same run because absolute rates say little across machines;
the ratios (a proof costs about as much as N raw hashes, a durable batched append about
1/ratio raw Ed25519 signatures) are what should stay stable. The target is 10,000 durable
signed appends/s in batches.

    python -m bench.ledger [--leaves N] [--seconds S] [--pg-url URL | --skip-pg]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench._durable import durable_appends, submit_to_cosigned
from bench.common import DEFAULT_PG_URL, NoPostgres, postgres_database
from fusioncell.ledger.tree import (
    HASH_SIZE,
    MemoryHashStore,
    leaf_hash,
    prove_record,
    prove_tree,
    stored_hash_count,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)


def _rate(step: Callable[[int], object], seconds: float) -> tuple[float, int]:
    """Run ``step(i)`` for i = 0, 1, ... for about ``seconds``; return (calls per second, calls)."""
    calls = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(64):
            step(calls)
            calls += 1
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - start), calls


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the pure Merkle log.")
    parser.add_argument("--leaves", type=int, default=10**6)
    parser.add_argument("--seconds", type=float, default=1.5, help="per measured rate")
    parser.add_argument("--appends", type=int, default=500, help="single durable appends")
    parser.add_argument("--batches", type=int, default=10, help="batches of 1,000 appends")
    parser.add_argument("--checkpoint-samples", type=int, default=30)
    parser.add_argument("--skip-db", action="store_true", help="only the in-memory tree")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("FUSIONCELL_BENCH_PG_URL", DEFAULT_PG_URL),
        help="a PostgreSQL server on which to create (and drop) a database of the bench's own",
    )
    parser.add_argument("--skip-pg", action="store_true", help="durable appends on SQLite only")
    parser.add_argument("--skip-cosigned", action="store_true", help="no witness round trip")
    args = parser.parse_args()
    leaves: int = args.leaves
    seconds: float = args.seconds
    if leaves < 2:
        parser.error("--leaves must be at least 2")
    rng = random.Random(20260106)

    store = MemoryHashStore()
    start = time.perf_counter()
    for i in range(leaves):
        store.append(b"entry %d" % i)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    root = tree_hash(leaves, store)
    root_ms = (time.perf_counter() - start) * 1e3

    indexes = [rng.randrange(leaves) for _ in range(4096)]
    old_sizes = [rng.randrange(1, leaves) for _ in range(4096)]
    inclusion = [prove_record(leaves, n, store) for n in indexes]
    consistency = [prove_tree(leaves, m, store) for m in old_sizes]
    old_roots = [tree_hash(m, store) for m in old_sizes]
    leaf_hashes = [leaf_hash(b"entry %d" % n) for n in indexes]

    def check_inclusion(i: int) -> None:
        k = i % len(indexes)
        verify_inclusion(leaf_hashes[k], indexes[k], leaves, inclusion[k], root)

    def check_consistency(i: int) -> None:
        k = i % len(old_sizes)
        verify_consistency(old_sizes[k], leaves, consistency[k], old_roots[k], root)

    inclusion_rate, _ = _rate(lambda i: prove_record(leaves, indexes[i % 4096], store), seconds)
    consistency_rate, _ = _rate(lambda i: prove_tree(leaves, old_sizes[i % 4096], store), seconds)
    inclusion_verify_rate, _ = _rate(check_inclusion, seconds)
    consistency_verify_rate, _ = _rate(check_consistency, seconds)

    node_input = b"\x01" + bytes(2 * HASH_SIZE)
    sha256_rate, _ = _rate(lambda i: hashlib.sha256(node_input).digest(), seconds)
    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    message = b"fusioncell/message/v1\n" + bytes(200)
    signature = private.sign(message)
    sign_rate, _ = _rate(lambda i: private.sign(message), seconds)
    verify_rate, _ = _rate(lambda i: public.verify(signature, message), seconds)

    def sizes(proofs: list[list[bytes]]) -> dict[str, float]:
        lengths = [len(p) for p in proofs]
        return {
            "hashes_min": min(lengths),
            "hashes_mean": round(sum(lengths) / len(lengths), 2),
            "hashes_max": max(lengths),
            "bytes_max": max(lengths) * HASH_SIZE,
        }

    report: dict[str, Any] = {
        "leaves": leaves,
        "build": {
            "seconds": round(build_s, 3),
            "appends_per_s": round(leaves / build_s),
            "stored_hashes": stored_hash_count(leaves),
        },
        "root_hash_ms": round(root_ms, 3),
        "inclusion_proof": {
            "generated_per_s": round(inclusion_rate),
            "us_per_proof": round(1e6 / inclusion_rate, 1),
            "verified_per_s": round(inclusion_verify_rate),
            "size": sizes(inclusion),
        },
        "consistency_proof": {
            "generated_per_s": round(consistency_rate),
            "us_per_proof": round(1e6 / consistency_rate, 1),
            "verified_per_s": round(consistency_verify_rate),
            "size": sizes(consistency),
        },
        "reference": {
            "sha256_per_s": round(sha256_rate),
            "ed25519_signs_per_s": round(sign_rate),
            "ed25519_verifies_per_s": round(verify_rate),
        },
        "ratios": {
            "sha256_per_append": round(sha256_rate * build_s / leaves, 2),
            "sha256_per_inclusion_proof": round(sha256_rate / inclusion_rate, 2),
            "sha256_per_consistency_proof": round(sha256_rate / consistency_rate, 2),
            "inclusion_proofs_per_ed25519_verify": round(inclusion_rate / verify_rate, 2),
            "inclusion_verifies_per_ed25519_verify": round(inclusion_verify_rate / verify_rate, 2),
            "appends_per_ed25519_sign": round(leaves / build_s / sign_rate, 2),
        },
    }
    if not args.skip_db:

        def appends(url: str, keys: Path) -> dict[str, Any]:
            return durable_appends(
                url, keys, singles=args.appends, batches=args.batches, batch=BATCH
            )

        with tempfile.TemporaryDirectory() as tmp:
            durable = appends(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp) / "keys")
        report["durable_signed_appends_sqlite"] = durable
        report["ratios"]["durable_batched_appends_per_ed25519_sign"] = round(
            durable["batched"]["appends_per_s"] / sign_rate, 3
        )
        if not args.skip_pg:
            report["durable_signed_appends_postgresql"] = _on_postgres(args.pg_url, appends)
            batched = report["durable_signed_appends_postgresql"].get("batched")
            if batched is not None:
                report["ratios"]["durable_batched_appends_per_ed25519_sign_postgresql"] = round(
                    batched["appends_per_s"] / sign_rate, 3
                )
        report["target"] = {
            "durable_batched_appends_per_s": TARGET_BATCHED_APPENDS_PER_S,
            "as_ed25519_signs": round(TARGET_BATCHED_APPENDS_PER_S / sign_rate, 3),
        }
        if not args.skip_cosigned:
            report["submit_to_cosigned_checkpoint"] = submit_to_cosigned(
                samples=args.checkpoint_samples
            )
    print(json.dumps(report, indent=2))


BATCH = 1000
TARGET_BATCHED_APPENDS_PER_S = 10_000


def _on_postgres(server_url: str, appends: Callable[[str, Path], dict[str, Any]]) -> dict[str, Any]:
    """Durable appends in a database of their own on the PostgreSQL server, if it is there."""
    try:
        with postgres_database(server_url) as url, tempfile.TemporaryDirectory() as tmp:
            return appends(url, Path(tmp) / "keys")
    except NoPostgres as exc:
        return {"skipped": str(exc)}


if __name__ == "__main__":
    main()
