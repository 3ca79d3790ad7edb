"""What an entry is: a header the author signs, and a body kept beside the log.

    header = {type, author, time, policy, body, custodial[, key]}
    body hash = SHA-256(salt ‖ JCS(body)), a fresh 32-byte salt per entry
    signature = Ed25519(author, "fusioncell/<type>/v1\\n" ‖ JCS(header))
    leaf data = JCS({"header": header, "logged_at": ..., "signature": base64})

The type prefix in the signed message is domain separation: a signature over an
acknowledgement can never verify as a signature over a message. ``logged_at`` is the log's
clock, outside the author's signature and inside the tree, so the checkpoints commit to it.
"""

from __future__ import annotations

import _json
import base64
import hashlib
import json
import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Any

import rfc8785

SALT_BYTES = 32
# How far an author's claimed time may be from the log's clock.
MAX_CLOCK_SKEW_SECONDS = 300


class LedgerEntry(StrEnum):
    """The log's own entry types. Values are part of the signed message: never rename or
    reuse one.

    Each track defines its own (``CellEntry``, ``GeoEntry``, ``HotlineEntry``); the key entries
    keep their ``cell.key.*`` values but belong here, because ``record`` applies them to the
    log's key table and the verifier needs the key history to check every other signature.
    """

    POLICY_ADOPTED = "log.policy.adopted"
    KEY_ENROLLED = "cell.key.enrolled"
    KEY_ROTATED = "cell.key.rotated"
    KEY_REVOKED = "cell.key.revoked"


EVERYONE: dict[str, Any] = {"all": True}


def audience(
    *,
    organisations: Sequence[uuid.UUID] = (),
    roles: Sequence[str] = (),
    members: Sequence[uuid.UUID] = (),
) -> dict[str, Any]:
    return {
        "organisations": sorted(str(o) for o in organisations),
        "roles": sorted(roles),
        "members": sorted(str(m) for m in members),
    }


def audience_rows(audience_: dict[str, Any]) -> list[tuple[str, str]]:
    if audience_.get("all"):
        return [("all", "")]
    return [
        *(("organisation", value) for value in audience_.get("organisations", [])),
        *(("role", value) for value in audience_.get("roles", [])),
        *(("member", value) for value in audience_.get("members", [])),
    ]


KEY_ENTRY_TYPES = frozenset(
    {LedgerEntry.KEY_ENROLLED, LedgerEntry.KEY_ROTATED, LedgerEntry.KEY_REVOKED}
)


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON.

    Most entries hold only strings, integers, booleans and nulls under ASCII keys; for those,
    Python's own encoder with sorted keys already produces the RFC 8785 bytes (same string
    escapes, same integer form, code-point order equals UTF-16 order for ASCII keys), and it
    runs in C. Anything else — floats above all, whose RFC 8785 form follows ECMAScript —
    goes through the ``rfc8785`` implementation.
    """
    if _plain(value):
        return "".join(_encode_plain(value, 0)).encode()
    return bytes(rfc8785.dumps(value))


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not plain JSON")


# The C encoder that json.dumps(value, sort_keys=True, separators=(",", ":"),
# ensure_ascii=False) runs, made once: JSONEncoder makes a new one, and a closure, per call.
# No circular-reference markers: ``_plain`` has walked the value first.
_encode_plain = _json.make_encoder(
    None, _refuse, _json.encode_basestring, None, ":", ",", True, False, True
)
_SAFE_INTEGER = 2**53


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                return False
            if type(item) is not str and not _plain(item):  # a string needs no call
                return False
        return True
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_SAFE_INTEGER < value < _SAFE_INTEGER)
    if kind is list:
        return all(type(item) is str or _plain(item) for item in value)
    return False


def body_hash(salt: bytes, body: dict[str, Any]) -> str:
    return canonical_body_hash(salt, canonical(body))


def canonical_body_hash(salt: bytes, canonical_body: bytes) -> str:
    return hashlib.sha256(salt + canonical_body).hexdigest()


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def signing_message(entry_type: str, header: dict[str, Any]) -> bytes:
    return canonical_signing_message(entry_type, canonical(header))


def canonical_signing_message(entry_type: str, canonical_header: bytes) -> bytes:
    return f"fusioncell/{entry_type}/v1\n".encode() + canonical_header


@lru_cache(maxsize=1024)
def key_id(public_key: bytes) -> str:
    """A key's id: the first 8 bytes of SHA-256 of the raw public key, in hex.

    Cached because the log key's id is asked for on every append.
    """
    return hashlib.sha256(public_key).hexdigest()[:16]


def log_time(moment: datetime) -> str:
    """RFC 3339 UTC with milliseconds: one spelling per instant, so JCS is stable."""
    global _last_log_time
    last = _last_log_time
    if last[0] is moment:
        return last[1]
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    text = utc.isoformat(timespec="milliseconds")[:-6] + "Z"  # without "+00:00"
    _last_log_time = (moment, text)
    return text


# An entry the server signs spells the same instant in its header and in its leaf: the last
# instant spelt, replaced as one tuple (so threads never see a moment with another's text).
_last_log_time: tuple[datetime | None, str] = (None, "")


_LOG_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", re.ASCII)


def parse_log_time(text: str) -> datetime:
    if _LOG_TIME.fullmatch(text) is None:
        raise ValueError(f"not a canonical log time: {text!r}")
    # The one spelling is checked above; fromisoformat checks the ranges (no month 13).
    return datetime.fromisoformat(text)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


@dataclass(frozen=True)
class SignedEntry:
    """An entry ready to append: the signed header, and the body with its salt."""

    header: dict[str, Any]
    signature: bytes
    body: dict[str, Any]
    salt: bytes
    audience: dict[str, Any] = field(default_factory=lambda: {"all": True})

    @property
    def entry_type(self) -> str:
        return str(self.header["type"])

    @cached_property
    def canonical_body(self) -> bytes:
        return canonical(self.body)

    @cached_property
    def canonical_header(self) -> bytes:
        return canonical(self.header)

    @classmethod
    def just_signed(
        cls,
        *,
        header: dict[str, Any],
        canonical_header: bytes,
        signature: bytes,
        body: dict[str, Any],
        canonical_body: bytes,
        salt: bytes,
        audience: dict[str, Any],
    ) -> SignedEntry:
        """An entry this process has just signed, keeping the canonical bytes it signed and
        hashed, so that appending it serialises neither the header nor the body again."""
        entry = cls(header=header, signature=signature, body=body, salt=salt, audience=audience)
        # Fill the cached properties with exactly the bytes the signature and hash cover.
        entry.__dict__["canonical_header"] = canonical_header
        entry.__dict__["canonical_body"] = canonical_body
        return entry

    @property
    def author(self) -> str:
        return str(self.header["author"])


@dataclass(frozen=True)
class Presigned:
    """An entry its author signed on their own machine (no custody): the API client sends the
    header, signature and salt; the action supplies the body it will record and checks that
    the header commits to exactly that body."""

    header: dict[str, Any]
    signature: bytes
    salt: bytes
    member_id: uuid.UUID


def leaf_data(header: dict[str, Any], signature: bytes, logged_at: datetime) -> bytes:
    return leaf_data_from_canonical_header(canonical(header), signature, logged_at)


def leaf_data_from_canonical_header(
    canonical_header: bytes, signature: bytes, logged_at: datetime
) -> bytes:
    """The leaf around a header already in canonical form: JCS of an object is its members in
    key order, and ``header`` < ``logged_at`` < ``signature``; the time and base64 strings need
    no escapes. ``test_entries`` holds this to ``canonical`` of the whole leaf."""
    return b"".join(
        (
            b'{"header":',
            canonical_header,
            b',"logged_at":"',
            log_time(logged_at).encode(),
            b'","signature":"',
            base64.b64encode(signature),
            b'"}',
        )
    )


@dataclass(frozen=True)
class Leaf:
    header: dict[str, Any]
    signature: bytes
    logged_at: datetime


def parse_leaf(data: bytes) -> Leaf:
    """Parse leaf data, insisting on the canonical form (so one leaf has one spelling)."""
    try:
        decoded = json.loads(data)
        header = decoded["header"]
        signature = unb64(decoded["signature"])
        logged_at = parse_log_time(decoded["logged_at"])
        if set(decoded) != {"header", "logged_at", "signature"} or not isinstance(header, dict):
            raise ValueError("unexpected fields")
        if canonical(decoded) != data:
            raise ValueError("not in canonical form")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ValueError(f"malformed leaf: {exc}") from None
    return Leaf(header=header, signature=signature, logged_at=logged_at)


# The entry types the log accepts: its own, and each track's, registered at start-up by
# ``fusioncell.bootstrap`` (the ledger imports no track).
_ENTRY_TYPES: dict[str, None] = dict.fromkeys(t.value for t in LedgerEntry)


def register_entry_types(*kinds: type[StrEnum]) -> None:
    """Accept these entry types. A value may be registered once, by one enum: values are
    never reused across tracks."""
    for kind in kinds:
        for value in kind:
            owner = _OWNERS.setdefault(value.value, kind)
            if owner is not kind:
                raise ValueError(f"entry type {value.value!r} is already {owner.__name__}'s")
            _ENTRY_TYPES[value.value] = None


_OWNERS: dict[str, type[StrEnum]] = {t.value: LedgerEntry for t in LedgerEntry}


def known_entry_types() -> tuple[str, ...]:
    """Every accepted entry type, the log's own first, then each track's in bootstrap order."""
    return tuple(_ENTRY_TYPES)


HEADER_FIELDS = frozenset({"type", "author", "time", "policy", "body", "custodial"})


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def check_header_shape(header: dict[str, Any]) -> None:
    fields = header.keys()
    if not (fields >= HEADER_FIELDS and len(fields) == len(HEADER_FIELDS) + ("key" in fields)):
        missing = HEADER_FIELDS - fields
        extra = fields - HEADER_FIELDS - {"key"}
        raise ValueError(f"header fields: missing {sorted(missing)}, unexpected {sorted(extra)}")
    if header["type"] not in _ENTRY_TYPES:
        raise ValueError(f"unknown entry type {header['type']!r}")
    if not isinstance(header["custodial"], bool):
        raise ValueError("custodial must be true or false")
    parse_log_time(str(header["time"]))
    for name in ("policy", "body"):
        value = header[name]
        if not (isinstance(value, str) and _SHA256_HEX.fullmatch(value)):
            raise ValueError(f"{name} must be a lower-case hex SHA-256")
    if ("key" in header) != (header["type"] in KEY_ENTRY_TYPES):
        raise ValueError("key entries, and only they, carry a key")
