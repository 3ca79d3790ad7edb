"""C2SP tlog-checkpoint bodies and tlog-cosignature/v1 (Ed25519) witness cosignatures.

A checkpoint is the note text a log signs: origin, tree size, root hash, then optional extension
lines. Parsing is strict (one spelling per checkpoint) because witnesses compare checkpoints as
bytes, and a fork shown to two parties is only provable if both saw the same canonical text.

A cosignature is an ordinary note signature whose key ID uses algorithm byte 0x04 and whose
signed message is prefixed with ``cosignature/v1`` and the witness's timestamp, so a cosigned
checkpoint opens with ``note.open_note`` given ``CosignatureVerifier``s next to the log's key.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fusioncell.ledger.errors import CheckpointError, NoteError
from fusioncell.ledger.keys import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, key_defect, verify_signature
from fusioncell.ledger.note import (
    ALG_ED25519,
    SEED_SIZE,
    NoteSignature,
    decode_base64,
    is_valid_key_name,
    key_id,
    parse_signature_line,
    split_key_string,
)
from fusioncell.ledger.tree import HASH_SIZE

ALG_COSIGNATURE_V1 = 0x04
MAX_TREE_SIZE = 2**63 - 1  # what every int64-based implementation (Go's tlog) can hold
MAX_TIMESTAMP = 2**63 - 1  # tlog-cosignature: "MUST NOT exceed 2^63 - 1"
TIMESTAMP_SIZE = 8

_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
_PRIVATE_PREFIX = "PRIVATE+KEY+"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """The note text for ``checkpoint``; refuses anything ``parse_checkpoint`` would refuse."""
    if not 0 <= checkpoint.size <= MAX_TREE_SIZE:
        raise CheckpointError(f"tree size {checkpoint.size} is out of range")
    if len(checkpoint.root_hash) != HASH_SIZE:
        raise CheckpointError("the root hash must be 32 bytes")
    root = base64.b64encode(checkpoint.root_hash).decode()
    lines = [checkpoint.origin, str(checkpoint.size), root, *checkpoint.extensions]
    text = "".join(line + "\n" for line in lines)
    if parse_checkpoint(text) != checkpoint:  # e.g. a newline smuggled into the origin
        raise CheckpointError("checkpoint does not survive formatting")
    return text


def parse_checkpoint(text: str) -> Checkpoint:
    if not text.endswith("\n"):
        raise CheckpointError("a checkpoint ends with a newline")
    if any(c < " " and c != "\n" for c in text):
        raise CheckpointError("control character in checkpoint")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("a checkpoint has an origin, a tree size and a root hash")
    if "" in lines:
        raise CheckpointError("empty line in checkpoint")
    origin, size, root, *extensions = lines
    if not _TREE_SIZE.fullmatch(size) or int(size) > MAX_TREE_SIZE:
        raise CheckpointError(f"invalid tree size {size!r}")
    try:
        root_hash = decode_base64(root)
    except ValueError as error:
        raise CheckpointError(f"root hash is {error}") from None
    if len(root_hash) != HASH_SIZE:
        raise CheckpointError("the root hash must be 32 bytes")
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))


def cosigned_message(checkpoint_text: bytes, timestamp: int) -> bytes:
    """What an Ed25519 cosigner signs: a domain-separating header, its time, the checkpoint."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"cosignature timestamp {timestamp} is out of range")
    return b"cosignature/v1\ntime %d\n" % timestamp + checkpoint_text


def cosignature_timestamp(signature: NoteSignature) -> int:
    """The witness's POSIX time inside a cosignature/v1 signature."""
    if len(signature.signature) != TIMESTAMP_SIZE + SIGNATURE_SIZE:
        raise NoteError(f"not a cosignature/v1 signature from {signature.name}")
    return int.from_bytes(signature.signature[:TIMESTAMP_SIZE], "big")


class CosignatureVerifier:
    """A witness's cosignature/v1 key, usable wherever ``note`` wants a verifier."""

    def __init__(self, name: str, public_key: bytes) -> None:
        if not is_valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}")
        if (defect := key_defect(public_key)) is not None:
            raise NoteError(f"unusable Ed25519 key for {name}: {defect.value}")
        self.name = name
        self.public_key = public_key
        self.key_id = key_id(name, ALG_COSIGNATURE_V1, public_key)

    @classmethod
    def from_key_string(cls, vkey: str) -> CosignatureVerifier:
        """Accept the spec's 0x04 vkey, and a plain Ed25519 (0x01) vkey as Go's witness does."""
        name, claimed_id, alg, public_key = split_key_string(vkey)
        if alg not in (ALG_COSIGNATURE_V1, ALG_ED25519):
            raise NoteError(f"unknown key algorithm {alg:#04x}")
        if len(public_key) != PUBLIC_KEY_SIZE:
            raise NoteError("wrong Ed25519 key length")
        if claimed_id != key_id(name, alg, public_key):
            raise NoteError(f"verifier key ID does not match key {name}")
        return cls(name, public_key)

    def key_string(self) -> str:
        material = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != TIMESTAMP_SIZE + SIGNATURE_SIZE:
            return False
        timestamp = int.from_bytes(signature[:TIMESTAMP_SIZE], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        message = cosigned_message(text, timestamp)
        return verify_signature(self.public_key, message, signature[TIMESTAMP_SIZE:])

    def __repr__(self) -> str:
        return f"CosignatureVerifier({self.name}+{self.key_id.hex()})"


class Cosigner:
    """A witness's signing key. The time is passed in, so callers decide which clock counts."""

    def __init__(self, name: str, seed: bytes) -> None:
        if not is_valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}")
        if len(seed) != SEED_SIZE:
            raise NoteError("an Ed25519 seed is 32 bytes")
        self.name = name
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._private.public_key().public_bytes_raw()
        self.key_id = key_id(name, ALG_COSIGNATURE_V1, self.public_key)

    @classmethod
    def generate(cls, name: str) -> Cosigner:
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_key_string(cls, skey: str) -> Cosigner:
        """Accept a plain Ed25519 note signer key, as Go's ``NewSignerForCosignatureV1`` does."""
        if not skey.startswith(_PRIVATE_PREFIX):
            raise NoteError("malformed signer key")
        name, claimed_id, alg, seed = split_key_string(skey[len(_PRIVATE_PREFIX) :])
        if alg != ALG_ED25519 or len(seed) != SEED_SIZE:
            raise NoteError("not an Ed25519 signer key")
        cosigner = cls(name, seed)
        if claimed_id != key_id(name, ALG_ED25519, cosigner.public_key):
            raise NoteError(f"signer key ID does not match key {name}")
        return cosigner

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.public_key)

    def cosign(self, checkpoint_text: str, timestamp: int) -> NoteSignature:
        """Cosign a checkpoint the caller has already checked for consistency."""
        parse_checkpoint(checkpoint_text)
        message = cosigned_message(checkpoint_text.encode(), timestamp)
        blob = timestamp.to_bytes(TIMESTAMP_SIZE, "big") + self._private.sign(message)
        return NoteSignature(self.name, self.key_id, blob)

    def __repr__(self) -> str:  # never the seed
        return f"Cosigner({self.name}+{self.key_id.hex()})"


def cosignature_line(checkpoint_text: str, cosigner: Cosigner, timestamp: int) -> str:
    """The ``— name base64(key ID || timestamp || signature)`` line to append to the note."""
    return cosigner.cosign(checkpoint_text, timestamp).line()


def verify_cosignature_line(checkpoint_text: str, line: str, verifier: CosignatureVerifier) -> int:
    """Check one cosignature line against ``checkpoint_text``; return the witness's timestamp."""
    parse_checkpoint(checkpoint_text)
    if not line.endswith("\n"):
        raise NoteError("a signature line ends with a newline")
    signature = parse_signature_line(line[:-1])
    if (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
        raise NoteError(f"the line is not from {verifier.name}+{verifier.key_id.hex()}")
    timestamp = cosignature_timestamp(signature)
    if not verifier.verify(checkpoint_text.encode(), signature.signature):
        raise NoteError(f"invalid cosignature from {verifier.name}")
    return timestamp
