"""C2SP signed notes (https://c2sp.org/signed-note), with Ed25519 keys.

A checkpoint travels as a signed note so that any witness or monitor that speaks the format
(Go's ``sumdb/note``, the transparency-dev witness, Sigstore) can check our log without our code.
The parser is strict on purpose: the log stores and compares notes byte for byte, so anything a
reference implementation would accept in two spellings (non-canonical base64, stray control
characters) is refused rather than normalised.

Signers and verifiers are protocols, so cosignatures (``checkpoint.py``) and, later, keys held
elsewhere plug into ``sign_note`` and ``open_note`` unchanged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fusioncell.ledger.errors import NoteError
from fusioncell.ledger.keys import PUBLIC_KEY_SIZE, key_defect, verify_signature

ALG_ED25519 = 0x01
KEY_ID_SIZE = 4
MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16; Go's reference stops at 100
SEED_SIZE = 32

_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")


class NoteSigner(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def sign(self, text: bytes) -> bytes: ...


class NoteVerifier(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, text: bytes, signature: bytes) -> bool: ...


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes  # what follows the key ID in the base64 blob

    def line(self) -> str:
        blob = base64.b64encode(self.key_id + self.signature).decode()
        return f"{_SIGNATURE_PREFIX}{self.name} {blob}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]  # verified, in note order
    unverified: tuple[NoteSignature, ...] = ()  # from keys the caller does not know


def key_id(name: str, alg: int, public_key: bytes) -> bytes:
    """The spec's recommended key ID; the algorithm byte keeps one key's uses apart."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()[:KEY_ID_SIZE]


def is_valid_key_name(name: str) -> bool:
    return (
        name != ""
        and "+" not in name
        and not any(c.isspace() or c < " " for c in name)
        and _is_utf8(name)
    )


class Ed25519Verifier:
    """An Ed25519 note key; refuses keys enrolment would refuse, as they invite forgeries."""

    def __init__(self, name: str, public_key: bytes) -> None:
        if not is_valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}")
        if (defect := key_defect(public_key)) is not None:
            raise NoteError(f"unusable Ed25519 key for {name}: {defect.value}")
        self.name = name
        self.public_key = public_key
        self.key_id = key_id(name, ALG_ED25519, public_key)

    @classmethod
    def from_key_string(cls, vkey: str) -> Ed25519Verifier:
        """Parse ``name+hexkeyid+base64(0x01||public key)``."""
        name, claimed_id, public_key = _ed25519_key_string(vkey, PUBLIC_KEY_SIZE)
        verifier = cls(name, public_key)
        if verifier.key_id != claimed_id:
            raise NoteError(f"verifier key ID does not match key {name}")
        return verifier

    def key_string(self) -> str:
        material = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        return verify_signature(self.public_key, text, signature)

    def __repr__(self) -> str:
        return f"Ed25519Verifier({self.name}+{self.key_id.hex()})"


class Ed25519Signer:
    def __init__(self, name: str, seed: bytes) -> None:
        if not is_valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}")
        if len(seed) != SEED_SIZE:
            raise NoteError("an Ed25519 seed is 32 bytes")
        self.name = name
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._private.public_key().public_bytes_raw()
        self.key_id = key_id(name, ALG_ED25519, self.public_key)

    @classmethod
    def generate(cls, name: str) -> Ed25519Signer:
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_key_string(cls, skey: str) -> Ed25519Signer:
        """Parse ``PRIVATE+KEY+name+hexkeyid+base64(0x01||seed)``."""
        if not skey.startswith(_PRIVATE_PREFIX):
            raise NoteError("malformed signer key")
        name, claimed_id, seed = _ed25519_key_string(skey[len(_PRIVATE_PREFIX) :], SEED_SIZE)
        signer = cls(name, seed)
        if signer.key_id != claimed_id:
            raise NoteError(f"signer key ID does not match key {name}")
        return signer

    def key_string(self) -> str:
        """The private key string; whoever holds it can sign as this key."""
        seed = self._private.private_bytes_raw()
        material = base64.b64encode(bytes([ALG_ED25519]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{material}"

    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self.name, self.public_key)

    def private_key(self) -> Ed25519PrivateKey:
        """For signing log entries with the same key as the checkpoints."""
        return self._private

    def sign(self, text: bytes) -> bytes:
        return self._private.sign(text)

    def __repr__(self) -> str:  # never the seed
        return f"Ed25519Signer({self.name}+{self.key_id.hex()})"


def sign_note(
    text: str, signers: Sequence[NoteSigner], *, keep: Sequence[NoteSignature] = ()
) -> bytes:
    """Sign ``text`` with every signer; ``keep`` carries earlier signatures (e.g. the log's when
    a witness adds its cosignature), minus any a signer here replaces."""
    _check_note_characters(text)
    if not text.endswith("\n"):
        raise NoteError("malformed note: text must end with a newline")
    encoded = text.encode()
    fresh = []
    for signer in signers:
        if not is_valid_key_name(signer.name) or len(signer.key_id) != KEY_ID_SIZE:
            raise NoteError(f"invalid signer {signer.name!r}")
        fresh.append(NoteSignature(signer.name, signer.key_id, signer.sign(encoded)))
    replaced = {(s.name, s.key_id) for s in fresh}
    kept = [s for s in keep if (s.name, s.key_id) not in replaced]
    for sig in kept:
        if not is_valid_key_name(sig.name) or len(sig.key_id) != KEY_ID_SIZE:
            raise NoteError(f"invalid signature from {sig.name!r}")
    everything = [*kept, *fresh]
    if not everything:
        raise NoteError("a note needs at least one signature")
    if len(everything) > MAX_SIGNATURES:
        raise NoteError(f"more than {MAX_SIGNATURES} signatures")
    return (text + "\n" + "".join(s.line() for s in everything)).encode()


def parse_note(msg: bytes) -> tuple[str, list[NoteSignature]]:
    """Split a note into its text and signature lines, checking syntax only (no keys)."""
    try:
        decoded = msg.decode("utf-8")
    except UnicodeDecodeError:
        raise NoteError("malformed note: not UTF-8") from None
    _check_note_characters(decoded)
    split = decoded.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, block = decoded[: split + 1], decoded[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("malformed note: no signature lines, or no final newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    return text, [parse_signature_line(line) for line in lines]


def open_note(msg: bytes, verifiers: Iterable[NoteVerifier]) -> Note:
    """Parse ``msg`` and verify it against known keys.

    As the spec requires, signatures from unknown keys are set aside, a known key's bad
    signature rejects the whole note, and a note with no verified signature is rejected.
    """
    text, signatures = parse_note(msg)
    known: dict[tuple[str, bytes], list[NoteVerifier]] = {}
    for verifier in verifiers:
        known.setdefault((verifier.name, verifier.key_id), []).append(verifier)
    encoded = text.encode()
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen: set[tuple[str, bytes]] = set()
    for sig in signatures:
        candidates = known.get((sig.name, sig.key_id), [])
        label = f"{sig.name}+{sig.key_id.hex()}"
        if not candidates:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if len(candidates) > 1:
            raise NoteError(f"ambiguous key {label}")
        if (sig.name, sig.key_id) in seen:
            continue
        seen.add((sig.name, sig.key_id))
        if not candidates[0].verify(encoded, sig.signature):
            raise NoteError(f"invalid signature for key {label}")
        verified.append(sig)
    if not verified:
        raise NoteError("note has no verifiable signatures")
    return Note(text=text, signatures=tuple(verified), unverified=tuple(unverified))


def decode_base64(value: str) -> bytes:
    """Standard base64, refusing anything but the one canonical spelling of the bytes."""
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if base64.b64encode(decoded).decode() != value:
        raise ValueError("non-canonical base64")
    return decoded


def parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise NoteError("malformed note: a signature line must start with an em dash")
    name, _, blob = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    if not is_valid_key_name(name):
        raise NoteError(f"malformed note: invalid key name {name!r}")
    try:
        decoded = decode_base64(blob)
    except ValueError as error:
        raise NoteError(f"malformed note: signature of {name} is {error}") from None
    if len(decoded) <= KEY_ID_SIZE:
        raise NoteError(f"malformed note: signature of {name} is too short")
    return NoteSignature(name, decoded[:KEY_ID_SIZE], decoded[KEY_ID_SIZE:])


def split_key_string(key: str) -> tuple[str, bytes, int, bytes]:
    """Split ``name+hexkeyid+base64(alg||material)`` into its parts, checking syntax only."""
    parts = key.split("+", 2)
    if len(parts) != 3 or not is_valid_key_name(parts[0]) or not _KEY_ID_HEX.fullmatch(parts[1]):
        raise NoteError("malformed key string")
    name, hex_id, encoded = parts
    try:
        material = decode_base64(encoded)
    except ValueError as error:
        raise NoteError(f"malformed key string: key material is {error}") from None
    if not material:
        raise NoteError("malformed key string: no key material")
    return name, bytes.fromhex(hex_id), material[0], material[1:]


def _ed25519_key_string(key: str, size: int) -> tuple[str, bytes, bytes]:
    name, claimed_id, alg, material = split_key_string(key)
    if alg != ALG_ED25519:
        raise NoteError(f"unknown key algorithm {alg:#04x}")
    if len(material) != size:
        raise NoteError("wrong Ed25519 key length")
    return name, claimed_id, material


def _check_note_characters(text: str) -> None:
    if any(c < " " and c != "\n" for c in text):
        raise NoteError("malformed note: control character")
    if not _is_utf8(text):
        raise NoteError("malformed note: not UTF-8")


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True
