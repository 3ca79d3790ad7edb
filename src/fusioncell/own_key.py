"""A member's own signing key, in a file on their machine: made once, never overwritten, and
refused in one line when missing, unreadable, readable by others, or not an Ed25519 key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fusioncell.ledger.keyring import KeyFileError


def generate_key_file(path: Path) -> Ed25519PrivateKey:
    """Write a new private key (PKCS#8 PEM) readable by its owner only; never overwrite."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
    except OSError as exc:
        raise KeyFileError(f"cannot write the key file {path}: {exc.strerror or exc}") from None
    return private


def load_key_file(path: Path) -> Ed25519PrivateKey:
    """The member's private key, refused with one line if missing, unreadable, readable by
    others, or not an Ed25519 key in PEM form."""
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise KeyFileError(f"the key file {path} is not a file")
        if mode & 0o077:
            raise KeyFileError(f"the key file {path} is readable by others: chmod 600 {path}")
        pem = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the key file {path}: {exc.strerror or exc}") from None
    try:
        private = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        private = None  # the library's message names its internals, not the file
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyFileError(
            f"the key file {path} does not hold an unencrypted Ed25519 private key "
            "(make one with `fusioncell keys generate`)"
        )
    return private


def public_key_of(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes_raw()
