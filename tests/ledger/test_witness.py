from __future__ import annotations

import base64
import json
import logging
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from tests.servers import free_port
from typer.testing import CliRunner

from fusioncell.ledger.checkpoint import (
    Checkpoint,
    CosignatureVerifier,
    Cosigner,
    format_checkpoint,
    verify_cosignature_line,
)
from fusioncell.ledger.note import Ed25519Signer, open_note, parse_note, sign_note
from fusioncell.ledger.tree import MemoryHashStore, prove_tree, tree_hash
from fusioncell.ledger.witness import (
    DEFAULT_BURST,
    MAX_BODY_SIZE,
    RateLimiter,
    Witness,
    WitnessState,
    WitnessStateError,
    create_witness_app,
)
from fusioncell.ledger.witness_cli import (
    choose_log_verifier,
    hold_state_lock,
    witness_app,
    write_key_file,
)

LOG = Ed25519Signer("example.org/cell-log", bytes(range(32)))
ORIGIN = LOG.name
IMPOSTOR = Ed25519Signer(ORIGIN, bytes(range(1, 33)))  # the log's name, another key
STRANGER = Ed25519Signer("example.org/other-log", bytes(range(2, 34)))
WITNESS = Cosigner("witness.alpha.example/w1", bytes(range(32, 64)))
NOW = 1_767_686_400


class Log:
    """A real Merkle log (tree.py) whose checkpoints the tests sign with the log key."""

    def __init__(self, size: int = 0, *, tag: bytes = b"") -> None:
        self.store = MemoryHashStore()
        self.tag = tag
        self.grow(size)

    def grow(self, count: int) -> None:
        for _ in range(count):
            self.store.append(b"entry %d" % self.store.size + self.tag)

    @property
    def size(self) -> int:
        return self.store.size

    def root(self, size: int | None = None) -> bytes:
        return tree_hash(self.size if size is None else size, self.store)

    def checkpoint(
        self, size: int | None = None, *, signer: Ed25519Signer = LOG, origin: str | None = None
    ) -> bytes:
        size = self.size if size is None else size
        text = format_checkpoint(Checkpoint(origin or signer.name, size, self.root(size)))
        return sign_note(text, [signer])

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = self.size if new is None else new
        return prove_tree(new, old, self.store) if 0 < old < new else []


def body(old: int, proof: list[bytes], note: bytes) -> bytes:
    lines = b"".join(base64.b64encode(h) + b"\n" for h in proof)
    return b"old %d\n" % old + lines + b"\n" + note


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def text_of(note: bytes) -> str:
    return parse_note(note)[0]


class Monotonic:
    """A clock for the rate limiter that moves only when the test says."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_witness(
    state_path: Path, *, limiter: RateLimiter | None = None, **kwargs: Any
) -> TestClient:
    state = WitnessState.load(state_path)
    app = create_witness_app(
        cosigner=WITNESS,
        log_verifier=LOG.verifier(),
        state=state,
        clock=lambda: NOW,
        limiter=limiter if limiter is not None else RateLimiter(clock=Monotonic()),
    )
    return TestClient(app, **kwargs)


def post(client: TestClient, old: int, proof: list[bytes], note: bytes) -> Any:
    return client.post("/add-checkpoint", content=body(old, proof, note))


def stored(state_path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(state_path.read_text())
    return data


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "witness.key.state.json"


@pytest.fixture
def witness(state_path: Path) -> Iterator[TestClient]:
    with make_witness(state_path) as client:
        yield client


def cosign(client: TestClient, log: Log, old: int) -> None:
    response = post(client, old, log.proof(old), log.checkpoint())
    assert response.status_code == 200, response.text


# --- add-checkpoint: accepted ------------------------------------------------------------------


def test_the_first_checkpoint_is_cosigned_and_the_cosignature_verifies(
    witness: TestClient,
) -> None:
    note = Log(5).checkpoint()

    response = post(witness, 0, [], note)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    line = response.text
    assert line.startswith("\u2014 witness.alpha.example/w1 ") and line.count("\n") == 1
    assert verify_cosignature_line(text_of(note), line, WITNESS.verifier()) == NOW
    # As the spec suggests, a log can append the answer to its note and open it with both keys.
    opened = open_note(note + response.content, [LOG.verifier(), WITNESS.verifier()])
    assert [s.name for s in opened.signatures] == [ORIGIN, WITNESS.name]


def test_growth_with_a_valid_consistency_proof_is_cosigned_and_persisted_after_each_request(
    witness: TestClient, state_path: Path
) -> None:
    log = Log()
    old = 0
    for size in [1, 2, 3, 7, 8, 20, 64, 65]:
        log.grow(size - log.size)
        note = log.checkpoint()

        response = post(witness, old, log.proof(old), note)

        assert response.status_code == 200, response.text
        verify_cosignature_line(text_of(note), response.text, WITNESS.verifier())
        assert stored(state_path)["logs"] == {
            ORIGIN: {"size": size, "root": b64(log.root()), "checkpoint": note.decode()}
        }
        old = size


def test_the_same_checkpoint_again_is_cosigned_again(witness: TestClient) -> None:
    log = Log(4)
    cosign(witness, log, 0)

    assert post(witness, 4, [], log.checkpoint()).status_code == 200


def test_a_new_app_on_the_same_state_file_continues_from_the_cosigned_size(
    state_path: Path,
) -> None:
    log = Log(4)
    with make_witness(state_path) as first:
        cosign(first, log, 0)
    log.grow(5)

    with make_witness(state_path) as second:
        stale = post(second, 0, [], log.checkpoint())
        assert (stale.status_code, stale.text) == (409, "4\n")
        assert post(second, 4, log.proof(4), log.checkpoint()).status_code == 200

    assert stored(state_path)["logs"][ORIGIN]["size"] == 9


def test_only_the_log_signatures_that_verify_are_kept_with_the_cosigned_checkpoint(
    witness: TestClient, state_path: Path
) -> None:
    log = Log(3)
    text = text_of(log.checkpoint())
    note = sign_note(text, [STRANGER, LOG])  # an unknown key's signature is ignored

    assert post(witness, 0, [], note).status_code == 200

    assert stored(state_path)["logs"][ORIGIN]["checkpoint"] == sign_note(text, [LOG]).decode()


# --- add-checkpoint: refused -------------------------------------------------------------------


def test_a_wrong_old_size_gets_409_with_the_cosigned_size_as_text_x_tlog_size(
    witness: TestClient, state_path: Path
) -> None:
    log = Log(5)
    never_cosigned = post(witness, 2, log.proof(2), log.checkpoint())
    assert never_cosigned.status_code == 409
    assert never_cosigned.headers["content-type"] == "text/x.tlog.size"
    assert never_cosigned.text == "0\n"

    cosign(witness, log, 0)
    log.grow(3)
    for old in [0, 3, 6]:
        response = post(witness, old, log.proof(old), log.checkpoint())
        assert response.status_code == 409
        assert response.headers["content-type"] == "text/x.tlog.size"
        assert response.text == "5\n"

    assert stored(state_path)["logs"][ORIGIN]["size"] == 5
    assert stored(state_path)["evidence"] == []  # a stale client is not a misbehaving log


def test_a_bad_consistency_proof_gets_422_and_changes_nothing_cosigned(
    witness: TestClient, state_path: Path
) -> None:
    log = Log(5)
    cosign(witness, log, 0)
    log.grow(4)
    good = log.proof(5)
    flipped = [good[0][:-1] + bytes([good[0][-1] ^ 1]), *good[1:]]
    wrong_sizes = log.proof(4)

    for proof in [flipped, wrong_sizes, good[:-1], [*good, good[0]], []]:
        assert post(witness, 5, proof, log.checkpoint()).status_code == 422

    assert stored(state_path)["logs"][ORIGIN]["size"] == 5
    assert post(witness, 5, good, log.checkpoint()).status_code == 200


def test_a_proof_is_refused_with_422_where_there_is_nothing_to_prove(
    witness: TestClient,
) -> None:
    log = Log(5)
    assert post(witness, 0, [log.root()], log.checkpoint()).status_code == 422
    cosign(witness, log, 0)
    assert post(witness, 5, [log.root()], log.checkpoint()).status_code == 422


def test_a_fork_at_the_cosigned_size_gets_409_is_logged_and_kept_as_evidence(
    witness: TestClient, state_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    honest, forked = Log(6), Log(6, tag=b" (forked)")
    cosign(witness, honest, 0)
    fork_note = forked.checkpoint()

    response = post(witness, 6, [], fork_note)

    assert response.status_code == 409
    assert response.headers["content-type"] == "text/x.tlog.size"
    assert response.text == "6\n"
    assert (
        f"refused checkpoint for {ORIGIN}: size 6 root {b64(forked.root())} conflicts with "
        f"cosigned size 6 root {b64(honest.root())}"
    ) in caplog.text
    [evidence] = stored(state_path)["evidence"]
    assert evidence == {
        "kind": "fork",
        "time": NOW,
        "origin": ORIGIN,
        "checkpoint": fork_note.decode(),
        "cosigned": {
            "size": 6,
            "root": b64(honest.root()),
            "checkpoint": honest.checkpoint().decode(),
        },
    }
    assert witness.get("/evidence").json() == [evidence]
    # Two notes the log signed, one size, two roots: the fork is provable to anyone.
    for kept in [evidence["checkpoint"], evidence["cosigned"]["checkpoint"]]:
        open_note(kept.encode(), [LOG.verifier()])
    assert stored(state_path)["logs"][ORIGIN]["root"] == b64(honest.root())


def test_a_fork_sent_with_a_stale_old_size_is_still_kept_as_evidence(
    witness: TestClient, state_path: Path
) -> None:
    honest, forked = Log(3), Log(6, tag=b" (forked)")
    cosign(witness, honest, 0)
    honest.grow(3)
    cosign(witness, honest, 3)

    response = post(witness, 3, forked.proof(3), forked.checkpoint())

    assert (response.status_code, response.text) == (409, "6\n")
    [evidence] = stored(state_path)["evidence"]
    assert (evidence["kind"], evidence["checkpoint"]) == ("fork", forked.checkpoint().decode())


def test_a_genuine_checkpoint_with_a_made_up_proof_is_refused_and_kept_as_nothing(
    witness: TestClient, state_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    honest = Log(6)
    cosign(witness, honest, 0)
    honest.grow(4)
    made_up = [os.urandom(32) for _ in honest.proof(6)]

    response = post(witness, 6, made_up, honest.checkpoint())

    assert response.status_code == 422
    assert response.text.startswith("consistency proof from size 6 to 10 does not verify")
    assert stored(state_path)["evidence"] == []  # the sender, not the log, may be lying
    assert "kept as evidence" not in caplog.text
    assert stored(state_path)["logs"][ORIGIN]["size"] == 6
    cosign(witness, honest, 6)  # the witness is not stuck: the log's own request succeeds


def test_a_flood_of_made_up_proofs_leaves_the_record_of_a_real_fork_alone(
    state_path: Path,
) -> None:
    honest, forked = Log(4), Log(4, tag=b" (forked)")
    with make_witness(state_path, limiter=RateLimiter(burst=1000, clock=Monotonic())) as witness:
        cosign(witness, honest, 0)
        assert post(witness, 4, [], forked.checkpoint()).status_code == 409
        [fork] = stored(state_path)["evidence"]

        for _ in range(101):  # 101 genuine checkpoints, each with a random proof
            honest.grow(1)
            made_up = [os.urandom(32) for _ in honest.proof(4)]
            assert post(witness, 4, made_up, honest.checkpoint()).status_code == 422

        assert witness.get("/evidence").json() == [fork]
    assert stored(state_path)["evidence"] == [fork]


def test_every_fork_is_kept_for_good_and_each_pair_once(state_path: Path) -> None:
    honest = Log(4)
    forks = [Log(4, tag=b" fork %d" % i) for i in range(120)]
    with make_witness(state_path, limiter=RateLimiter(burst=1000, clock=Monotonic())) as witness:
        cosign(witness, honest, 0)
        for fork in forks:
            assert post(witness, 4, [], fork.checkpoint()).status_code == 409
        # The same pair again: sent as is, with a stale old size and a proof, or signed twice.
        again = forks[0].checkpoint()
        twice = sign_note(text_of(again), [LOG, STRANGER])
        for old, proof, note in [(4, [], again), (0, [], again), (2, [honest.root(2)], twice)]:
            assert post(witness, old, proof, note).status_code == 409

        kept = [e["checkpoint"] for e in witness.get("/evidence").json()]

    assert kept == [fork.checkpoint().decode() for fork in forks]  # none evicted, none twice
    assert [e["checkpoint"] for e in stored(state_path)["evidence"]] == kept
    assert [e["checkpoint"] for e in WitnessState.load(state_path).evidence] == kept


def test_a_version_1_state_file_keeps_its_forks_and_drops_what_proved_nothing(
    state_path: Path,
) -> None:
    honest, forked, other = Log(4), Log(4, tag=b" (forked)"), Log(9, tag=b" (other)")
    cosigned = {"size": 4, "root": b64(honest.root()), "checkpoint": honest.checkpoint().decode()}
    fork = {
        "kind": "fork",
        "time": NOW,
        "origin": ORIGIN,
        "old": 4,
        "proof": [],
        "checkpoint": forked.checkpoint().decode(),
        "cosigned": cosigned,
    }
    inconsistent = {**fork, "kind": "inconsistent", "checkpoint": other.checkpoint().decode()}
    state_path.write_text(
        json.dumps(
            {
                "version": 1,
                "log_key": LOG.verifier().key_string(),
                "logs": {ORIGIN: cosigned},
                "evidence": [inconsistent, fork],
            }
        )
    )

    with make_witness(state_path) as witness:
        assert witness.get("/evidence").json() == [fork]
        assert post(witness, 4, [], forked.checkpoint()).status_code == 409  # known: kept once
        honest.grow(1)
        cosign(witness, honest, 4)

    assert stored(state_path)["version"] == 2
    assert stored(state_path)["evidence"] == [fork]


def test_a_checkpoint_signed_by_another_key_gets_403(witness: TestClient, state_path: Path) -> None:
    log = Log(5)
    forged = log.checkpoint(signer=IMPOSTOR)
    good = log.checkpoint()
    tampered = good[:-10] + (b"A" if good[-10:-9] != b"A" else b"B") + good[-9:]

    assert post(witness, 0, [], forged).status_code == 403
    assert post(witness, 0, [], tampered).status_code == 403
    assert not state_path.exists()


def test_a_checkpoint_for_another_origin_gets_404(witness: TestClient, state_path: Path) -> None:
    log = Log(5)

    assert post(witness, 0, [], log.checkpoint(signer=STRANGER)).status_code == 404
    assert post(witness, 0, [], log.checkpoint(origin="example.org/other-log")).status_code == 404
    assert not state_path.exists()


def _malformed_bodies() -> list[Any]:
    log = Log(5)
    note = log.checkpoint()
    hash_line = b64(log.root()).encode()
    non_canonical = b"A" * 42 + b"B="  # the same 32 zero bytes, with padding bits set
    not_a_checkpoint = sign_note(f"{ORIGIN}\nfive\n{b64(log.root())}\n", [LOG])
    cases = {
        "empty": b"",
        "no empty line": b"old 0\n" + note.replace(b"\n\n", b"\n"),
        "two empty lines": b"old 0\n\n\n" + note,
        "capital Old": b"Old 0\n\n" + note,
        "leading zero": b"old 05\n\n" + note,
        "negative": b"old -1\n\n" + note,
        "two spaces": b"old  0\n\n" + note,
        "trailing space": b"old 0 \n\n" + note,
        "beyond int64": b"old 9223372036854775808\n\n" + note,
        "CRLF": b"old 0\r\n\r\n" + note,
        "proof not base64": b"old 2\nnot base64!\n\n" + note,
        "proof not canonical": b"old 2\n" + non_canonical + b"\n\n" + note,
        "proof hash too short": b"old 2\n" + b64(bytes(31)).encode() + b"\n\n" + note,
        "64 proof lines": b"old 2\n" + (hash_line + b"\n") * 64 + b"\n" + note,
        "note not UTF-8": b"old 0\n\n\xff" + note,
        "non-ASCII digit": "old \u0661\n\n".encode() + note,
        "note without signatures": b"old 0\n\n" + text_of(note).encode(),
        "signed note not a checkpoint": b"old 0\n\n" + not_a_checkpoint,
        "old above the checkpoint size": b"old 6\n\n" + note,
    }
    return [pytest.param(content, id=name) for name, content in cases.items()]


@pytest.mark.parametrize("content", _malformed_bodies())
def test_malformed_bodies_get_400(witness: TestClient, state_path: Path, content: bytes) -> None:
    response = witness.post("/add-checkpoint", content=content)

    assert response.status_code == 400
    assert not state_path.exists()


def test_an_oversized_body_gets_413_whether_announced_or_streamed(witness: TestClient) -> None:
    content = body(0, [], Log(5).checkpoint()) + b"x" * MAX_BODY_SIZE

    def chunks() -> Iterator[bytes]:  # sent chunked, with no Content-Length
        yield content[:1000]
        yield content[1000:]

    assert witness.post("/add-checkpoint", content=content).status_code == 413
    assert witness.post("/add-checkpoint", content=chunks()).status_code == 413


def test_a_streamed_body_within_the_limit_is_read_whole(witness: TestClient) -> None:
    content = body(0, [], Log(5).checkpoint())

    def chunks() -> Iterator[bytes]:
        yield content[:10]
        yield content[10:]

    assert witness.post("/add-checkpoint", content=chunks()).status_code == 200


# --- durability and concurrency ----------------------------------------------------------------


def test_the_state_file_is_written_to_a_temporary_file_fsynced_renamed_then_the_directory_fsynced(
    witness: TestClient, state_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        events.append(("replace", f"{src} -> {dst}"))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)

    cosign(witness, Log(3), 0)

    [(_, written), (_, renamed), (_, directory)] = events
    assert [e[0] for e in events] == ["fsync", "replace", "fsync"]
    assert Path(written).parent == state_path.parent and written != str(state_path)
    assert renamed == f"{written} -> {state_path}"
    assert directory == str(state_path.parent)
    assert sorted(p.name for p in state_path.parent.iterdir()) == [state_path.name]


def test_a_checkpoint_that_cannot_be_persisted_is_not_cosigned(
    state_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = Log(3)
    with make_witness(state_path, raise_server_exceptions=False) as witness:
        cosign(witness, log, 0)
        before = state_path.read_bytes()
        log.grow(2)

        def full_disk(src: str, dst: str) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "replace", full_disk)
        assert post(witness, 3, log.proof(3), log.checkpoint()).status_code == 500
        monkeypatch.undo()

        assert state_path.read_bytes() == before
        assert sorted(p.name for p in state_path.parent.iterdir()) == [state_path.name]
        assert post(witness, 3, log.proof(3), log.checkpoint()).status_code == 200


def test_a_refusal_stands_when_its_evidence_cannot_be_written(
    witness: TestClient,
    state_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cosign(witness, Log(4), 0)

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    response = post(witness, 4, [], Log(4, tag=b" (forked)").checkpoint())

    assert (response.status_code, response.text) == (409, "4\n")
    assert "could not write evidence" in caplog.text
    assert stored(state_path)["evidence"] == []


def test_concurrent_requests_from_the_same_old_size_advance_it_only_once(
    state_path: Path,
) -> None:
    log = Log(4)
    state = WitnessState.load(state_path)
    witness = Witness(cosigner=WITNESS, log_verifier=LOG.verifier(), state=state, clock=lambda: NOW)
    witness.add_checkpoint(body(0, [], log.checkpoint()))
    log.grow(8)
    requests = [body(4, log.proof(4, size), log.checkpoint(size)) for size in range(5, 13)]
    start = threading.Barrier(len(requests))
    outcomes: list[int] = []

    def submit(content: bytes) -> None:
        start.wait()
        try:
            witness.add_checkpoint(content)
            outcomes.append(200)
        except Exception as refusal:
            outcomes.append(getattr(refusal, "status", 500))

    threads = [threading.Thread(target=submit, args=(content,)) for content in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [200] + [409] * (len(requests) - 1)
    cosigned = stored(state_path)["logs"][ORIGIN]
    assert cosigned["root"] == b64(log.root(cosigned["size"]))


def test_a_corrupt_state_file_is_refused_rather_than_started_empty(state_path: Path) -> None:
    good: dict[str, Any] = {"version": 2, "log_key": None, "logs": {}, "evidence": []}
    root = b64(Log(1).root())

    def logged(size: Any = 1, root: Any = root, checkpoint: Any = "") -> dict[str, Any]:
        return {**good, "logs": {ORIGIN: {"size": size, "root": root, "checkpoint": checkpoint}}}

    honest, forked = Log(2), Log(2, tag=b" (forked)")
    cosigned = {"size": 2, "root": b64(honest.root()), "checkpoint": honest.checkpoint().decode()}
    fork = {"kind": "fork", "checkpoint": forked.checkpoint().decode(), "cosigned": cosigned}
    not_a_fork = {**fork, "checkpoint": honest.checkpoint().decode()}
    other_size = {**fork, "checkpoint": Log(3, tag=b" (forked)").checkpoint().decode()}
    state_path.write_text(json.dumps({**good, "evidence": [fork]}))
    assert WitnessState.load(state_path).evidence == [fork]  # the evidence template is sound

    corrupt = [
        {**good, "version": 3},
        {**good, "evidence": [{**fork, "kind": "inconsistent"}]},
        {**good, "evidence": [{**fork, "checkpoint": 5}]},
        {**good, "evidence": [{**fork, "checkpoint": "not a note"}]},
        {**good, "evidence": [not_a_fork]},
        {**good, "evidence": [other_size]},
        {**good, "evidence": [{"kind": "fork"}]},
        {**good, "log_key": 5},
        {**good, "evidence": {}},
        {key: value for key, value in good.items() if key != "logs"},
        logged(root="AAAA"),
        logged(size=-1),
        logged(size=True),
        logged(checkpoint=5),
        [],
    ]
    state_path.write_text(json.dumps(logged()))  # the template itself is sound
    assert WitnessState.load(state_path).latest(ORIGIN) is not None
    for content in ["{", *(json.dumps(c) for c in corrupt)]:
        state_path.write_text(content)
        with pytest.raises(WitnessStateError, match="state file"):
            WitnessState.load(state_path)
    state_path.unlink()
    state_path.mkdir()
    with pytest.raises(WitnessStateError, match="cannot read state file"):
        WitnessState.load(state_path)


# --- the other routes --------------------------------------------------------------------------


def test_the_witness_serves_its_verifier_key_its_health_and_its_evidence(
    witness: TestClient,
) -> None:
    key = witness.get("/")
    assert key.text == WITNESS.verifier().key_string() + "\n"
    assert CosignatureVerifier.from_key_string(key.text.strip()).key_id == WITNESS.key_id
    assert witness.get("/healthz").text == "ok\n"
    assert witness.get("/evidence").json() == []
    assert witness.get("/add-checkpoint").status_code == 405


# --- pacing ----------------------------------------------------------------------------------


def test_add_checkpoint_is_paced_per_source_address_with_429_and_retry_after(
    state_path: Path,
) -> None:
    clock = Monotonic()
    app = create_witness_app(
        cosigner=WITNESS,
        log_verifier=LOG.verifier(),
        state=WitnessState.load(state_path),
        clock=lambda: NOW,
        limiter=RateLimiter(rate=2, burst=3, clock=clock),
    )
    note = Log(3).checkpoint()
    with (
        TestClient(app, client=("192.0.2.1", 40000)) as flood,
        TestClient(app, client=("192.0.2.2", 40000)) as other,
    ):
        assert [post(flood, 0, [], note).status_code for _ in range(3)] == [200, 409, 409]
        before = state_path.read_bytes()

        refused = post(flood, 3, [], note)

        assert (refused.status_code, refused.headers["retry-after"]) == (429, "1")
        assert refused.text == "too many requests from this address\n"
        assert state_path.read_bytes() == before
        assert post(other, 3, [], note).status_code == 200  # another address has its own
        assert flood.get("/evidence").status_code == 200  # reading is not paced
        clock.now += 0.5  # half a second at 2 a second: one more request
        assert post(flood, 3, [], note).status_code == 200
        assert post(flood, 3, [], note).status_code == 429


def test_the_default_pace_never_refuses_a_log_pushing_every_second() -> None:
    clock = Monotonic()
    limiter = RateLimiter(clock=clock)
    log = "198.51.100.10"

    # Woken by a burst of FLASH messages: a push for each, each retried once after a 409.
    assert [limiter.take(log) for _ in range(DEFAULT_BURST)] == [0] * DEFAULT_BURST
    for _ in range(600):  # then ten minutes of a push a second, each retried once
        clock.now += 1
        assert (limiter.take(log), limiter.take(log)) == (0, 0)


def test_a_limiter_forgets_the_longest_idle_address_first() -> None:
    clock = Monotonic()
    limiter = RateLimiter(rate=1, burst=1, clock=clock, max_sources=2)
    assert [limiter.take(a) for a in ["a", "b", "a", "c"]] == [0, 0, 1, 0]
    # "b" was idle longest and is forgotten; "a" is still remembered and still waits.
    assert (limiter.take("a"), limiter.take("b")) == (1, 0)


@pytest.mark.parametrize("option", [["--rate", "0"], ["--burst", "0"]])
def test_serve_refuses_a_pace_that_admits_nothing_in_one_line(
    tmp_path: Path, option: list[str]
) -> None:
    args = ["serve", "--log-url", "http://127.0.0.1:9", "--key", str(tmp_path / "k")]
    result = CliRunner().invoke(witness_app, [*args, "--port", "1", *option])

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "the rate must be above 0" in result.stderr


# --- the command line --------------------------------------------------------------------------


@contextmanager
def log_key_server(offer: dict[str, Any]) -> Iterator[str]:
    """A real HTTP server answering GET /api/v1/log/key with whatever ``offer`` holds now."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/api/v1/log/key":
                self.send_error(404)
                return
            content = json.dumps(offer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def offer_of(signer: Ed25519Signer) -> dict[str, Any]:
    return {"verifier_key": signer.verifier().key_string(), "origin": signer.name}


def test_keygen_writes_a_0600_key_file_and_prints_the_verifier_key(tmp_path: Path) -> None:
    key = tmp_path / "witness.key"

    result = CliRunner().invoke(
        witness_app, ["keygen", "--name", "witness.bravo.example/w1", "--out", str(key)]
    )

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    cosigner = Cosigner.from_key_string(key.read_text().strip())
    assert result.stdout == cosigner.verifier().key_string() + "\n"
    assert (
        CosignatureVerifier.from_key_string(result.stdout.strip()).name
        == "witness.bravo.example/w1"
    )


def test_keygen_refuses_to_overwrite_a_key_file(tmp_path: Path) -> None:
    key = tmp_path / "witness.key"
    key.write_text("precious\n")

    result = CliRunner().invoke(witness_app, ["keygen", "--name", "w", "--out", str(key)])

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "not overwriting" in result.stderr
    assert key.read_text() == "precious\n"


def test_keygen_refuses_an_invalid_key_name(tmp_path: Path) -> None:
    key = tmp_path / "witness.key"

    result = CliRunner().invoke(witness_app, ["keygen", "--name", "two words", "--out", str(key)])

    assert result.exit_code == 1
    assert "invalid key name 'two words'" in result.stderr
    assert not key.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read key file"), (b"PRIVATE+KEY+nonsense\n", "does not hold a witness key")],
)
def test_serve_reports_a_missing_or_unusable_key_file_in_one_line(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    key = tmp_path / "witness.key"
    if content is not None:
        key.write_bytes(content)
        key.chmod(0o600)

    result = CliRunner().invoke(
        witness_app,
        ["serve", "--log-url", "http://127.0.0.1:9", "--key", str(key), "--port", "1"],
    )

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_keygen_and_serve_report_missing_directories_in_one_line(tmp_path: Path) -> None:
    key = tmp_path / "witness.key"
    write_key_file(key, "witness.alpha.example/w1")
    nowhere = tmp_path / "no such directory"

    keygen = CliRunner().invoke(
        witness_app, ["keygen", "--name", "w", "--out", str(nowhere / "witness.key")]
    )
    state = str(nowhere / "state.json")
    serve = CliRunner().invoke(
        witness_app,
        [
            "serve",
            "--log-url",
            "http://127.0.0.1:9",
            "--key",
            str(key),
            "--port",
            "1",
            "--state",
            state,
        ],
    )

    assert keygen.exit_code == 1 and "cannot create" in keygen.stderr
    assert serve.exit_code == 1 and "cannot open" in serve.stderr


def test_serve_reports_a_state_file_it_cannot_write_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "witness.key"
    write_key_file(key, "witness.alpha.example/w1")

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device", src)

    monkeypatch.setattr(os, "replace", full_disk)
    with log_key_server(offer_of(LOG)) as log_url:
        result = CliRunner().invoke(
            witness_app, ["serve", "--log-url", log_url, "--key", str(key), "--port", "1"]
        )

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "No space left on device" in result.stderr


def test_serve_refuses_a_key_file_readable_by_group_or_others(tmp_path: Path) -> None:
    key = tmp_path / "witness.key"
    write_key_file(key, "witness.alpha.example/w1")
    key.chmod(0o640)

    result = CliRunner().invoke(
        witness_app,
        ["serve", "--log-url", "http://127.0.0.1:9", "--key", str(key), "--port", "1"],
    )

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "open to group or others (mode 0640)" in result.stderr
    assert not (tmp_path / "witness.key.state.json").exists()


def test_serve_refuses_a_log_that_now_offers_another_key_than_the_one_pinned(
    tmp_path: Path,
) -> None:
    key = tmp_path / "witness.key"
    write_key_file(key, "witness.alpha.example/w1")
    WitnessState.load(tmp_path / "witness.key.state.json").pin_log_key(LOG.verifier().key_string())

    with log_key_server(offer_of(IMPOSTOR)) as log_url:
        result = CliRunner().invoke(
            witness_app, ["serve", "--log-url", log_url, "--key", str(key), "--port", "1"]
        )

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert f"offers log key {IMPOSTOR.verifier().key_string()}" in result.stderr
    assert f"pins {LOG.verifier().key_string()}" in result.stderr


def test_serve_refuses_a_second_witness_on_the_same_state_file(tmp_path: Path) -> None:
    key = tmp_path / "witness.key"
    write_key_file(key, "witness.alpha.example/w1")

    with hold_state_lock(tmp_path / "witness.key.state.json"):
        result = CliRunner().invoke(
            witness_app,
            ["serve", "--log-url", "http://127.0.0.1:9", "--key", str(key), "--port", "1"],
        )

    assert result.exit_code == 1
    assert "another witness is using" in result.stderr


def test_the_log_key_is_trusted_on_first_use_and_then_held_to(tmp_path: Path) -> None:
    state = WitnessState.load(tmp_path / "state.json")
    offer: dict[str, Any] = offer_of(LOG)
    with log_key_server(offer) as log_url:
        assert choose_log_verifier(state, log_url=log_url, log_key=None).key_id == LOG.key_id
        assert WitnessState.load(state.path).log_key == LOG.verifier().key_string()

        offer.update(offer_of(IMPOSTOR))
        with pytest.raises(Exception, match="refusing to start"):
            choose_log_verifier(state, log_url=log_url, log_key=None)
        with pytest.raises(Exception, match="refusing to start"):
            choose_log_verifier(state, log_url=log_url, log_key=IMPOSTOR.verifier().key_string())

        fresh = WitnessState(tmp_path / "new.json")
        offer.update(origin="example.org/not-the-key-name")
        with pytest.raises(Exception, match="gives origin"):
            choose_log_verifier(fresh, log_url=log_url, log_key=None)
        offer.update(verifier_key=5)
        with pytest.raises(Exception, match="does not give a log key string"):
            choose_log_verifier(fresh, log_url=log_url, log_key=None)
        offer.update(verifier_key="example.org/cell-log+00000000+AQ==")
        with pytest.raises(Exception, match="does not give a usable log key"):
            choose_log_verifier(fresh, log_url=log_url, log_key=None)
        offer.clear()
        with pytest.raises(Exception, match="did not answer with the log key JSON"):
            choose_log_verifier(fresh, log_url=log_url, log_key=None)
        with pytest.raises(Exception, match="cannot fetch the log key"):
            choose_log_verifier(fresh, log_url=log_url + "/elsewhere", log_key=None)
        assert fresh.log_key is None and not fresh.path.exists()

    # --log-key pins without asking the log, and must agree with the pin afterwards.
    explicit = WitnessState.load(tmp_path / "explicit.json")
    nowhere = "http://127.0.0.1:9"
    vkey = LOG.verifier().key_string()
    assert choose_log_verifier(explicit, log_url=nowhere, log_key=vkey).key_id == LOG.key_id
    assert choose_log_verifier(explicit, log_url=nowhere, log_key=vkey).key_id == LOG.key_id
    assert WitnessState.load(explicit.path).log_key == vkey

    # The log being down does not stop a witness that already pinned its key.
    down = "http://127.0.0.1:9"
    assert choose_log_verifier(state, log_url=down, log_key=None).key_id == LOG.key_id
    with pytest.raises(Exception, match="cannot fetch the log key"):
        choose_log_verifier(WitnessState(tmp_path / "new.json"), log_url=down, log_key=None)


def test_the_serve_command_answers_add_checkpoint_over_real_http(tmp_path: Path) -> None:
    key = tmp_path / "witness.key"
    vkey = write_key_file(key, "witness.alpha.example/w1")
    port = free_port()
    stderr = tmp_path / "serve.stderr"
    launch = "from fusioncell.ledger.witness_cli import witness_app; witness_app()"
    log = Log(7)

    with log_key_server(offer_of(LOG)) as log_url, stderr.open("wb") as errors:
        args = ["serve", "--log-url", log_url, "--key", str(key), "--port", str(port)]
        args += ["--rate", "0.01", "--burst", "1"]  # one request, then one per 100 s
        process = subprocess.Popen([sys.executable, "-c", launch, *args], stderr=errors)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, stderr.read_text()
                assert time.monotonic() < deadline, stderr.read_text()
                time.sleep(0.05)  # waiting for the subprocess to come up

            assert httpx.get(f"{base}/").text == vkey + "\n"
            response = httpx.post(f"{base}/add-checkpoint", content=body(0, [], log.checkpoint()))
            paced = httpx.post(f"{base}/add-checkpoint", content=body(0, [], log.checkpoint()))
        finally:
            process.terminate()
            process.wait(timeout=30)

    assert response.status_code == 200, stderr.read_text()
    assert (paced.status_code, paced.headers["retry-after"]) == (429, "100")
    verifier = CosignatureVerifier.from_key_string(vkey)
    verify_cosignature_line(text_of(log.checkpoint()), response.text, verifier)
    state = stored(tmp_path / "witness.key.state.json")
    assert state["log_key"] == LOG.verifier().key_string()
    assert state["logs"][ORIGIN]["size"] == 7
    assert "cosigned checkpoint for example.org/cell-log at size 7" in stderr.read_text()


def test_refusals_are_logged_in_one_line_each(
    witness: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fusioncell.ledger.witness")
    log = Log(2)
    post(witness, 0, [], log.checkpoint(signer=IMPOSTOR))
    post(witness, 1, [], log.checkpoint())

    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and all("\n" not in m for m in messages)
    assert messages[0].startswith(f"refused checkpoint for {ORIGIN}: checkpoint for {ORIGIN} not")
    assert messages[1] == f"refused checkpoint for {ORIGIN}: old size 1 is not the cosigned size 0"
