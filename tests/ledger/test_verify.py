"""``fusioncell verify``: a real log verifies, from its database and over HTTP, and a byte
changed anywhere is caught at the first entry it touches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.helpers.verifying import fusioncell_verify, scalar, sql, verify_database
from tests.servers import serve_in_thread
from typer.testing import CliRunner

from fusioncell.bootstrap import STATE_CHECKS
from fusioncell.cell.actions.account import do_set_language
from fusioncell.cell.entries import CellEntry
from fusioncell.cell.policy import Viewer
from fusioncell.client import CellClient
from fusioncell.clock import ManualClock
from fusioncell.ledger import tree
from fusioncell.ledger.actions import do_keep_cosignature
from fusioncell.ledger.checkpoint import Checkpoint, Cosigner, cosignature_line, format_checkpoint
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.entries import LedgerEntry, b64, canonical, key_id, leaf_data
from fusioncell.ledger.note import Ed25519Signer, Ed25519Verifier, sign_note
from fusioncell.ledger.signing import prove_possession, sign_entry
from fusioncell.ledger.tiles import TILE_WIDTH
from fusioncell.ledger.verify import (
    HttpSource,
    SourceEntry,
    StoredBody,
    VerifyReport,
    verify_log,
)
from fusioncell.ledger.verify_cli import verify_command

BASE = "http://testserver"
# The identity point (y = 1): a small-order key that verifies forged signatures in some libraries.
SMALL_ORDER = bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000000")


def log_key(ledger: LedgerContext) -> Ed25519Verifier:
    return ledger.keyring.log_signer.verifier()


def over_http(client: TestClient, ledger: LedgerContext) -> VerifyReport:
    return verify_log(HttpSource(BASE, client), log_key=log_key(ledger))


def flipped(value: bytes, at: int) -> bytes:
    return value[:at] + bytes([value[at] ^ 0x01]) + value[at + 1 :]


@pytest.fixture
def signed(demo: None, app: FastAPI) -> int:
    """The demo log with a checkpoint of all of it; its size."""
    app.state.checkpointer.run_once()
    size = scalar(app.state.engine, "SELECT max(size) FROM log_checkpoints")
    assert size == scalar(app.state.engine, "SELECT count(*) FROM log_entries")
    return int(size)


@pytest.fixture
def party(app: FastAPI) -> TestClient:
    """A party's HTTP client. The app's lifespan does not run, so no background checkpointer
    signs a new checkpoint while a test looks at the one it made."""
    return TestClient(app, base_url=BASE)


# --- a real log verifies -----------------------------------------------------------------------


def test_the_demo_log_verifies_from_its_database_with_every_body(
    signed: int, engine: Engine, ledger: LedgerContext
) -> None:
    report = verify_database(engine, ledger)

    assert report.ok, report.summary()
    assert (report.size, report.entries_checked, report.bodies_checked) == (signed, signed, signed)
    assert report.failed_index is None and report.reason is None
    assert report.summary().startswith(f"OK: checkpoint {signed} (root ")
    assert report.summary().endswith(f"; {signed} entries and {signed} bodies verified")


def test_the_demo_log_verifies_over_http_from_its_public_endpoints_alone(
    signed: int, party: TestClient, ledger: LedgerContext
) -> None:
    report = over_http(party, ledger)

    assert report.ok, report.summary()
    assert (report.size, report.entries_checked, report.bodies_checked) == (signed, signed, 0)


def test_a_log_of_several_entry_bundles_verifies_and_entries_after_the_checkpoint_are_checked(
    signed: int,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    app: FastAPI,
    party: TestClient,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    liaison = member("alpha.liaison")
    while scalar(engine, "SELECT count(*) FROM log_entries") < TILE_WIDTH + 3:
        clock.advance(1)
        do_set_language(db, liaison, language="ar", now=clock.now())
        do_set_language(db, liaison, language="en", now=clock.now())
    app.state.checkpointer.run_once()
    do_set_language(db, liaison, language="he", now=clock.now())  # beyond the checkpoint
    size = scalar(engine, "SELECT max(size) FROM log_checkpoints")

    over_the_wire = over_http(party, ledger)
    in_pages = verify_database(engine, ledger, page_size=7)

    assert size > TILE_WIDTH
    assert over_the_wire.ok and over_the_wire.entries_checked == size, over_the_wire.summary()
    assert in_pages.ok, in_pages.summary()
    assert in_pages.entries_checked == in_pages.bodies_checked == size + 1


def test_keys_enrolled_rotated_and_revoked_by_their_owner_verify_with_the_key_table(
    signed: int,
    client: TestClient,
    token_for: Callable[[str], dict[str, str]],
    clock: ManualClock,
    app: FastAPI,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    api = CellClient(BASE, http=client, now=clock.now)
    api.token = token_for("alpha.liaison")["Authorization"].removeprefix("Bearer ")
    old = Ed25519PrivateKey.generate()
    api.enroll(old)
    new = Ed25519PrivateKey.generate()
    member_id = api.get("/api/v1/me")["id"]
    old_id, new_public = (
        key_id(old.public_key().public_bytes_raw()),
        new.public_key().public_bytes_raw(),
    )
    key = {"id": key_id(new_public), "member": member_id, "public": b64(new_public)}
    key |= {"replaces": old_id, "possession": prove_possession(new, key)}
    api.signed(
        "POST",
        f"/api/v1/keys/{old_id}/rotate",
        old,
        entry_type=LedgerEntry.KEY_ROTATED.value,
        body={"member": member_id, "key": key["id"], "replaces": old_id},
        json={"public_key": b64(new_public), "possession": key["possession"]},
        key=key,
    )
    revoked = client.post(
        f"/api/v1/keys/{key['id']}/revoke", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert revoked.status_code == 200, revoked.text
    app.state.checkpointer.run_once()

    assert verify_database(engine, ledger).ok
    assert over_http(client, ledger).ok

    rotation = scalar(engine, "SELECT enrolled_index FROM log_keys WHERE key_id = :k", k=key["id"])
    sql(engine, "UPDATE log_keys SET revoked_index = NULL WHERE key_id = :k", k=key["id"])
    report = verify_database(engine, ledger)
    assert not report.ok
    assert report.failed_index == rotation
    assert report.reason == (
        f"log_keys has another revoked_index for the key {key['id']} enrolled here"
    )


def test_witness_cosignatures_count_towards_the_quorum_and_a_bad_one_is_caught(
    signed: int, db: Session, clock: ManualClock, engine: Engine, ledger: LedgerContext
) -> None:
    alpha = Cosigner("witness.alpha.example/w1", bytes(range(32, 64)))
    bravo = Cosigner("witness.bravo.example/w1", bytes(range(64, 96)))
    note = scalar(engine, "SELECT note FROM log_checkpoints WHERE size = :s", s=signed)
    checkpoint_text = note.partition("\n\n")[0] + "\n"
    line = cosignature_line(checkpoint_text, alpha, int(clock.now().timestamp()))
    do_keep_cosignature(db, size=signed, witness=alpha.verifier(), line=line, now=clock.now())
    both = [alpha.verifier(), bravo.verifier()]

    cosigned = verify_database(engine, ledger, witnesses=[alpha.verifier()])
    all_needed = verify_database(engine, ledger, witnesses=both)
    one_needed = verify_database(engine, ledger, witnesses=both, quorum=1)

    assert cosigned.ok and cosigned.cosigners == (alpha.name,), cosigned.summary()
    assert f", cosigned by {alpha.name};" in cosigned.summary()
    assert not all_needed.ok and all_needed.failed_index is None
    assert all_needed.reason == "the checkpoint is cosigned by 1 of the 2 witnesses; 2 needed"
    assert one_needed.ok

    elsewhere = format_checkpoint(Checkpoint(ledger.keyring.origin, signed, bytes(32)))
    forged = cosignature_line(elsewhere, alpha, int(clock.now().timestamp()))
    sql(engine, "UPDATE log_cosignatures SET line = :l", l=forged.rstrip("\n"))
    caught = verify_database(engine, ledger, witnesses=[alpha.verifier()])
    assert not caught.ok
    assert caught.reason is not None and "cosignature does not verify" in caught.reason


# --- a byte changed anywhere is caught ----------------------------------------------------------


def test_a_changed_byte_of_a_stored_body_fails_its_body_hash(
    signed: int, engine: Engine, ledger: LedgerContext
) -> None:
    target = signed // 2
    body = scalar(engine, "SELECT body FROM log_bodies WHERE entry_index = :i", i=target)
    at = body.rindex('"', 0, len(body) - 1) - 1  # inside the last string
    changed = body[:at] + chr(ord(body[at]) ^ 0x01) + body[at + 1 :]
    sql(engine, "UPDATE log_bodies SET body = :b WHERE entry_index = :i", b=changed, i=target)

    report = verify_database(engine, ledger)

    assert (report.ok, report.failed_index) == (False, target)
    assert report.reason == "the stored body and salt do not hash to the header's body hash"
    assert report.summary() == f"FAILED at entry {target}: {report.reason}"
    assert report.entries_checked == target


def test_a_body_respelled_in_non_canonical_json_is_caught(
    signed: int, engine: Engine, ledger: LedgerContext
) -> None:
    sql(engine, "UPDATE log_bodies SET body = replace(body, ',', ', ') WHERE entry_index = 3")

    report = verify_database(engine, ledger)

    assert (report.failed_index, report.reason) == (
        3,
        "the stored body is not in canonical JSON (RFC 8785)",
    )


def test_a_changed_byte_of_a_salt_fails_the_body_hash(
    signed: int, engine: Engine, ledger: LedgerContext
) -> None:
    salt = scalar(engine, "SELECT salt FROM log_bodies WHERE entry_index = 8")
    sql(engine, "UPDATE log_bodies SET salt = :s WHERE entry_index = 8", s=flipped(salt, 31))

    report = verify_database(engine, ledger)

    assert (report.failed_index, report.reason) == (
        8,
        "the stored body and salt do not hash to the header's body hash",
    )


@pytest.mark.parametrize("source", ["database", "http"])
def test_a_changed_byte_of_a_leaf_misses_the_root_and_names_the_leaf(
    source: str, signed: int, engine: Engine, party: TestClient, ledger: LedgerContext
) -> None:
    target = signed - 5
    leaf = scalar(engine, 'SELECT leaf FROM log_entries WHERE "index" = :i', i=target)
    at = leaf.index(b'"author":"') + len(b'"author":"')  # the signing key's id
    sql(
        engine, 'UPDATE log_entries SET leaf = :l WHERE "index" = :i', l=flipped(leaf, at), i=target
    )

    report = verify_database(engine, ledger) if source == "database" else over_http(party, ledger)

    assert (report.ok, report.failed_index) == (False, target)
    assert report.reason is not None
    assert report.reason.endswith(f"the first {signed} leaves do not hash to the checkpoint's root")


def test_a_leaf_with_another_log_time_is_caught_by_the_root_even_with_nothing_else_wrong(
    signed: int, engine: Engine, party: TestClient, ledger: LedgerContext
) -> None:
    last = signed - 1
    leaf = scalar(engine, 'SELECT leaf FROM log_entries WHERE "index" = :i', i=last)
    at = leaf.index(b'Z"', leaf.index(b'"logged_at":"')) - 1  # a millisecond later
    sql(engine, 'UPDATE log_entries SET leaf = :l WHERE "index" = :i', l=flipped(leaf, at), i=last)

    located = verify_database(engine, ledger)
    served = over_http(party, ledger)

    assert (located.failed_index, located.reason) == (
        last,
        f"the leaf differs from its stored hash, and the first {signed} leaves do not hash to "
        "the checkpoint's root",
    )
    assert (served.ok, served.failed_index) == (False, None)
    assert served.reason == f"the first {signed} leaves do not hash to the checkpoint's root"


@pytest.mark.parametrize("column", ["signature", "leaf_hash"])
def test_a_changed_byte_of_a_derived_column_is_caught_at_its_entry(
    column: str, signed: int, engine: Engine, ledger: LedgerContext
) -> None:
    value = scalar(engine, f'SELECT {column} FROM log_entries WHERE "index" = 12')
    sql(engine, f'UPDATE log_entries SET {column} = :v WHERE "index" = 12', v=flipped(value, 0))

    report = verify_database(engine, ledger)

    assert (report.failed_index, report.reason) == (
        12,
        f"log_entries.{column} does not match the leaf",
    )


def test_a_changed_byte_of_a_stored_tree_hash_is_caught_at_the_entry_that_stored_it(
    signed: int, engine: Engine, ledger: LedgerContext
) -> None:
    position = tree.stored_hash_index(3, 1)  # the subtree of entries 8..15, stored by entry 15
    value = scalar(engine, 'SELECT hash FROM log_hashes WHERE "index" = :p', p=position)
    sql(
        engine,
        'UPDATE log_hashes SET hash = :h WHERE "index" = :p',
        h=flipped(value, 7),
        p=position,
    )

    report = verify_database(engine, ledger)

    assert (report.failed_index, report.reason) == (
        15,
        f"the stored hash {position} (level 3) differs from the hash of the leaves",
    )


def test_a_changed_byte_of_a_public_key_in_the_key_table_is_caught_at_its_enrolment(
    signed: int, engine: Engine, ledger: LedgerContext
) -> None:
    key, enrolled, public = sql(
        engine, "SELECT key_id, enrolled_index, public_key FROM log_keys"
    ).all()[3]
    sql(
        engine, "UPDATE log_keys SET public_key = :p WHERE key_id = :k", p=flipped(public, 9), k=key
    )

    report = verify_database(engine, ledger)

    assert (report.failed_index, report.reason) == (
        enrolled,
        f"log_keys has another public_key for the key {key} enrolled here",
    )


@pytest.mark.parametrize("source", ["database", "http"])
def test_deleting_the_last_entry_is_caught_as_a_missing_entry(
    source: str, signed: int, engine: Engine, party: TestClient, ledger: LedgerContext
) -> None:
    last = signed - 1
    for table in ("log_audiences", "log_bodies"):
        sql(engine, f"DELETE FROM {table} WHERE entry_index = :i", i=last)
    sql(engine, 'DELETE FROM log_entries WHERE "index" = :i', i=last)

    report = verify_database(engine, ledger) if source == "database" else over_http(party, ledger)

    assert (report.ok, report.failed_index) == (False, last)
    assert report.reason is not None and report.reason.startswith(f"entry {last} is missing")


def test_a_sequence_counting_entries_the_log_lacks_is_caught(
    signed: int, engine: Engine, ledger: LedgerContext
) -> None:
    sql(engine, "UPDATE log_sequence SET next_index = next_index + 1")

    report = verify_database(engine, ledger)

    assert (report.failed_index, report.reason) == (
        signed,
        f"entry {signed} is missing: log_sequence counts {signed + 1}",
    )


@pytest.mark.parametrize("source", ["database", "http"])
def test_a_checkpoint_signed_by_another_key_is_refused(
    source: str, signed: int, engine: Engine, party: TestClient, ledger: LedgerContext
) -> None:
    note = scalar(engine, "SELECT note FROM log_checkpoints WHERE size = :s", s=signed)
    impostor = Ed25519Signer(ledger.keyring.origin, bytes(range(32)))  # the log's name, not its key
    forged = sign_note(note.partition("\n\n")[0] + "\n", [impostor]).decode()
    sql(engine, "UPDATE log_checkpoints SET note = :n WHERE size = :s", n=forged, s=signed)

    report = verify_database(engine, ledger) if source == "database" else over_http(party, ledger)

    assert (report.ok, report.failed_index, report.size) == (False, None, 0)
    assert report.reason is not None
    assert report.reason.startswith(
        f"the checkpoint is not signed by the log key {log_key(ledger).name}+"
    )
    assert report.summary() == f"FAILED: {report.reason}"


def test_an_older_checkpoint_that_no_longer_matches_the_log_is_caught(
    signed: int,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    app: FastAPI,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    do_set_language(db, member("bravo.duty"), language="he", now=clock.now())
    app.state.checkpointer.run_once()
    sql(
        engine,
        "UPDATE log_checkpoints SET root = :r WHERE size = :s",
        r=bytes(32),
        s=signed,
    )

    report = verify_database(engine, ledger)

    assert (report.failed_index, report.reason) == (
        None,
        f"the stored checkpoint of size {signed} does not match its note",
    )


# --- the key history, on logs no honest server would write ------------------------------------

LOG = Ed25519Signer("example.org/crafted", bytes(range(100, 132)))
T0 = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)
MEMBER = "0b7f4a8e-5f3c-4d5e-8a8c-5c2b8c1f9e10"


class CraftedLog:
    """A log built entry by entry with any keys: a source the verifier reads like any other."""

    def __init__(self) -> None:
        self.leaves: list[bytes] = []
        self.bodies: list[StoredBody] = []

    def add(
        self,
        private: Ed25519PrivateKey,
        entry_type: StrEnum,
        *,
        key: dict[str, Any] | None = None,
        at: datetime | None = None,
        signature: bytes | None = None,
    ) -> int:
        moment = at or T0 + timedelta(seconds=len(self.leaves))
        body = {"n": len(self.leaves)}
        header, signed, salt = sign_entry(
            private,
            entry_type.value,
            body,
            policy_hash="0" * 64,
            now=moment,
            custodial=False,
            key=key,
        )
        self.leaves.append(leaf_data(header, signature or signed, moment))
        self.bodies.append(StoredBody(salt=salt, text=canonical(body).decode()))
        return len(self.leaves) - 1

    def checkpoint(self) -> bytes:
        store = tree.MemoryHashStore()
        for leaf in self.leaves:
            store.append(leaf)
        text = format_checkpoint(Checkpoint(LOG.name, store.size, store.root()))
        return sign_note(text, [LOG])

    def entries(self, size: int) -> Iterator[SourceEntry]:
        for index, (leaf, body) in enumerate(zip(self.leaves, self.bodies, strict=True)):
            yield SourceEntry(index=index, leaf=leaf, body=body)

    def stored_state(self) -> None:
        return None

    def verify(self) -> VerifyReport:
        return verify_log(self, log_key=LOG.verifier())


def public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes_raw()


def enrolment(private: Ed25519PrivateKey) -> dict[str, Any]:
    return {"id": key_id(public(private)), "member": MEMBER, "public": b64(public(private))}


def enrolled(log: CraftedLog) -> Ed25519PrivateKey:
    private = Ed25519PrivateKey.generate()
    log.add(private, LedgerEntry.KEY_ENROLLED, key=enrolment(private))
    return private


def test_a_key_signs_until_it_revokes_itself_and_not_after() -> None:
    log = CraftedLog()
    log.add(LOG.private_key(), LedgerEntry.POLICY_ADOPTED)
    member = enrolled(log)
    log.add(member, CellEntry.LANGUAGE_SET)
    revocation = log.add(member, LedgerEntry.KEY_REVOKED, key={"id": key_id(public(member))})
    assert log.verify().ok, log.verify().summary()

    late = log.add(member, CellEntry.LANGUAGE_SET)
    report = log.verify()

    assert (report.failed_index, report.reason) == (
        late,
        f"signed by {key_id(public(member))}, revoked at entry {revocation}",
    )


def test_an_entry_by_a_key_no_entry_enrolled_is_refused() -> None:
    log = CraftedLog()
    stranger = Ed25519PrivateKey.generate()
    log.add(LOG.private_key(), LedgerEntry.POLICY_ADOPTED)
    log.add(stranger, CellEntry.LANGUAGE_SET)

    report = log.verify()

    assert (report.failed_index, report.reason) == (
        1,
        f"signed by {key_id(public(stranger))}, which no earlier entry enrolled",
    )


def test_an_enrolment_signed_by_another_key_than_the_one_enrolled_is_refused() -> None:
    log = CraftedLog()
    member = enrolled(log)
    log.add(member, LedgerEntry.KEY_ENROLLED, key=enrolment(Ed25519PrivateKey.generate()))

    report = log.verify()

    assert report.failed_index == 1
    assert report.reason is not None and "(no proof of possession)" in report.reason


def test_the_enrolment_of_a_small_order_key_is_refused() -> None:
    log = CraftedLog()
    member = enrolled(log)
    small = {"id": key_id(SMALL_ORDER), "member": MEMBER, "public": b64(SMALL_ORDER)}
    log.add(member, LedgerEntry.KEY_ENROLLED, key=small)
    # Claimed as self-signed: whoever holds a small-order "key" can often forge its signatures.
    log.leaves[-1] = log.leaves[-1].replace(
        f'"author":"{key_id(public(member))}"'.encode(), f'"author":"{small["id"]}"'.encode()
    )

    report = log.verify()

    assert (report.failed_index, report.reason) == (
        1,
        f"the key {small['id']} may not be enrolled: public key rejected: small-order",
    )


def test_a_rotation_needs_the_new_keys_proof_of_possession_and_retires_the_old_key() -> None:
    def rotate(log: CraftedLog, old: Ed25519PrivateKey, *, prove: bool) -> Ed25519PrivateKey:
        new = Ed25519PrivateKey.generate()
        key = enrolment(new) | {"replaces": key_id(public(old))}
        prover = new if prove else Ed25519PrivateKey.generate()
        key["possession"] = prove_possession(prover, key)
        log.add(old, LedgerEntry.KEY_ROTATED, key=key)
        return new

    honest = CraftedLog()
    old = enrolled(honest)
    new = rotate(honest, old, prove=True)
    honest.add(new, CellEntry.LANGUAGE_SET)
    assert honest.verify().ok, honest.verify().summary()
    stale = honest.add(old, CellEntry.LANGUAGE_SET)
    assert (honest.verify().failed_index, honest.verify().reason) == (
        stale,
        f"signed by {key_id(public(old))}, revoked at entry 1",
    )

    unproven = CraftedLog()
    rotate(unproven, enrolled(unproven), prove=False)
    assert (unproven.verify().failed_index, unproven.verify().reason) == (
        1,
        "the rotation's proof of possession of the new key does not verify",
    )


def test_a_log_time_running_backwards_is_refused_at_the_later_entry() -> None:
    log = CraftedLog()
    log.add(LOG.private_key(), LedgerEntry.POLICY_ADOPTED, at=T0 + timedelta(seconds=10))
    log.add(LOG.private_key(), CellEntry.LANGUAGE_SET, at=T0)

    report = log.verify()

    assert (report.failed_index, report.reason) == (
        1,
        "logged at 2026-01-06T09:00:00.000Z, before the entry before it (2026-01-06T09:00:10.000Z)",
    )


def test_a_bad_signature_is_refused_at_its_entry() -> None:
    log = CraftedLog()
    member = enrolled(log)
    log.add(member, CellEntry.LANGUAGE_SET, signature=bytes(64))

    report = log.verify()

    assert (report.failed_index, report.reason) == (
        1,
        f"the signature does not verify with key {key_id(public(member))}",
    )


# --- the command -------------------------------------------------------------------------------


def test_the_command_verifies_a_database_and_exits_0(
    signed: int, database_url: str, key_dir: Path
) -> None:
    result = fusioncell_verify("--database-url", database_url, key_dir=key_dir)

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith(f"fusioncell verify: OK: checkpoint {signed} (root ")
    assert result.stdout.count("\n") == 1


def test_the_command_names_the_first_failing_entry_and_exits_1(
    signed: int, database_url: str, key_dir: Path, engine: Engine
) -> None:
    salt = scalar(engine, "SELECT salt FROM log_bodies WHERE entry_index = 5")
    sql(engine, "UPDATE log_bodies SET salt = :s WHERE entry_index = 5", s=flipped(salt, 0))

    result = fusioncell_verify("--database-url", database_url, key_dir=key_dir)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "fusioncell verify: FAILED at entry 5: the stored body and salt do not hash to the "
        "header's body hash\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "http://127.0.0.1:9"], "fusioncell verify: cannot reach http://127.0.0.1:9"),
        (["--url", "not a url"], "fusioncell verify: bad URL 'not a url'"),
        (["--database-url", "nonsense://x"], "fusioncell verify: bad database URL"),
        (["--database-url", "sqlite:////nowhere/x.db"], "fusioncell verify: no database at"),
        (["--witness", "w", "--quorum", "2"], "fusioncell verify: --witness 'w' is not a"),
        (["--url", "http://x", "--database-url", "sqlite://"], "fusioncell verify: give --url"),
        (["--url", "http://127.0.0.1:9", "--log-key", "nope"], "fusioncell verify: --log-key is"),
    ],
    ids=[
        "unreachable",
        "not-a-url",
        "bad-database-url",
        "no-database-file",
        "bad-witness-key",
        "url-and-database",
        "bad-log-key",
    ],
)
def test_the_command_exits_2_in_one_line_when_it_cannot_read_the_log(
    args: list[str], message: str
) -> None:
    stand_in = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    stand_in.callback()(lambda: None)
    stand_in.command("verify")(verify_command(lambda: (STATE_CHECKS, ())))

    result = CliRunner().invoke(stand_in, ["verify", *args])

    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


@pytest.fixture
def served(app: FastAPI) -> Iterator[str]:
    """The app on a real socket, for the command to reach as any party would."""
    with serve_in_thread(app) as base:
        yield base


def test_the_command_verifies_a_served_log_and_refuses_it_under_another_log_key(
    signed: int, served: str, tmp_path: Path, ledger: LedgerContext
) -> None:
    trusted = fusioncell_verify("--url", served, key_dir=tmp_path)
    pinned = fusioncell_verify(
        "--url", served, "--log-key", log_key(ledger).key_string(), key_dir=tmp_path
    )
    other = Ed25519Signer(ledger.keyring.origin, bytes(range(32))).verifier().key_string()
    refused = fusioncell_verify("--url", served, "--log-key", other, key_dir=tmp_path)

    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout.startswith(f"fusioncell verify: OK: checkpoint {signed} ")
    assert trusted.stderr.startswith(f"fusioncell verify: trusting the log key {served} offers")
    assert (pinned.returncode, pinned.stderr) == (0, "")
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        "fusioncell verify: FAILED: the checkpoint is not signed by the log key"
    )
