"""Appending to the log, inside the caller's action transaction.

``record`` is not an action: it is the shared private step every action takes, after its
rows and before its commit, so that no state change commits without its entry and no entry
without its state (they are one transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session, SessionTransaction

from fusioncell.errors import (
    BadSignature,
    BodyMismatch,
    ClockSkew,
    InvalidEntry,
    RejectedKey,
    ReplayedEntry,
    RevokedKey,
    StalePolicy,
    UnknownKey,
)
from fusioncell.ledger import tree
from fusioncell.ledger.context import LedgerContext, ledger_context
from fusioncell.ledger.entries import (
    EVERYONE,
    MAX_CLOCK_SKEW_SECONDS,
    SALT_BYTES,
    LedgerEntry,
    Presigned,
    SignedEntry,
    audience_rows,
    b64,
    body_hash,
    canonical,
    check_header_shape,
    key_id,
    leaf_data,
    parse_log_time,
    signing_message,
    unb64,
)
from fusioncell.ledger.errors import RejectedKeyError
from fusioncell.ledger.keyring import new_seed
from fusioncell.ledger.keys import check_enrolment_key, verify_signature
from fusioncell.ledger.models import EntryBody, LogAudience, LogEntry, LogHash, LogKey, LogSequence
from fusioncell.ledger.signing import possession_claim, sign_entry


@dataclass(frozen=True)
class ByLog:
    """The log's own key: entries the deployment itself asserts (policy, console, throttling)."""


@dataclass(frozen=True)
class ByMember:
    """A member, signing with their custodial key held by the server."""

    member_id: uuid.UUID


Author = ByLog | ByMember | Presigned


APPENDED = "fusioncell_appended"

# -- reading the tree --------------------------------------------------------------------

_PENDING = "fusioncell_ledger_pending_hashes"


class DbHashReader:
    """Stored hashes from the database, plus those this transaction has written."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.pending: dict[int, bytes] = db.info.setdefault(_PENDING, {})

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        missing = [index for index in indexes if index not in self.pending]
        found: dict[int, bytes] = {}
        if missing:
            rows = self.db.execute(
                select(LogHash.index, LogHash.hash).where(LogHash.index.in_(missing))
            )
            found = {index: value for index, value in rows}
        return [self.pending.get(index) or found.get(index, b"") for index in indexes]


_SEQUENCE = "fusioncell_ledger_sequence"
_POLICY_SEEN = "fusioncell_policy_seen"


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_SEQUENCE, None)
        session.info.pop(_QUEUE, None)
        session.info.pop(_POLICY_SEEN, None)


def _locked_sequence(db: Session) -> LogSequence:
    """The sequence row, locked once per transaction (``FOR UPDATE`` on PostgreSQL; SQLite's
    write transactions are already exclusive), then kept for the transaction's later appends."""
    sequence = db.info.get(_SEQUENCE)
    if sequence is None:
        sequence = db.execute(
            select(LogSequence).where(LogSequence.id == 1).with_for_update()
        ).scalar_one()
        db.info[_SEQUENCE] = sequence
    assert isinstance(sequence, LogSequence)
    return sequence


def tree_size(db: Session) -> int:
    sequence = db.get(LogSequence, 1)
    return 0 if sequence is None else sequence.next_index


# -- signing -----------------------------------------------------------------------------


def _sign_with(
    private: Ed25519PrivateKey,
    ctx: LedgerContext,
    entry_type: StrEnum,
    body: dict[str, Any],
    *,
    custodial: bool,
    now: datetime,
    key: dict[str, Any] | None,
    audience_: dict[str, Any],
) -> SignedEntry:
    header, signature, salt = sign_entry(
        private,
        entry_type.value,
        body,
        policy_hash=ctx.policy_hash,
        now=now,
        custodial=custodial,
        key=key,
    )
    return SignedEntry(header=header, signature=signature, body=body, salt=salt, audience=audience_)


def custodial_private_key(db: Session, member_id: uuid.UUID) -> Ed25519PrivateKey:
    ctx = ledger_context(db)
    row = db.scalar(
        select(LogKey).where(
            LogKey.member_id == member_id,
            LogKey.custodial.is_(True),
            LogKey.revoked_index.is_(None),
        )
    )
    if row is None or row.sealed_seed is None:
        raise UnknownKey("this member holds no custodial key; sign the entry yourself")
    seed = ctx.keyring.unseal(row.sealed_seed, key_id=row.key_id)
    return Ed25519PrivateKey.from_private_bytes(seed)


def _check_presigned(
    ctx: LedgerContext,
    presigned: Presigned,
    entry_type: StrEnum,
    body: dict[str, Any],
    *,
    now: datetime,
    key: dict[str, Any] | None,
) -> None:
    header = presigned.header
    if len(presigned.salt) != SALT_BYTES:
        raise InvalidEntry(f"the salt must be {SALT_BYTES} fresh random bytes")
    try:
        check_header_shape(header)
    except ValueError as exc:
        raise InvalidEntry(str(exc)) from None
    if header["type"] != entry_type.value:
        raise InvalidEntry(f"this request records a {entry_type.value} entry, not {header['type']}")
    if header["custodial"]:
        raise InvalidEntry("an entry signed by its author is not custodial")
    if header["policy"] != ctx.policy_hash:
        raise StalePolicy(current_policy=ctx.policy_hash)
    if header["body"] != body_hash(presigned.salt, body):
        raise BodyMismatch(expected_body=body)
    skew = abs((parse_log_time(header["time"]) - now).total_seconds())
    if skew > MAX_CLOCK_SKEW_SECONDS:
        raise ClockSkew(f"the entry's time is {int(skew)} s from the log's clock")
    if header.get("key") != key:
        raise InvalidEntry("the entry's key does not match the request", expected_key=key)


def record(
    db: Session,
    by: Author,
    entry_type: StrEnum,
    body: dict[str, Any],
    *,
    audience: dict[str, Any],
    now: datetime,
    key: dict[str, Any] | None = None,
) -> Appended:
    """Sign (or check the author's signature on) an entry and append it."""
    ctx = ledger_context(db)
    ensure_policy(db, now=now)
    if isinstance(by, Presigned):
        _check_presigned(ctx, by, entry_type, body, now=now, key=key)
        signed = SignedEntry(
            header=by.header, signature=by.signature, body=body, salt=by.salt, audience=audience
        )
        return append(db, signed, now=now, verify=True, member_id=by.member_id)
    if isinstance(by, ByLog):
        private = ctx.keyring.log_signer.private_key()
        custodial = False
    else:
        private = custodial_private_key(db, by.member_id)
        custodial = True
    signed = _sign_with(
        private, ctx, entry_type, body, custodial=custodial, now=now, key=key, audience_=audience
    )
    return append(db, signed, now=now, verify=False)


def enrol_custodial_key(
    db: Session, member_id: uuid.UUID, *, now: datetime, audience: dict[str, Any]
) -> LogKey:
    """Give a member a server-held key: self-signed enrolment, seed sealed at rest."""
    ctx = ledger_context(db)
    seed = new_seed()
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes_raw()
    identity = key_id(public)
    key = {"id": identity, "public": b64(public), "member": str(member_id)}
    signed = _sign_with(
        private,
        ctx,
        LedgerEntry.KEY_ENROLLED,
        {"member": str(member_id), "key": identity, "custodial": True},
        custodial=True,
        now=now,
        key=key,
        audience_=audience,
    )
    append(db, signed, now=now, verify=False, sealed_seed=ctx.keyring.seal(seed, key_id=identity))
    row = db.get(LogKey, identity)
    assert row is not None
    return row


def ensure_policy(db: Session, *, now: datetime) -> None:
    """Log the policy in force before the first entry that binds it."""
    ctx = ledger_context(db)
    adopted = db.info.get(_POLICY_SEEN)
    if adopted == ctx.policy_hash:
        return
    latest = db.scalar(
        select(LogEntry.index)
        .where(LogEntry.entry_type == LedgerEntry.POLICY_ADOPTED.value)
        .order_by(LogEntry.index.desc())
        .limit(1)
    )
    current = None
    if latest is not None:
        body = db.get(EntryBody, latest)
        current = body.body if body is not None else None
    if current != canonical({"policy": ctx.policy}).decode():
        private = ctx.keyring.log_signer.private_key()
        signed = _sign_with(
            private,
            ctx,
            LedgerEntry.POLICY_ADOPTED,
            {"policy": ctx.policy},
            custodial=False,
            now=now,
            key=None,
            audience_=EVERYONE,
        )
        append(db, signed, now=now, verify=False)
    db.info[_POLICY_SEEN] = ctx.policy_hash


# -- appending ---------------------------------------------------------------------------


def _author_public_key(db: Session, ctx: LedgerContext, header: dict[str, Any]) -> bytes:
    author = header["author"]
    if author == key_id(ctx.keyring.log_signer.public_key):
        return ctx.keyring.log_signer.public_key
    key = header.get("key")
    if header["type"] == LedgerEntry.KEY_ENROLLED.value and key and key.get("id") == author:
        return unb64(str(key["public"]))  # self-signed: the signature proves possession
    row = db.get(LogKey, author)
    if row is None:
        raise UnknownKey(f"no enrolled key {author}")
    if row.revoked_index is not None:
        raise RevokedKey(f"the key {author} was revoked at entry {row.revoked_index}")
    return row.public_key


def append(
    db: Session,
    signed: SignedEntry,
    *,
    now: datetime,
    verify: bool,
    member_id: uuid.UUID | None = None,
    sealed_seed: bytes | None = None,
) -> Appended:
    """Append a signed entry; raises before any write if anything is wrong."""
    ctx = ledger_context(db)
    header = signed.header
    try:
        check_header_shape(header)
    except ValueError as exc:
        raise InvalidEntry(str(exc)) from None
    _check_key_entry(header)
    public = _author_public_key(db, ctx, header)
    if member_id is not None:
        owner = db.scalar(select(LogKey.member_id).where(LogKey.key_id == header["author"]))
        key = header.get("key") or {}
        if owner != member_id and key.get("member") != str(member_id):
            raise InvalidEntry("the signing key belongs to another member")
    if verify and not verify_signature(
        public, signing_message(header["type"], header), signed.signature
    ):
        raise BadSignature()
    if verify and header["body"] != body_hash(signed.salt, signed.body):
        raise BodyMismatch()
    # A signature the server just made over a fresh salt is new by construction; one a client
    # made may be a replay. (The unique constraint backs this up in either case.)
    if (
        verify
        and db.scalar(select(LogEntry.index).where(LogEntry.signature == signed.signature))
        is not None
    ):
        raise ReplayedEntry()

    sequence = _locked_sequence(db)
    index = sequence.next_index
    if sequence.last_logged_at is not None and sequence.last_logged_at > now:
        now = sequence.last_logged_at
    sequence.last_logged_at = now
    data = leaf_data(header, signed.signature, now)
    reader = DbHashReader(db)
    with db.no_autoflush:  # this transaction's own hashes come from the pending cache
        hashes = tree.stored_hashes_for_record(index, data, reader)
    first = tree.stored_hash_count(index)
    rows = _queued_rows(db)
    for offset, value in enumerate(hashes):
        reader.pending[first + offset] = value
        rows["hashes"].append({"index": first + offset, "hash": value})
    leaf_hash = tree.leaf_hash(data)
    rows["entries"].append(
        {
            "index": index,
            "entry_type": header["type"],
            "author_key_id": header["author"],
            "leaf": data,
            "leaf_hash": leaf_hash,
            "signature": signed.signature,
            "logged_at": now,
            "custodial": header["custodial"],
        }
    )
    rows["bodies"].append(
        {"entry_index": index, "salt": signed.salt, "body": signed.canonical_body.decode()}
    )
    for kind, grant in audience_rows(signed.audience):
        rows["audiences"].append({"entry_index": index, "kind": kind, "value": grant})
    _apply_key_change(db, header, index=index, sealed_seed=sealed_seed)
    sequence.next_index = index + 1
    db.info.setdefault(APPENDED, []).append(index)
    return Appended(index=index, leaf_hash=leaf_hash, logged_at=_as_logged(now))


@dataclass(frozen=True)
class Appended:
    """Where the entry went, and the log time its leaf commits to (to the millisecond, as
    the leaf spells it): deadlines timed from an entry count from this instant, which is
    also what ``fusioncell verify`` reads from the leaf."""

    index: int
    leaf_hash: bytes
    logged_at: datetime


def _as_logged(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)


def log_clock(db: Session, *, now: datetime) -> datetime:
    """The log time this transaction's next entry will get: ``now``, or the last logged time
    if that is later (the log's clock never runs backwards), as ``Appended.logged_at`` spells it.

    It takes the sequence lock, as the first append would, so every entry logged before is
    committed and, at READ COMMITTED, visible to the transaction's later reads: a writer that
    decides from the log's past (the escalation engine) sees all of it.
    """
    sequence = _locked_sequence(db)
    if sequence.last_logged_at is not None and sequence.last_logged_at > now:
        now = sequence.last_logged_at
    return _as_logged(now)


_QUEUE = "fusioncell_ledger_rows"
_TABLES = (
    ("entries", LogEntry),
    ("bodies", EntryBody),
    ("audiences", LogAudience),
    ("hashes", LogHash),
)


def _queued_rows(db: Session) -> dict[str, list[dict[str, Any]]]:
    queue: dict[str, list[dict[str, Any]]] = db.info.setdefault(
        _QUEUE, {name: [] for name, _model in _TABLES}
    )
    return queue


@event.listens_for(Session, "before_commit")
def _write_queued_rows(session: Session) -> None:
    """Write the transaction's log rows in one multi-row insert per table, just before commit.

    Appending builds plain rows instead of ORM objects: a batch of appends then costs a few
    statements, not a unit-of-work flush per entry.
    """
    queue = session.info.pop(_QUEUE, None)
    if not queue:
        return
    for name, model in _TABLES:
        if queue[name]:
            session.execute(insert(model), queue[name])


def _check_key_entry(header: dict[str, Any]) -> None:
    """A new key must be well formed, acceptable and possessed by whoever enrols it."""
    kind, key = header["type"], header.get("key")
    if kind not in {LedgerEntry.KEY_ENROLLED.value, LedgerEntry.KEY_ROTATED.value} or key is None:
        return
    try:
        public = unb64(str(key["public"]))
        check_enrolment_key(public)
    except RejectedKeyError as exc:
        raise RejectedKey(str(exc)) from None
    except (KeyError, ValueError):
        raise InvalidEntry("a key entry carries the key's id and base64 public key") from None
    if key_id(public) != key.get("id"):
        raise InvalidEntry("the key id is not the hash of the public key")
    if kind == LedgerEntry.KEY_ENROLLED.value and header["author"] != key.get("id"):
        raise InvalidEntry("an enrolment is signed by the key it enrols (proof of possession)")
    if kind == LedgerEntry.KEY_ROTATED.value:
        if header["author"] != key.get("replaces"):
            raise InvalidEntry("a rotation is signed by the key it replaces")
        try:
            proof = unb64(str(key["possession"]))
        except (KeyError, ValueError):
            raise InvalidEntry("a rotation carries the new key's proof of possession") from None
        if not verify_signature(public, possession_claim(key), proof):
            raise BadSignature("the proof of possession of the new key does not verify")


def _apply_key_change(
    db: Session, header: dict[str, Any], *, index: int, sealed_seed: bytes | None
) -> None:
    key = header.get("key")
    if key is None:
        return
    kind = header["type"]
    if kind in {LedgerEntry.KEY_ENROLLED.value, LedgerEntry.KEY_ROTATED.value}:
        public = unb64(str(key["public"]))
        if db.get(LogKey, key["id"]) is not None:
            raise ReplayedEntry("this key is already enrolled")
        member = key.get("member")
        db.add(
            LogKey(
                key_id=key["id"],
                public_key=public,
                member_id=uuid.UUID(member) if member else None,
                custodial=header["custodial"],
                sealed_seed=sealed_seed,
                enrolled_index=index,
            )
        )
    revoked = key.get("replaces") if kind == LedgerEntry.KEY_ROTATED.value else None
    if kind == LedgerEntry.KEY_REVOKED.value:
        revoked = key["id"]
    if revoked is not None:
        row = db.get(LogKey, revoked)
        if row is None or row.revoked_index is not None:
            raise InvalidEntry(f"no active key {revoked} to revoke")
        row.revoked_index = index
