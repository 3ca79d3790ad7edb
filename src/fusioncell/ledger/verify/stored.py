"""The checks of what a source keeps beside the leaves: bodies, a database's columns and tables.

Each leaf's body must hash to its header's body hash and be spelled in canonical JSON; a
database's derived columns must match the leaf; and once the leaves are checked, its counts,
its key table (against the key history the leaves derive) and its older checkpoints must agree
with them, so that a byte changed anywhere is caught.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from fusioncell.ledger import tree
from fusioncell.ledger.checkpoint import (
    CosignatureVerifier,
    parse_checkpoint,
    verify_cosignature_line,
)
from fusioncell.ledger.entries import Leaf, body_hash, canonical, log_time
from fusioncell.ledger.errors import CheckpointError, NoteError
from fusioncell.ledger.note import Ed25519Verifier, open_note
from fusioncell.ledger.verify.history import KeyHistory
from fusioncell.ledger.verify.report import Failure
from fusioncell.ledger.verify.sources import (
    StoredBody,
    StoredCheckpoint,
    StoredColumns,
    StoredState,
)


def check_body(index: int, committed: str, body: StoredBody) -> dict[str, Any]:
    try:
        value = json.loads(body.text)
    except (ValueError, RecursionError):
        raise Failure(index, "the stored body is not JSON") from None
    if not isinstance(value, dict):
        raise Failure(index, "the stored body is not a JSON object")
    try:
        recomputed, spelled = body_hash(body.salt, value), canonical(value)
    except ValueError as exc:
        raise Failure(index, f"the stored body has no canonical JSON form: {exc}") from None
    if recomputed != committed:
        raise Failure(index, "the stored body and salt do not hash to the header's body hash")
    if spelled != body.text.encode():
        raise Failure(index, "the stored body is not in canonical JSON (RFC 8785)")
    return value


def check_columns(index: int, data: bytes, leaf: Leaf, columns: StoredColumns) -> None:
    header = leaf.header
    for name, stored, derived in (
        ("leaf_hash", columns.leaf_hash, tree.leaf_hash(data)),
        ("signature", columns.signature, leaf.signature),
        ("entry_type", columns.entry_type, header["type"]),
        ("author_key_id", columns.author, header["author"]),
        ("logged_at", log_time(columns.logged_at), log_time(leaf.logged_at)),
        ("custodial", columns.custodial, header["custodial"]),
    ):
        if stored != derived:
            raise Failure(index, f"log_entries.{name} does not match the leaf")


def check_stored(
    state: StoredState,
    *,
    store: tree.MemoryHashStore,
    audiences: Mapping[int, frozenset[tuple[str, str]]],
    audiences_given: bool,
    history: KeyHistory,
    log_key: Ed25519Verifier,
    witnesses: Sequence[CosignatureVerifier],
) -> None:
    """A database's counts, key table and older checkpoints agree with the leaves."""
    count = store.size
    if state.next_index is not None and state.next_index != count:
        if state.next_index > count:
            raise Failure(
                count, f"entry {count} is missing: log_sequence counts {state.next_index}"
            )
        raise Failure(state.next_index, f"log_sequence counts only {state.next_index} entries")
    if state.entry_rows != count:
        raise Failure(
            None, f"log_entries holds {state.entry_rows} rows, but the log {count} entries"
        )
    if state.hash_rows != tree.stored_hash_count(count):
        raise Failure(
            None,
            f"log_hashes holds {state.hash_rows} hashes; {count} entries make "
            f"{tree.stored_hash_count(count)}",
        )
    if state.body_rows != count:
        raise Failure(None, f"log_bodies holds {state.body_rows} rows, but the log {count} entries")
    granted = sum(len(rows) for rows in audiences.values())
    if audiences_given and state.audience_rows != granted:
        raise Failure(
            None,
            f"log_audiences holds {state.audience_rows} rows, but the log's entries {granted}",
        )
    _check_keys(state, history)
    for stored in state.checkpoints:
        _check_stored_checkpoint(stored, store=store, log_key=log_key, witnesses=witnesses)


def _check_keys(state: StoredState, history: KeyHistory) -> None:
    stored = {key.key_id: key for key in state.keys}
    for derived in sorted(history.keys.values(), key=lambda k: k.enrolled_index):
        kept = stored.pop(derived.key_id, None)
        if kept is None:
            raise Failure(
                derived.enrolled_index, f"log_keys lacks the key {derived.key_id} enrolled here"
            )
        for name, ours, theirs in (
            ("public_key", derived.public_key, kept.public_key),
            ("member_id", derived.member, kept.member),
            ("custodial", derived.custodial, kept.custodial),
            ("enrolled_index", derived.enrolled_index, kept.enrolled_index),
            ("revoked_index", derived.revoked_index, kept.revoked_index),
        ):
            if ours != theirs:
                raise Failure(
                    derived.enrolled_index,
                    f"log_keys has another {name} for the key {derived.key_id} enrolled here",
                )
    for extra in stored.values():
        raise Failure(None, f"log_keys holds the key {extra.key_id}, which no entry enrolls")


def _check_stored_checkpoint(
    stored: StoredCheckpoint,
    *,
    store: tree.MemoryHashStore,
    log_key: Ed25519Verifier,
    witnesses: Sequence[CosignatureVerifier],
) -> None:
    what = f"the stored checkpoint of size {stored.size}"
    try:
        text = open_note(stored.note.encode(), [log_key]).text
        checkpoint = parse_checkpoint(text)
    except (NoteError, CheckpointError) as exc:
        raise Failure(None, f"{what} does not verify: {exc}") from None
    if (checkpoint.origin, checkpoint.size, checkpoint.root_hash) != (
        log_key.name,
        stored.size,
        stored.root,
    ):
        raise Failure(None, f"{what} does not match its note")
    if stored.size > store.size or stored.root != tree.tree_hash(stored.size, store):
        raise Failure(None, f"{what} does not match the log")
    by_name = {w.name: w for w in witnesses}
    for name, line in stored.cosignatures:
        if (witness := by_name.get(name)) is None:
            continue  # a witness we were not given: nothing to check it against
        try:
            verify_cosignature_line(text, line + "\n", witness)
        except (NoteError, CheckpointError) as exc:
            raise Failure(None, f"{what} has a bad cosignature from {name}: {exc}") from None
