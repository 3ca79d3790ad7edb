"""Key entries: who signed an entry, enrolment checks, applying key changes, custodial keys.

``append`` asks here for the author's public key (the log key, a self-signed enrolment, or an
enrolled key not revoked), checks a key entry before any write (well formed, acceptable,
possessed by whoever enrols it) and applies it with the entry (a new ``LogKey`` row, a
revocation). A custodial key's seed is sealed at rest and unsealed only to sign.
"""

from __future__ import annotations

import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.errors import (
    BadSignature,
    InvalidEntry,
    RejectedKey,
    ReplayedEntry,
    RevokedKey,
    UnknownKey,
)
from fusioncell.ledger.context import LedgerContext, ledger_context
from fusioncell.ledger.entries import LedgerEntry, key_id, unb64
from fusioncell.ledger.errors import RejectedKeyError
from fusioncell.ledger.keys import check_enrolment_key, verify_signature
from fusioncell.ledger.models import LogKey
from fusioncell.ledger.signing import possession_claim


def author_public_key(db: Session, ctx: LedgerContext, header: dict[str, Any]) -> bytes:
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


_NEW_KEY_TYPES = frozenset({LedgerEntry.KEY_ENROLLED.value, LedgerEntry.KEY_ROTATED.value})


def check_key_entry(header: dict[str, Any]) -> None:
    """A new key must be well formed, acceptable and possessed by whoever enrols it."""
    kind, key = header["type"], header.get("key")
    if kind not in _NEW_KEY_TYPES or key is None:
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


def apply_key_change(
    db: Session, header: dict[str, Any], *, index: int, sealed_seed: bytes | None
) -> None:
    """Apply a key entry to the key table; every check comes before the first change."""
    key = header.get("key")
    if key is None:
        return
    kind = header["type"]
    enrols = kind in _NEW_KEY_TYPES
    if enrols and db.get(LogKey, key["id"]) is not None:
        raise ReplayedEntry("this key is already enrolled")
    revoked = key.get("replaces") if kind == LedgerEntry.KEY_ROTATED.value else None
    if kind == LedgerEntry.KEY_REVOKED.value:
        revoked = key["id"]
    revoked_row = None
    if revoked is not None:
        revoked_row = db.get(LogKey, revoked)
        if revoked_row is None or revoked_row.revoked_index is not None:
            raise InvalidEntry(f"no active key {revoked} to revoke")
    if enrols:
        member = key.get("member")
        db.add(
            LogKey(
                key_id=key["id"],
                public_key=unb64(str(key["public"])),
                member_id=uuid.UUID(member) if member else None,
                custodial=header["custodial"],
                sealed_seed=sealed_seed,
                enrolled_index=index,
            )
        )
    if revoked_row is not None:
        revoked_row.revoked_index = index


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
