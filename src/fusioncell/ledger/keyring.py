"""The deployment's own secrets: the log's signing key and the custody key.

They live in files under ``FUSIONCELL_KEY_DIR`` (mode 0600), never in the database or the
repository: a copy of the database alone can neither sign checkpoints nor unseal the
custodial member keys. Every app process of a deployment reads the same directory.
"""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fusioncell.ledger.note import Ed25519Signer

LOG_KEY_FILE = "log.key"
CUSTODY_KEY_FILE = "custody.key"


class KeyFileError(Exception):
    """A key file is missing, unreadable or too widely readable."""


@dataclass(frozen=True)
class Keyring:
    log_signer: Ed25519Signer
    custody_key: bytes

    @property
    def origin(self) -> str:
        return self.log_signer.name

    def seal(self, seed: bytes, *, key_id: str) -> bytes:
        """Seal a custodial seed; the key id is bound as associated data."""
        nonce = os.urandom(12)
        return nonce + AESGCM(self.custody_key).encrypt(nonce, seed, key_id.encode())

    def unseal(self, sealed: bytes, *, key_id: str) -> bytes:
        return AESGCM(self.custody_key).decrypt(sealed[:12], sealed[12:], key_id.encode())


def _write_secret(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _read_secret(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path} is readable by others: chmod 600 {path}")
    return path.read_text().strip()


def load_or_create_keyring(key_dir: Path, *, origin: str) -> Keyring:
    """Read the deployment's keys, creating them on first start."""
    log_path, custody_path = key_dir / LOG_KEY_FILE, key_dir / CUSTODY_KEY_FILE
    try:
        if not log_path.exists():
            _write_secret(log_path, Ed25519Signer.generate(origin).key_string())
        if not custody_path.exists():
            _write_secret(custody_path, base64.b64encode(os.urandom(32)).decode())
    except FileExistsError:  # another process created it first: read theirs
        pass
    signer = Ed25519Signer.from_key_string(_read_secret(log_path))
    if signer.name != origin:
        raise KeyFileError(
            f"{log_path} is the key of log {signer.name!r}, not of {origin!r}: "
            "set FUSIONCELL_DEPLOYMENT / FUSIONCELL_CELL to match, or use another key dir"
        )
    custody = base64.b64decode(_read_secret(custody_path))
    if len(custody) != 32:
        raise KeyFileError(f"{custody_path} does not hold a 32-byte key")
    return Keyring(log_signer=signer, custody_key=custody)


def new_seed() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes_raw()
