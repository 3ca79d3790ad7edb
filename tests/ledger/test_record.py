"""Every state change is an entry, appended in the same transaction, signed and checkable."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fusioncell.cell.entries import CellEntry
from fusioncell.cell.models import Member
from fusioncell.cell.policy import Viewer
from fusioncell.client import CellClient
from fusioncell.clock import ManualClock
from fusioncell.geo.entries import GeoEntry
from fusioncell.ledger import tree
from fusioncell.ledger.append import DbHashReader, tree_size
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.entries import (
    LedgerEntry,
    b64,
    body_hash,
    key_id,
    parse_leaf,
    signing_message,
)
from fusioncell.ledger.keys import verify_signature
from fusioncell.ledger.models import EntryBody, LogEntry, LogHash, LogKey
from fusioncell.ledger.signing import (
    ENTRY_HEADER,
    encode_entry_header,
    prove_possession,
    sign_entry,
)

# The identity point (y = 1): a small-order key that verifies forged signatures in some libraries.
SMALL_ORDER = bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000000")


def entries(db: Session) -> list[LogEntry]:
    db.rollback()
    return list(db.scalars(select(LogEntry).order_by(LogEntry.index)))


def count_entries(db: Session) -> int:
    db.rollback()
    return int(db.scalar(select(func.count()).select_from(LogEntry)) or 0)


def public_key_of(db: Session, ledger: LedgerContext, author: str) -> bytes:
    if author == key_id(ledger.keyring.log_signer.public_key):
        return ledger.keyring.log_signer.public_key
    row = db.get(LogKey, author)
    assert row is not None, author
    return row.public_key


def test_the_demo_scenario_is_one_signed_entry_per_change_and_every_signature_verifies(
    db: Session, demo: None, ledger: LedgerContext
) -> None:
    logged = entries(db)
    kinds = [entry.entry_type for entry in logged]
    assert kinds[0] == LedgerEntry.POLICY_ADOPTED
    assert kinds.count(CellEntry.ORGANISATION_CREATED) == 6
    assert kinds.count(CellEntry.MEMBER_CREATED) == 12
    assert kinds.count(LedgerEntry.KEY_ENROLLED) == 12
    assert kinds.count(GeoEntry.GEO_VERSION_PROPOSED) == 1
    assert kinds.count(GeoEntry.GEO_VERSION_SIGNED) == 3
    assert [entry.index for entry in logged] == list(range(len(logged)))
    for entry in logged:
        leaf = parse_leaf(entry.leaf)
        public = public_key_of(db, ledger, leaf.header["author"])
        message = signing_message(leaf.header["type"], leaf.header)
        assert verify_signature(public, message, entry.signature), entry.index
        body = db.get(EntryBody, entry.index)
        assert body is not None
        assert body_hash(body.salt, json.loads(body.body)) == leaf.header["body"]
        assert leaf.header["policy"] == ledger.policy_hash
        assert entry.leaf_hash == tree.leaf_hash(entry.leaf)


def test_the_stored_tree_matches_a_tree_rebuilt_from_the_leaves(db: Session, demo: None) -> None:
    logged = entries(db)
    rebuilt = tree.MemoryHashStore()
    for entry in logged:
        rebuilt.append(entry.leaf)
    size = tree_size(db)
    assert size == len(logged)
    assert tree.tree_hash(size, DbHashReader(db)) == rebuilt.root()
    stored = db.scalar(select(func.count()).select_from(LogHash))
    assert stored == tree.stored_hash_count(size)


def test_a_refused_action_appends_nothing_and_changes_nothing(
    client: TestClient, token_for: Callable[[str], dict[str, str]], db: Session
) -> None:
    headers = token_for("alpha.liaison")
    before = count_entries(db)
    response = client.post(
        "/api/v1/members",
        headers=headers,
        json={
            "username": "intruder",
            "organisation": "ALPHA",
            "roles": ["liaison"],
            "password": "long-enough-password",
        },
    )
    assert response.status_code == 403
    assert count_entries(db) == before
    assert db.scalar(select(Member).where(Member.username == "intruder")) is None


def test_a_failing_append_rolls_back_the_state_change_with_it(
    client: TestClient,
    token_for: Callable[[str], dict[str, str]],
    db: Session,
    ledger: LedgerContext,
) -> None:
    headers = token_for("alpha.liaison")
    before = count_entries(db)
    private = Ed25519PrivateKey.generate()  # not enrolled: the entry cannot be appended
    header, signature, salt = sign_entry(
        private,
        CellEntry.LANGUAGE_SET.value,
        {"member": "x", "language": "ar"},
        policy_hash=ledger.policy_hash,
        now=client.app.state.clock.now(),  # type: ignore[attr-defined]
        custodial=False,
    )
    response = client.put(
        "/api/v1/me/language",
        json={"language": "ar"},
        headers={**headers, ENTRY_HEADER: encode_entry_header(header, signature, salt)},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert count_entries(db) == before
    assert client.get("/api/v1/me", headers=headers).json()["language"] == "en"


@pytest.fixture
def own_key(
    client: TestClient, token_for: Callable[[str], dict[str, str]], clock: ManualClock
) -> tuple[CellClient, Ed25519PrivateKey]:
    """alpha.liaison with a key of their own, enrolled through the API with proof of possession."""
    api = CellClient("http://testserver", http=client, now=clock.now)
    api.token = token_for("alpha.liaison")["Authorization"].removeprefix("Bearer ")
    private = Ed25519PrivateKey.generate()
    enrolled = api.enroll(private)
    assert enrolled["key_id"] == key_id(private.public_key().public_bytes_raw())
    assert enrolled["custodial"] is False
    return api, private


def language_entry(
    api: CellClient,
    private: Ed25519PrivateKey,
    language: str,
    *,
    clock: ManualClock,
    **change: object,
) -> dict[str, str]:
    me = api.get("/api/v1/me")
    policy = api.get("/api/v1/log/policy")["hash"]
    header, signature, salt = sign_entry(
        private,
        CellEntry.LANGUAGE_SET.value,
        {"member": me["id"], "language": language},
        policy_hash=str(change.get("policy", policy)),
        now=clock.now() + timedelta(seconds=float(str(change.get("skew", 0)))),
        custodial=False,
    )
    if "signature" in change:
        signature = bytes(change["signature"])  # type: ignore[arg-type]
    return {ENTRY_HEADER: encode_entry_header(header, signature, salt)}


def test_a_member_signs_with_their_own_key_and_the_entry_is_not_custodial(
    own_key: tuple[CellClient, Ed25519PrivateKey],
    client: TestClient,
    clock: ManualClock,
    db: Session,
) -> None:
    api, private = own_key
    headers = {"Authorization": f"Bearer {api.token}"}
    signed = language_entry(api, private, "he", clock=clock)
    response = client.put(
        "/api/v1/me/language", json={"language": "he"}, headers={**headers, **signed}
    )
    assert response.status_code == 204, response.text
    last = entries(db)[-1]
    assert last.entry_type == CellEntry.LANGUAGE_SET
    assert last.custodial is False
    assert last.author_key_id == key_id(private.public_key().public_bytes_raw())

    replay = client.put(
        "/api/v1/me/language", json={"language": "ar"}, headers={**headers, **signed}
    )
    assert replay.status_code == 422  # the signed body says "he", the request says "ar"
    assert replay.json()["type"] == "urn:fusioncell:problem:body-mismatch"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"signature": bytes(64)}, "bad-signature"),
        ({"policy": "0" * 64}, "stale-policy"),
        ({"skew": 3600}, "clock-skew"),
    ],
)
def test_bad_signed_entries_are_refused_with_a_problem_and_append_nothing(
    own_key: tuple[CellClient, Ed25519PrivateKey],
    client: TestClient,
    clock: ManualClock,
    db: Session,
    change: dict[str, object],
    problem: str,
) -> None:
    api, private = own_key
    before = count_entries(db)
    headers = {"Authorization": f"Bearer {api.token}"}
    signed = language_entry(api, private, "he", clock=clock, **change)
    response = client.put(
        "/api/v1/me/language", json={"language": "he"}, headers={**headers, **signed}
    )
    assert response.status_code == 422
    assert response.json()["type"] == f"urn:fusioncell:problem:{problem}"
    assert count_entries(db) == before


def test_a_replayed_entry_is_refused_and_appended_once(
    own_key: tuple[CellClient, Ed25519PrivateKey],
    client: TestClient,
    clock: ManualClock,
    db: Session,
) -> None:
    api, private = own_key
    headers = {"Authorization": f"Bearer {api.token}"}
    signed = language_entry(api, private, "he", clock=clock)
    assert (
        client.put(
            "/api/v1/me/language", json={"language": "he"}, headers={**headers, **signed}
        ).status_code
        == 204
    )
    client.put("/api/v1/me/language", json={"language": "en"}, headers=headers)  # custodial
    before = count_entries(db)
    again = client.put(
        "/api/v1/me/language", json={"language": "he"}, headers={**headers, **signed}
    )
    assert again.status_code == 409
    assert again.json()["type"] == "urn:fusioncell:problem:replayed-entry"
    assert count_entries(db) == before


def test_a_malformed_entry_header_is_a_clear_problem(
    client: TestClient, token_for: Callable[[str], dict[str, str]]
) -> None:
    headers = {**token_for("alpha.liaison"), ENTRY_HEADER: "not-base64-json"}
    response = client.put("/api/v1/me/language", json={"language": "he"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["type"] == "urn:fusioncell:problem:invalid-entry"


def test_enrolment_needs_proof_of_possession(
    client: TestClient, token_for: Callable[[str], dict[str, str]], db: Session
) -> None:
    headers = token_for("bravo.liaison")
    before = count_entries(db)
    public = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    response = client.post("/api/v1/keys", json={"public_key": b64(public)}, headers=headers)
    assert response.status_code == 422
    assert count_entries(db) == before


def test_a_small_order_public_key_is_rejected_at_enrolment(
    client: TestClient, token_for: Callable[[str], dict[str, str]], db: Session
) -> None:
    headers = token_for("bravo.liaison")
    before = count_entries(db)
    response = client.post("/api/v1/keys", json={"public_key": b64(SMALL_ORDER)}, headers=headers)
    assert response.status_code == 422
    assert response.json()["type"] == "urn:fusioncell:problem:rejected-key"
    assert count_entries(db) == before


def test_rotation_replaces_the_key_and_the_old_key_can_no_longer_sign(
    own_key: tuple[CellClient, Ed25519PrivateKey],
    client: TestClient,
    clock: ManualClock,
    db: Session,
) -> None:
    api, old = own_key
    me = api.get("/api/v1/me")
    new = Ed25519PrivateKey.generate()
    new_public = new.public_key().public_bytes_raw()
    old_id = key_id(old.public_key().public_bytes_raw())
    key = {
        "id": key_id(new_public),
        "member": me["id"],
        "public": b64(new_public),
        "replaces": old_id,
    }
    key["possession"] = prove_possession(new, key)
    rotated = api.signed(
        "POST",
        f"/api/v1/keys/{old_id}/rotate",
        old,
        entry_type=LedgerEntry.KEY_ROTATED.value,
        body={"member": me["id"], "key": key["id"], "replaces": old_id},
        json={"public_key": b64(new_public), "possession": key["possession"]},
        key=key,
    )
    assert rotated["key_id"] == key["id"]
    db.rollback()
    assert db.get(LogKey, old_id).revoked_index is not None  # type: ignore[union-attr]

    headers = {"Authorization": f"Bearer {api.token}"}
    stale = language_entry(api, old, "he", clock=clock)
    refused = client.put(
        "/api/v1/me/language", json={"language": "he"}, headers={**headers, **stale}
    )
    assert refused.json()["type"] == "urn:fusioncell:problem:revoked-key"
    fresh = language_entry(api, new, "he", clock=clock)
    assert (
        client.put(
            "/api/v1/me/language", json={"language": "he"}, headers={**headers, **fresh}
        ).status_code
        == 204
    )


def test_a_member_revokes_their_key_and_another_member_cannot(
    own_key: tuple[CellClient, Ed25519PrivateKey],
    client: TestClient,
    token_for: Callable[[str], dict[str, str]],
    db: Session,
) -> None:
    api, private = own_key
    identity = key_id(private.public_key().public_bytes_raw())
    other = client.post(f"/api/v1/keys/{identity}/revoke", headers=token_for("bravo.liaison"))
    assert other.status_code == 404
    mine = client.post(
        f"/api/v1/keys/{identity}/revoke", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert mine.status_code == 200
    assert mine.json()["revoked_index"] == entries(db)[-1].index
    assert entries(db)[-1].entry_type == LedgerEntry.KEY_REVOKED


def test_login_failures_over_the_threshold_are_entries_of_the_log(
    client: TestClient, demo: None, db: Session
) -> None:
    for _ in range(3):
        client.post(
            "/api/v1/auth/token", json={"username": "alpha.duty", "password": "wrong password"}
        )
    throttled = [e for e in entries(db) if e.entry_type == CellEntry.LOGIN_THROTTLED]
    assert len(throttled) == 1  # a summary: the first failure at once, the rest a window later
    body = db.get(EntryBody, throttled[0].index)
    assert body is not None and json.loads(body.body)["top"][0]["username"] == "alpha.duty"


def test_bodies_are_served_only_to_their_audience_and_leaves_to_everyone(
    client: TestClient,
    token_for: Callable[[str], dict[str, str]],
    db: Session,
    member: Callable[[str], Viewer],
) -> None:
    token_for(
        "bravo.liaison"
    )  # a token issue: an entry whose body only bravo.liaison and the admin read
    issued = [e for e in entries(db) if e.entry_type == CellEntry.TOKEN_ISSUED][-1]
    anonymous = client.get(f"/api/v1/log/entries/{issued.index}").json()
    assert anonymous["body"] is None and anonymous["leaf"]
    alpha = client.get(
        f"/api/v1/log/entries/{issued.index}", headers=token_for("alpha.liaison")
    ).json()
    assert alpha["body"] is None
    bravo = client.get(
        f"/api/v1/log/entries/{issued.index}", headers=token_for("bravo.liaison")
    ).json()
    assert bravo["body"]["member"] == str(member("bravo.liaison").member_id)
    listed = client.get(
        "/api/v1/log/entries?type=cell.token", headers=token_for("alpha.liaison")
    ).json()
    assert issued.index not in [row["index"] for row in listed]
