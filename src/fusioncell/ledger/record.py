"""Recording an entry, inside the caller's action transaction: who signs it, and how.

``record`` is not an action: it is the shared private step every action takes, after its
rows and before its commit, so that no state change commits without its entry and no entry
without its state (they are one transaction). It signs with the log key (``ByLog``) or a
member's custodial key (``ByMember``), or checks an entry the member signed (``Presigned``),
then appends it (``ledger.append``); the policy in force is logged before the first entry
that binds it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from fusioncell.errors import BodyMismatch, ClockSkew, InvalidEntry, StalePolicy
from fusioncell.ledger.append import Appended, append
from fusioncell.ledger.context import LedgerContext, ledger_context
from fusioncell.ledger.entries import (
    EVERYONE,
    MAX_CLOCK_SKEW_SECONDS,
    SALT_BYTES,
    LedgerEntry,
    Presigned,
    SignedEntry,
    b64,
    body_hash,
    canonical,
    check_header_shape,
    key_id,
    parse_log_time,
)
from fusioncell.ledger.key_entries import custodial_private_key
from fusioncell.ledger.keyring import new_seed
from fusioncell.ledger.models import EntryBody, LogEntry, LogKey
from fusioncell.ledger.note import Ed25519Signer
from fusioncell.ledger.signing import EntrySigner


@dataclass(frozen=True)
class ByLog:
    """The log's own key: entries the deployment itself asserts (policy, console, throttling)."""


@dataclass(frozen=True)
class ByMember:
    """A member, signing with their custodial key held by the server."""

    member_id: uuid.UUID


Author = ByLog | ByMember | Presigned

_POLICY_SEEN = "fusioncell_policy_seen"


_CUSTODIAL_SIGNERS = "fusioncell_custodial_signers"


@event.listens_for(Session, "after_transaction_end")
def _forget_policy_seen(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_POLICY_SEEN, None)
        session.info.pop(_CUSTODIAL_SIGNERS, None)


# -- signing -----------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _log_entry_signer(log_signer: Ed25519Signer) -> EntrySigner:
    """The log key as an entry signer, made once per keyring rather than once per entry."""
    return EntrySigner(log_signer.private_key())


def _sign_with(
    signer: EntrySigner,
    ctx: LedgerContext,
    entry_type: StrEnum,
    body: dict[str, Any],
    *,
    custodial: bool,
    now: datetime,
    key: dict[str, Any] | None,
    audience_: dict[str, Any],
) -> SignedEntry:
    return signer.sign(
        entry_type.value,
        body,
        policy_hash=ctx.policy_hash,
        now=now,
        custodial=custodial,
        key=key,
        audience=audience_,
    )


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
        signer = _log_entry_signer(ctx.keyring.log_signer)
        custodial = False
    else:
        signer = _custodial_signer(db, by.member_id)
        custodial = True
    signed = _sign_with(
        signer, ctx, entry_type, body, custodial=custodial, now=now, key=key, audience_=audience
    )
    return append(db, signed, now=now, verify=False)


def _custodial_signer(db: Session, member_id: uuid.UUID) -> EntrySigner:
    """A member's custodial key, unsealed once per transaction (a batch of reports signs
    many entries with it), with its key row held so each append finds it in the session.
    Forgotten when the transaction ends (a revocation commits in its own)."""
    signers: dict[uuid.UUID, tuple[EntrySigner, LogKey | None]] = db.info.setdefault(
        _CUSTODIAL_SIGNERS, {}
    )
    found = signers.get(member_id)
    if found is None:
        signer = EntrySigner(custodial_private_key(db, member_id))
        found = signers[member_id] = (signer, db.get(LogKey, signer.key_id))
    return found[0]


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
        EntrySigner(private),
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
        signed = _sign_with(
            _log_entry_signer(ctx.keyring.log_signer),
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
