"""Ed25519 public keys: which ones the cell accepts, and signature checks.

Ed25519 libraries disagree on edge-case points (see C2SP's CCTV ``ed25519vectors``): a key with
a small-order component can make one party's verifier accept a signature that another party's
verifier rejects, and a small-order key such as the identity lets anyone "sign" anything for
libraries that skip the cofactor. In a log that adversarial parties verify independently, such
disagreement is itself an attack, so enrolment accepts only canonically encoded points of the
prime-order subgroup: exactly the keys an honest RFC 8032 key generator can produce. The check
is done here with plain integers because ``cryptography`` (OpenSSL) loads any 32 bytes.
"""

from __future__ import annotations

from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from fusioncell.ledger.errors import RejectedKeyError

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493  # order of the prime subgroup
_D = -121665 * pow(121666, -1, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)

_Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z
_IDENTITY: _Point = (0, 1, 1, 0)


class KeyDefect(StrEnum):
    """Why a public key is refused; the values are stable wire strings."""

    WRONG_LENGTH = "wrong-length"
    NON_CANONICAL = "non-canonical-encoding"
    NOT_ON_CURVE = "not-on-curve"
    SMALL_ORDER = "small-order"
    MIXED_ORDER = "small-order-component"


def key_defect(public_key: bytes) -> KeyDefect | None:
    """The reason ``public_key`` may not be enrolled, or None if it may."""
    if len(public_key) != PUBLIC_KEY_SIZE:
        return KeyDefect.WRONG_LENGTH
    encoded = int.from_bytes(public_key, "little")
    x_sign, y = encoded >> 255, encoded & ((1 << 255) - 1)
    if y >= _P:
        return KeyDefect.NON_CANONICAL
    x = _recover_x(y)
    if x is None:
        return KeyDefect.NOT_ON_CURVE
    if x == 0 and x_sign:
        return KeyDefect.NON_CANONICAL  # "negative zero"
    if x & 1 != x_sign:
        x = _P - x
    point: _Point = (x, y, 1, x * y % _P)
    if _is_identity(_double(_double(_double(point)))):
        return KeyDefect.SMALL_ORDER
    if not _is_identity(_multiply(_L, point)):
        return KeyDefect.MIXED_ORDER
    return None


def check_enrolment_key(public_key: bytes) -> None:
    """Raise ``RejectedKeyError`` unless ``public_key`` may be enrolled."""
    if (defect := key_defect(public_key)) is not None:
        raise RejectedKeyError(defect)


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature; malformed input is simply invalid."""
    if len(public_key) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _recover_x(y: int) -> int | None:
    """RFC 8032 §5.1.3 step 2-3: a square root x of (y² - 1) / (d y² + 1), if there is one."""
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    if (v * x * x - u) % _P == 0:
        return x
    if (v * x * x + u) % _P == 0:
        return x * _SQRT_M1 % _P
    return None


def _add(a: _Point, b: _Point) -> _Point:
    """Complete twisted Edwards addition (RFC 8032 §5.1.4), valid for all inputs."""
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % _P
    bb = (y1 + x1) * (y2 + x2) % _P
    cc = 2 * _D * t1 * t2 % _P
    dd = 2 * z1 * z2 % _P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _double(a: _Point) -> _Point:
    return _add(a, a)


def _multiply(scalar: int, point: _Point) -> _Point:
    result = _IDENTITY
    for bit in bin(scalar)[2:]:
        result = _double(result)
        if bit == "1":
            result = _add(result, point)
    return result


def _is_identity(a: _Point) -> bool:
    x, y, z, _ = a
    return x % _P == 0 and (y - z) % _P == 0
