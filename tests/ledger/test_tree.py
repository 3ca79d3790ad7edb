from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusioncell.ledger.errors import HashStoreError, ProofError
from fusioncell.ledger.tree import (
    EMPTY_ROOT,
    MemoryHashStore,
    check_record,
    check_tree,
    leaf_hash,
    node_hash,
    prove_record,
    prove_tree,
    split_stored_hash_index,
    stored_hash_count,
    stored_hash_index,
    stored_hashes_for_record,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "rfc9162"

# The leaves behind the published RFC 6962 proofs (transparency-dev/merkle testonly).
REFERENCE_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]

MAX_LEAVES = 300
LEAVES = [f"entry {i}".encode() for i in range(MAX_LEAVES)]
STORE = MemoryHashStore()
for _data in LEAVES:
    STORE.append(_data)


def _cases(kind: str) -> list[Any]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    return [pytest.param(json.loads(f.read_text()), id=str(f.relative_to(VECTORS))) for f in files]


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _proof(case: dict[str, Any]) -> list[bytes]:
    return [_b64(h) for h in case["proof"] or []]


def _reference_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.1's recursive MTH, written as plainly as the RFC writes it."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(
        b"\x01" + _reference_root(leaves[:k]) + _reference_root(leaves[k:])
    ).digest()


def _flip(proof: list[bytes], element: int, byte: int, bit: int) -> list[bytes]:
    tampered = bytearray(proof[element])
    tampered[byte] ^= 1 << bit
    return [*proof[:element], bytes(tampered), *proof[element + 1 :]]


def test_the_published_vectors_are_all_there() -> None:
    assert len(_cases("inclusion")) + len(_cases("consistency")) == 196


@pytest.mark.parametrize("case", _cases("inclusion"))
def test_every_published_inclusion_case_gets_its_expected_verdict(case: dict[str, Any]) -> None:
    args = (_b64(case["leafHash"]), case["leafIdx"], case["treeSize"], _proof(case))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args, _b64(case["root"]))
    else:
        verify_inclusion(*args, _b64(case["root"]))


@pytest.mark.parametrize("case", _cases("inclusion"))
def test_the_tlog_style_checker_agrees_on_every_inclusion_case(case: dict[str, Any]) -> None:
    args = (_proof(case), case["treeSize"], _b64(case["root"]), case["leafIdx"])
    if case["wantErr"]:
        with pytest.raises(ProofError):
            check_record(*args, _b64(case["leafHash"]))
    else:
        check_record(*args, _b64(case["leafHash"]))


@pytest.mark.parametrize("case", _cases("consistency"))
def test_every_published_consistency_case_gets_its_expected_verdict(case: dict[str, Any]) -> None:
    args = (case["size1"], case["size2"], _proof(case), _b64(case["root1"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args, _b64(case["root2"]))
    else:
        verify_consistency(*args, _b64(case["root2"]))


def test_the_prover_reproduces_the_published_proofs_byte_for_byte() -> None:
    store = MemoryHashStore()
    for data in REFERENCE_LEAVES:
        store.append(data)
    happy = [f for f in VECTORS.rglob("happy-path.json")]
    assert len(happy) == 10
    for path in happy:
        case = json.loads(path.read_text())
        if "leafIdx" in case:
            assert leaf_hash(REFERENCE_LEAVES[case["leafIdx"]]) == _b64(case["leafHash"])
            assert tree_hash(case["treeSize"], store) == _b64(case["root"])
            assert prove_record(case["treeSize"], case["leafIdx"], store) == _proof(case)
        else:
            assert tree_hash(case["size1"], store) == _b64(case["root1"])
            assert tree_hash(case["size2"], store) == _b64(case["root2"])
            assert prove_tree(case["size2"], case["size1"], store) == _proof(case)


def test_the_empty_tree_hashes_to_sha256_of_nothing() -> None:
    assert tree_hash(0, MemoryHashStore()) == EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_tree_hash_matches_the_recursive_definition_at_every_size() -> None:
    for size in range(MAX_LEAVES + 1):
        assert tree_hash(size, STORE) == _reference_root(LEAVES[:size])


def test_hashes_are_stored_in_the_order_appends_produce_them() -> None:
    store = MemoryHashStore()
    produced = 0
    for n, data in enumerate(LEAVES[:70]):
        hashes = stored_hashes_for_record(n, data, store)
        assert stored_hash_index(0, n) == produced
        for level, h in enumerate(hashes):
            index = stored_hash_index(level, n >> level)
            assert index == produced
            assert split_stored_hash_index(index) == (level, n >> level)
            width = 1 << level
            start = (n >> level) * width
            assert h == _reference_root(LEAVES[start : start + width])
            produced += 1
        store.append(data)
        assert stored_hash_count(n + 1) == produced


def test_negative_positions_are_refused() -> None:
    for call in (
        lambda: stored_hash_index(-1, 0),
        lambda: stored_hash_index(0, -1),
        lambda: split_stored_hash_index(-1),
        lambda: stored_hash_count(-1),
        lambda: tree_hash(-1, STORE),
        lambda: stored_hashes_for_record(-1, b"", STORE),
    ):
        with pytest.raises(ValueError):
            call()


def test_a_leaf_hash_of_the_wrong_size_cannot_be_appended() -> None:
    with pytest.raises(ValueError):
        MemoryHashStore().append_leaf_hash(b"short")


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_every_inclusion_proof_verifies_and_any_flipped_bit_breaks_it(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, MAX_LEAVES), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    root = tree_hash(size, STORE)
    leaf = leaf_hash(LEAVES[index])
    proof = prove_record(size, index, STORE)

    verify_inclusion(leaf, index, size, proof, root)
    check_record(proof, size, root, index, leaf)

    bit = data.draw(st.integers(0, 7), label="bit")
    byte = data.draw(st.integers(0, 31), label="byte")
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1), label="element")
        bad = _flip(proof, element, byte, bit)
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, bad, root)
        with pytest.raises(ProofError):
            check_record(bad, size, root, index, leaf)
    bad_root = _flip([root], 0, byte, bit)[0]
    bad_leaf = _flip([leaf], 0, byte, bit)[0]
    for args in ((leaf, bad_root), (bad_leaf, root)):
        with pytest.raises(ProofError):
            verify_inclusion(args[0], index, size, proof, args[1])
        with pytest.raises(ProofError):
            check_record(proof, size, args[1], index, args[0])


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_every_consistency_proof_verifies_and_any_flipped_bit_breaks_it(
    data: st.DataObject,
) -> None:
    size2 = data.draw(st.integers(1, MAX_LEAVES), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    root1, root2 = tree_hash(size1, STORE), tree_hash(size2, STORE)
    proof = prove_tree(size2, size1, STORE)

    verify_consistency(size1, size2, proof, root1, root2)
    check_tree(proof, size2, root2, size1, root1)

    bit = data.draw(st.integers(0, 7), label="bit")
    byte = data.draw(st.integers(0, 31), label="byte")
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1), label="element")
        bad = _flip(proof, element, byte, bit)
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, bad, root1, root2)
        with pytest.raises(ProofError):
            check_tree(bad, size2, root2, size1, root1)
    bad1 = _flip([root1], 0, byte, bit)[0]
    bad2 = _flip([root2], 0, byte, bit)[0]
    for r1, r2 in ((bad1, root2), (root1, bad2)):
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, proof, r1, r2)
        with pytest.raises(ProofError):
            check_tree(proof, size2, r2, size1, r1)


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_a_proof_for_one_position_does_not_verify_at_another(data: st.DataObject) -> None:
    size = data.draw(st.integers(2, MAX_LEAVES), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other")
    root = tree_hash(size, STORE)
    proof = prove_record(size, index, STORE)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(LEAVES[index]), other, size, proof, root)
    with pytest.raises(ProofError):
        check_record(proof, size, root, other, leaf_hash(LEAVES[index]))


def test_a_consistency_proof_with_a_stray_hash_is_refused() -> None:
    size1, size2 = 5, 13
    root1, root2 = tree_hash(size1, STORE), tree_hash(size2, STORE)
    proof = prove_tree(size2, size1, STORE)
    for bad in (proof[:-1], [*proof, root2], [root1, *proof]):
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, bad, root1, root2)
        with pytest.raises(ProofError):
            check_tree(bad, size2, root2, size1, root1)


def test_the_tlog_style_checkers_refuse_impossible_sizes() -> None:
    root = tree_hash(4, STORE)
    for t, n in ((4, 4), (4, -1), (0, 0)):
        with pytest.raises(ProofError):
            check_record([], t, root, n, root)
    for t, n in ((4, 0), (3, 4)):
        with pytest.raises(ProofError):
            check_tree([], t, root, n, root)
    with pytest.raises(ProofError):
        check_tree([], 4, root, 4, root[:31])


def test_the_prover_refuses_impossible_sizes() -> None:
    for t, n in ((4, 4), (4, -1), (0, 0)):
        with pytest.raises(ValueError):
            prove_record(t, n, STORE)
    for t, n in ((4, 0), (3, 4)):
        with pytest.raises(ValueError):
            prove_tree(t, n, STORE)


class _CountingReader:
    """Answers any index with a made-up hash, so a huge tree costs nothing to 'store'."""

    def __init__(self) -> None:
        self.reads = 0

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        self.reads += len(indexes)
        return [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in indexes]


@pytest.mark.parametrize("size", [10**6, 10**6 + 1, 2**40 - 1, 2**40 + 12345])
def test_proofs_and_roots_need_only_logarithmically_many_reads(size: int) -> None:
    bound = 2 * size.bit_length()
    for n in (0, 1, size // 3, size // 2, size - 2):
        reader = _CountingReader()
        proof = prove_record(size, n, reader)
        assert reader.reads <= bound
        assert len(proof) <= size.bit_length()
    for n in (1, 3, size // 3, size // 2 + 7, size - 1, size):
        reader = _CountingReader()
        prove_tree(size, n, reader)
        assert reader.reads <= bound
    reader = _CountingReader()
    tree_hash(size, reader)
    assert reader.reads == size.bit_count()


class _ShortReader:
    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        return [b"\x00" * 32 for _ in indexes][1:]


def test_a_store_that_answers_short_is_reported() -> None:
    with pytest.raises(HashStoreError):
        tree_hash(3, _ShortReader())
    with pytest.raises(HashStoreError):
        prove_record(8, 3, _ShortReader())


def test_the_memory_store_refuses_indexes_it_does_not_hold() -> None:
    store = MemoryHashStore()
    store.append(b"only")
    with pytest.raises(HashStoreError):
        store.read_hashes([1])
    assert store.read_hashes([0]) == [leaf_hash(b"only")]
    assert store.root() == leaf_hash(b"only")


def test_node_hash_is_the_rfc_interior_hash() -> None:
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert node_hash(left, right) == _reference_root([b"a", b"b"])
