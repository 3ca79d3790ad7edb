from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from fusioncell.ledger.errors import RejectedKeyError
from fusioncell.ledger.keys import KeyDefect, check_enrolment_key, key_defect, verify_signature

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "ed25519"
CASES: list[dict[str, Any]] = json.loads((VECTORS / "ed25519vectors.json").read_text())
REFUSED_FLAGS = {"low_order_A", "non_canonical_A", "low_order_component_A"}


def _flags(case: dict[str, Any]) -> set[str]:
    return set(case["flags"] or [])


def _key_flags() -> dict[str, set[str]]:
    """Each distinct public key in the vectors with its A-side flags (the same in every case)."""
    keys: dict[str, set[str]] = {}
    for case in CASES:
        flags = {f for f in _flags(case) if f.endswith("_A")}
        assert keys.setdefault(case["key"], flags) == flags
    return keys


def test_the_vector_file_holds_all_914_cases_over_22_keys() -> None:
    assert len(CASES) == 914
    assert len(_key_flags()) == 22


@pytest.mark.parametrize(("key", "flags"), sorted(_key_flags().items()))
def test_enrolment_refuses_exactly_the_keys_with_a_small_order_part_or_odd_encoding(
    key: str, flags: set[str]
) -> None:
    refused = bool(flags & REFUSED_FLAGS)
    assert (key_defect(bytes.fromhex(key)) is not None) == refused
    if refused:
        with pytest.raises(RejectedKeyError):
            check_enrolment_key(bytes.fromhex(key))
    else:
        check_enrolment_key(bytes.fromhex(key))


# The low-order encodings listed in the vectors' README, with the reason each is refused.
LOW_ORDER = {
    "0000000000000000000000000000000000000000000000000000000000000000": KeyDefect.SMALL_ORDER,
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f": KeyDefect.NON_CANONICAL,
    "0000000000000000000000000000000000000000000000000000000000000080": KeyDefect.SMALL_ORDER,
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff": KeyDefect.NON_CANONICAL,
    "0100000000000000000000000000000000000000000000000000000000000000": KeyDefect.SMALL_ORDER,
    "0100000000000000000000000000000000000000000000000000000000000080": KeyDefect.NON_CANONICAL,
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f": KeyDefect.NON_CANONICAL,
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff": KeyDefect.NON_CANONICAL,
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05": KeyDefect.SMALL_ORDER,
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85": KeyDefect.SMALL_ORDER,
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a": KeyDefect.SMALL_ORDER,
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa": KeyDefect.SMALL_ORDER,
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f": KeyDefect.SMALL_ORDER,
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff": KeyDefect.NON_CANONICAL,
}


@pytest.mark.parametrize(("key", "defect"), sorted(LOW_ORDER.items()))
def test_each_low_order_encoding_is_refused_for_its_own_reason(key: str, defect: KeyDefect) -> None:
    with pytest.raises(RejectedKeyError) as caught:
        check_enrolment_key(bytes.fromhex(key))
    assert caught.value.defect is defect


def test_a_y_with_no_curve_point_is_refused_as_not_on_the_curve() -> None:
    assert key_defect((2).to_bytes(32, "little")) is KeyDefect.NOT_ON_CURVE


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_keys_of_the_wrong_length_are_refused(length: int) -> None:
    assert key_defect(b"\x01" * length) is KeyDefect.WRONG_LENGTH


@given(st.binary(min_size=32, max_size=32))
@settings(max_examples=50, deadline=None)
def test_every_honestly_generated_key_is_accepted(seed: bytes) -> None:
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    check_enrolment_key(public)


@pytest.mark.parametrize("case", CASES, ids=[str(c["number"]) for c in CASES])
def test_signature_checks_follow_the_ref10_behaviour_on_every_vector(case: dict[str, Any]) -> None:
    # OpenSSL, like Go and ref10, refuses a non-canonical R and an uncancelled small-order residue.
    expected = not _flags(case) & {"non_canonical_R", "low_order_residue"}
    got = verify_signature(
        bytes.fromhex(case["key"]), case["msg"].encode(), bytes.fromhex(case["sig"])
    )
    assert got is expected


def test_a_good_signature_verifies_and_a_tampered_one_does_not() -> None:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    signature = private.sign(b"message")
    assert verify_signature(public, b"message", signature)
    assert not verify_signature(public, b"messagf", signature)
    assert not verify_signature(public, b"message", bytes([signature[0] ^ 1]) + signature[1:])
    assert not verify_signature(public, b"message", signature[:63])
    assert not verify_signature(public[:31], b"message", signature)
