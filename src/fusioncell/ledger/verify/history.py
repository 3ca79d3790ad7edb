"""The key history a log establishes, rebuilt entry by entry from its key entries alone.

A key may sign the entries after the one that enrolled it, up to and including the one that
revokes it (a key may sign its own revocation or rotation). The log's own key is outside the
history: it signs the checkpoints, so whoever verifies holds it already.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fusioncell.ledger.entries import LedgerEntry, key_id, unb64
from fusioncell.ledger.errors import RejectedKeyError
from fusioncell.ledger.keys import check_enrolment_key, verify_signature
from fusioncell.ledger.signing import possession_claim

ENROLLED = LedgerEntry.KEY_ENROLLED.value
ROTATED = LedgerEntry.KEY_ROTATED.value
REVOKED = LedgerEntry.KEY_REVOKED.value


class KeyProblem(Exception):
    """An entry breaks the key history; the message says how."""


@dataclass
class KeyState:
    key_id: str
    public_key: bytes
    member: str | None
    custodial: bool
    enrolled_index: int
    revoked_index: int | None = None


class KeyHistory:
    def __init__(self, log_public_key: bytes) -> None:
        self.log_public_key = log_public_key
        self.log_key_id = key_id(log_public_key)
        self.keys: dict[str, KeyState] = {}
        self._public_keys: set[bytes] = {log_public_key}

    def signer(self, header: dict[str, Any]) -> bytes:
        """The public key the entry must be signed with, if its author may sign it here."""
        author = header["author"]
        if not isinstance(author, str):
            raise KeyProblem("the author is not a key id")
        if author == self.log_key_id:
            return self.log_public_key
        if header["type"] == ENROLLED:
            identity, public = new_key(header.get("key"))
            if author != identity:
                raise KeyProblem(
                    f"the enrolment of key {identity} is signed by {author}, not by the key "
                    "itself (no proof of possession)"
                )
            return public
        state = self.keys.get(author)
        if state is None:
            raise KeyProblem(f"signed by {author}, which no earlier entry enrolled")
        if state.revoked_index is not None:
            raise KeyProblem(f"signed by {author}, revoked at entry {state.revoked_index}")
        return state.public_key

    def apply(self, index: int, header: dict[str, Any]) -> None:
        """Record the entry's key change, if any; call after its signature verified."""
        kind, key = header["type"], header.get("key")
        if kind in (ENROLLED, ROTATED):
            identity, public = new_key(key)
            assert isinstance(key, dict)  # new_key refuses anything else
            if identity in self.keys or public in self._public_keys:
                raise KeyProblem(f"the key {identity} is enrolled a second time")
            if kind == ENROLLED and header["author"] != identity:
                raise KeyProblem(f"the enrolment of key {identity} is not self-signed")
            if kind == ROTATED:
                self._retire(index, header, key, public)
            self.keys[identity] = KeyState(
                key_id=identity,
                public_key=public,
                member=_member(key),
                custodial=bool(header["custodial"]),
                enrolled_index=index,
            )
            self._public_keys.add(public)
        elif kind == REVOKED:
            revoked = key.get("id") if isinstance(key, dict) else None
            self._revoke(index, revoked, "revoke")

    def _retire(self, index: int, header: dict[str, Any], key: dict[str, Any], new: bytes) -> None:
        replaces = key.get("replaces")
        if header["author"] != replaces:
            raise KeyProblem(
                f"the rotation to key {key['id']} is not signed by the key it replaces"
            )
        try:
            proof = unb64(str(key["possession"]))
            claim = possession_claim(key)
        except (KeyError, ValueError, TypeError):
            raise KeyProblem("the rotation carries no proof of possession of the new key") from None
        if not verify_signature(new, claim, proof):
            raise KeyProblem("the rotation's proof of possession of the new key does not verify")
        self._revoke(index, replaces, "replace")

    def _revoke(self, index: int, revoked: object, verb: str) -> None:
        state = self.keys.get(revoked) if isinstance(revoked, str) else None
        if state is None or state.revoked_index is not None:
            raise KeyProblem(f"there is no active key {revoked} to {verb}")
        state.revoked_index = index


def new_key(key: object) -> tuple[str, bytes]:
    """The id and public key a key entry introduces, refusing what enrolment refuses."""
    if not isinstance(key, dict) or not isinstance(key.get("id"), str):
        raise KeyProblem("the key entry does not carry a key id")
    try:
        public = unb64(str(key["public"]))
    except (KeyError, ValueError):
        raise KeyProblem("the key entry does not carry a base64 public key") from None
    try:
        check_enrolment_key(public)
    except RejectedKeyError as exc:
        raise KeyProblem(f"the key {key['id']} may not be enrolled: {exc}") from None
    if key_id(public) != key["id"]:
        raise KeyProblem(f"the key id {key['id']} is not the hash of its public key")
    return key["id"], public


def _member(key: dict[str, Any]) -> str | None:
    member = key.get("member")
    if member is None:
        return None
    try:
        return str(uuid.UUID(str(member)))
    except ValueError:
        raise KeyProblem(f"the key's member {member!r} is not a member id") from None
