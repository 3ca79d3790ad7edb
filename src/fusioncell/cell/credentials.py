"""Passwords (argon2id), opaque tokens and TOTP: the credential primitives, no storage."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from functools import cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PROFILES: dict[str, dict[str, int]] = {
    # RFC 9106 §4, second recommended option (64 MiB, 3 passes).
    "rfc9106-low-memory": {"time_cost": 3, "memory_cost": 65536, "parallelism": 4},
    # For the test suite only: still argon2id, just cheap.
    "fast-insecure": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
}
MIN_PASSWORD_LENGTH = 12


@cache
def hasher(profile: str) -> PasswordHasher:
    if profile not in PROFILES:
        raise ValueError(f"unknown password hash profile {profile!r}")
    params = PROFILES[profile]
    return PasswordHasher(
        time_cost=params["time_cost"],
        memory_cost=params["memory_cost"],
        parallelism=params["parallelism"],
    )


def hash_password(password: str, *, profile: str) -> str:
    return hasher(profile).hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    # The hash names its own parameters, so any profile's hasher verifies any hash.
    try:
        return hasher("fast-insecure").verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash(profile: str) -> str:
    return hash_password(secrets.token_urlsafe(16), profile=profile)


def spend_like_a_verification(profile: str) -> None:
    """Verify against a throwaway hash so an unknown username takes as long as a known one."""
    verify_password(_dummy_hash(profile), "not the password")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, *, username: str) -> str:
    return str(pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="fusioncell"))


def accepted_totp_step(secret: str, code: str, *, at: datetime, after: int | None) -> int | None:
    """The time step a code belongs to (±1 step for clock skew), or None.

    A step at or before ``after`` (the last one used) is refused: a code works once.
    """
    code = code.strip()
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(at.timestamp()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
