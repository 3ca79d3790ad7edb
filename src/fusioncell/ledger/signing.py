"""Signing entries: the same code on the server (custodial, the log) and in clients that keep
their own key (the CLI, API clients), so both produce byte-identical headers.

A client sends its signed entry with a request in the ``Fusioncell-Entry`` HTTP header:
base64url of JCS({"header", "signature", "salt"}). The action then records exactly the body
it would have recorded anyway and checks the header commits to it.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fusioncell.ledger.entries import (
    EVERYONE,
    SignedEntry,
    b64,
    canonical,
    canonical_body_hash,
    canonical_signing_message,
    key_id,
    log_time,
    new_salt,
    unb64,
)

ENTRY_HEADER = "Fusioncell-Entry"
POSSESSION_CONTEXT = "fusioncell/key-possession/v1\n"


class EntrySigner:
    """One private key, whose key id is worked out once: the server signs every log-key entry
    of a batch with the same signer."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self.private = private
        self.key_id = key_id(private.public_key().public_bytes_raw())

    def sign(
        self,
        entry_type: str,
        body: dict[str, Any],
        *,
        policy_hash: str,
        now: datetime,
        custodial: bool,
        key: dict[str, Any] | None = None,
        audience: dict[str, Any],
        salt: bytes | None = None,
    ) -> SignedEntry:
        """Sign an entry; each canonical form (body, header) is computed once, here, and the
        entry carries them on to the append."""
        salt = new_salt() if salt is None else salt
        canonical_body = canonical(body)
        header: dict[str, Any] = {
            "type": entry_type,
            "author": self.key_id,
            "time": log_time(now),
            "policy": policy_hash,
            "body": canonical_body_hash(salt, canonical_body),
            "custodial": custodial,
        }
        if key is not None:
            header["key"] = key
        canonical_header = canonical(header)
        return SignedEntry.just_signed(
            header=header,
            canonical_header=canonical_header,
            signature=self.private.sign(canonical_signing_message(entry_type, canonical_header)),
            body=body,
            canonical_body=canonical_body,
            salt=salt,
            audience=audience,
        )


def sign_entry(
    private: Ed25519PrivateKey,
    entry_type: str,
    body: dict[str, Any],
    *,
    policy_hash: str,
    now: datetime,
    custodial: bool,
    key: dict[str, Any] | None = None,
    salt: bytes | None = None,
) -> tuple[dict[str, Any], bytes, bytes]:
    """Returns (header, signature, salt)."""
    signed = EntrySigner(private).sign(
        entry_type,
        body,
        policy_hash=policy_hash,
        now=now,
        custodial=custodial,
        key=key,
        audience=EVERYONE,  # not part of what is signed
        salt=salt,
    )
    return signed.header, signed.signature, signed.salt


def possession_claim(key: dict[str, Any]) -> bytes:
    claim = {name: key[name] for name in ("id", "member", "public")}
    return POSSESSION_CONTEXT.encode() + canonical(claim)


def prove_possession(new_private: Ed25519PrivateKey, key: dict[str, Any]) -> str:
    """For a rotation signed by the old key: the new key's signature over its own claim."""
    return b64(new_private.sign(possession_claim(key)))


def encode_entry_header(header: dict[str, Any], signature: bytes, salt: bytes) -> str:
    packed = canonical({"header": header, "salt": b64(salt), "signature": b64(signature)})
    return base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode_entry_header(value: str) -> tuple[dict[str, Any], bytes, bytes]:
    """Raises ValueError on anything malformed."""
    padded = value.strip() + "=" * (-len(value.strip()) % 4)
    decoded = json.loads(base64.urlsafe_b64decode(padded))
    if not isinstance(decoded, dict) or set(decoded) != {"header", "salt", "signature"}:
        raise ValueError("expected header, salt and signature")
    header = decoded["header"]
    if not isinstance(header, dict):
        raise ValueError("the header must be an object")
    return header, unb64(decoded["signature"]), unb64(decoded["salt"])
