"""RFC 9162 Merkle tree hashing, proofs, and proof verification.

The storage layout is that of Go's ``golang.org/x/mod/sumdb/tlog``: the hash of every complete
subtree (2**level leaves, the n-th such subtree at that level) is stored exactly once, at an index
fixed by its position alone. The store is then an append-only array, which a table, a file or a
tile server can back equally well, and any root or proof needs only O(log n) reads from it.

Two verifier families live here on purpose. ``check_record``/``check_tree`` mirror the recursive
construction of the prover; ``verify_inclusion``/``verify_consistency`` follow the RFC 9162 text
step by step, so a witness or a party's own tool can check our proofs with an algorithm that
shares no code path with the one that made them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Protocol

from fusioncell.ledger.errors import HashStoreError, ProofError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""RFC 9162 §2.1.1 defines the empty tree's hash as SHA-256 of nothing (tlog uses zeros)."""


class HashReader(Protocol):
    """Anything that can return stored hashes by their ``stored_hash_index``.

    Reads are batched because a database or tile store answers one round trip per call.
    """

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]: ...


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def stored_hash_index(level: int, n: int) -> int:
    """Where the hash of the n-th subtree of 2**level leaves sits in the store.

    Hashes are laid out in the order an append-only log produces them: a record's leaf hash,
    then the hash of every subtree that record completes, lowest first.
    """
    if level < 0 or n < 0:
        raise ValueError(f"invalid subtree ({level}, {n})")
    last = ((n + 1) << level) - 1  # the subtree's last leaf, which completes it
    # Everything stored before that leaf's hash, which is sum(last >> i), then one per level.
    return 2 * last - last.bit_count() + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """Invert ``stored_hash_index``: the (level, n) of the subtree stored at ``index``."""
    if index < 0:
        raise ValueError(f"invalid stored hash index {index}")
    # stored_hash_index(0, n) <= 2n, so the record that wrote this hash is at least index // 2,
    # and each record writes 1 + trailing_zeros(n + 1) hashes: walk forward to it.
    n = index // 2
    start = stored_hash_index(0, n)
    while (following := start + 1 + _trailing_zeros(n + 1)) <= index:
        n += 1
        start = following
    level = index - start
    return level, n >> level


def stored_hash_count(n: int) -> int:
    """How many hashes the store holds once records 0 .. n-1 are appended."""
    if n < 0:
        raise ValueError(f"invalid tree size {n}")
    return 2 * n - n.bit_count()


def stored_hashes_for_record(n: int, data: bytes, reader: HashReader) -> list[bytes]:
    """The hashes to append to the store when record ``n`` (with ``data``) joins the log."""
    return stored_hashes_for_leaf_hash(n, leaf_hash(data), reader)


def stored_hashes_for_leaf_hash(n: int, leaf: bytes, reader: HashReader) -> list[bytes]:
    """As ``stored_hashes_for_record``, for callers that hash the leaf themselves."""
    if n < 0:
        raise ValueError(f"invalid record index {n}")
    if len(leaf) != HASH_SIZE:
        raise ValueError("leaf hash must be 32 bytes")
    # Each trailing 1 bit of n completes a subtree, whose left half is already stored.
    completed = _trailing_zeros(n + 1)
    levels = range(completed - 1, -1, -1)  # read in ascending index order
    lefts = _read(reader, [stored_hash_index(level, (n >> level) - 1) for level in levels])
    hashes = [leaf]
    current = leaf
    for left in reversed(lefts):
        current = node_hash(left, current)
        hashes.append(current)
    return hashes


def tree_hash(n: int, reader: HashReader) -> bytes:
    """The root hash of the first ``n`` records."""
    if n < 0:
        raise ValueError(f"invalid tree size {n}")
    if n == 0:
        return EMPTY_ROOT
    hashes = iter(_read(reader, _subtree_indexes(0, n, [])))
    return _subtree_hash(0, n, hashes)


def prove_record(t: int, n: int, reader: HashReader) -> list[bytes]:
    """The RFC 9162 inclusion proof of record ``n`` in the tree of size ``t``."""
    if not 0 <= n < t:
        raise ValueError(f"no record {n} in a tree of size {t}")
    siblings: list[tuple[int, int]] = []
    lo, hi = 0, t
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if n < mid:
            siblings.append((mid, hi))
            hi = mid
        else:
            siblings.append((lo, mid))
            lo = mid
    return _subtree_hashes_bottom_up(siblings, reader)


def prove_tree(t: int, n: int, reader: HashReader) -> list[bytes]:
    """The RFC 9162 consistency proof from the tree of size ``n`` to the tree of size ``t``."""
    if not 1 <= n <= t:
        raise ValueError(f"no consistency proof from size {n} to size {t}")
    nodes: list[tuple[int, int]] = []
    lo, hi = 0, t
    while n != hi:
        mid = lo + _split(hi - lo)
        if n <= mid:
            nodes.append((mid, hi))
            hi = mid
        else:
            nodes.append((lo, mid))
            lo = mid
    if lo != 0:  # the verifier knows the old root only when the old tree is this whole subtree
        nodes.append((lo, hi))
    return _subtree_hashes_bottom_up(nodes, reader)


def check_record(proof: Sequence[bytes], t: int, th: bytes, n: int, h: bytes) -> None:
    """Check that leaf hash ``h`` is record ``n`` of the tree of size ``t`` and root ``th``."""
    if not 0 <= n < t:
        raise ProofError(f"no record {n} in a tree of size {t}")
    _require_hashes([h, th, *proof])
    left_turns: list[bool] = []
    lo, hi = 0, t
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        left_turns.append(n < mid)
        lo, hi = (lo, mid) if n < mid else (mid, hi)
    if len(proof) != len(left_turns):
        raise ProofError(f"inclusion proof has {len(proof)} hashes, want {len(left_turns)}")
    current = h
    for went_left, sibling in zip(reversed(left_turns), proof, strict=True):
        current = node_hash(current, sibling) if went_left else node_hash(sibling, current)
    if current != th:
        raise ProofError("inclusion proof does not lead to the tree hash")


def check_tree(proof: Sequence[bytes], t: int, th: bytes, n: int, h: bytes) -> None:
    """Check that the tree of size ``n`` and root ``h`` is a prefix of size ``t``, root ``th``."""
    if not 1 <= n <= t:
        raise ProofError(f"no consistency proof from size {n} to size {t}")
    _require_hashes([h, th, *proof])
    left_turns: list[bool] = []
    lo, hi = 0, t
    while n != hi:
        mid = lo + _split(hi - lo)
        left_turns.append(n <= mid)
        lo, hi = (lo, mid) if n <= mid else (mid, hi)
    seeded = 0 if lo == 0 else 1
    if len(proof) != seeded + len(left_turns):
        want = seeded + len(left_turns)
        raise ProofError(f"consistency proof has {len(proof)} hashes, want {want}")
    old = new = h if lo == 0 else proof[0]
    for went_left, sibling in zip(reversed(left_turns), proof[seeded:], strict=True):
        if went_left:
            new = node_hash(new, sibling)
        else:
            old = node_hash(sibling, old)
            new = node_hash(sibling, new)
    if old != h or new != th:
        raise ProofError("consistency proof does not lead to both tree hashes")


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2, step by step."""
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} is outside a tree of size {tree_size}")
    _require_hashes([leaf_hash, root, *proof])
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 §2.1.4.2, step by step, after the cases the RFC leaves to the caller.

    Equal sizes are consistent exactly when the roots are equal and the proof is empty. Size 0
    is refused: every tree extends the empty one, so such a "proof" would attest nothing, and a
    client must pin its first checkpoint by other means.
    """
    if not 0 <= size1 <= size2:
        raise ProofError(f"no consistency from size {size1} to size {size2}")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes need an empty consistency proof")
        if root1 != root2:
            raise ProofError("equal sizes but different roots")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    _require_hashes([root1, root2, *proof])
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError("consistency proof does not lead to the first root")
    if sr != root2:
        raise ProofError("consistency proof does not lead to the second root")


class MemoryHashStore:
    """A whole log's stored hashes in one bytearray: for tests, benchmarks and offline checks."""

    def __init__(self) -> None:
        self._hashes = bytearray()
        self.size = 0

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        count = len(self._hashes) // HASH_SIZE
        out = []
        for index in indexes:
            if not 0 <= index < count:
                raise HashStoreError(f"no stored hash {index}; the store holds {count}")
            start = index * HASH_SIZE
            out.append(bytes(self._hashes[start : start + HASH_SIZE]))
        return out

    def append(self, data: bytes) -> int:
        """Append a record and return its index."""
        return self.append_leaf_hash(leaf_hash(data))

    def append_leaf_hash(self, leaf: bytes) -> int:
        n = self.size
        for h in stored_hashes_for_leaf_hash(n, leaf, self):
            self._hashes += h
        self.size = n + 1
        return n

    def root(self) -> bytes:
        return tree_hash(self.size, self)


def _trailing_zeros(x: int) -> int:
    return (x & -x).bit_length() - 1


def _split(size: int) -> int:
    """RFC 9162's k: the largest power of two strictly less than ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def _subtree_indexes(lo: int, hi: int, need: list[int]) -> list[int]:
    """Append the stored indexes of the complete subtrees that tile [lo, hi), largest first."""
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        need.append(stored_hash_index(level, lo >> level))
        lo += 1 << level
    return need


def _subtree_hash(lo: int, hi: int, hashes: Iterator[bytes]) -> bytes:
    """Fold the tiles of [lo, hi), read in ``_subtree_indexes`` order, into the range's hash."""
    tiles = []
    while lo < hi:
        tiles.append(next(hashes))
        lo += 1 << ((hi - lo).bit_length() - 1)
    current = tiles[-1]
    for left in reversed(tiles[:-1]):
        current = node_hash(left, current)
    return current


def _subtree_hashes_bottom_up(ranges: list[tuple[int, int]], reader: HashReader) -> list[bytes]:
    """Hash each range (given top of the tree first) and return them leaf end first."""
    need: list[int] = []
    for lo, hi in ranges:
        _subtree_indexes(lo, hi, need)
    hashes = iter(_read(reader, need))
    return [_subtree_hash(lo, hi, hashes) for lo, hi in ranges][::-1]


def _read(reader: HashReader, indexes: list[int]) -> list[bytes]:
    if not indexes:
        return []
    hashes = reader.read_hashes(indexes)
    if len(hashes) != len(indexes) or any(len(h) != HASH_SIZE for h in hashes):
        raise HashStoreError(f"asked for {len(indexes)} hashes, got a different answer")
    return hashes


def _require_hashes(hashes: Sequence[bytes]) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError("every hash in a proof, leaf or root must be 32 bytes")
