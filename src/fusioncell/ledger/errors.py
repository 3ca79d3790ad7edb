"""Errors raised by the pure ledger building blocks.

These are plain exceptions for now, so the tree, note and key code stay free of the web layer;
they are meant to move under ``FusioncellError`` once the project's error tree settles::

    ProofError         a Merkle proof (inclusion or consistency) does not verify
    HashStoreError     a hash store answered a read with the wrong number or size of hashes
    NoteError          a signed note is malformed, or a known key's signature fails
    CheckpointError    a checkpoint body breaks the tlog-checkpoint rules
    RejectedKeyError   a public key is refused at enrolment (see ``keys.KeyDefect``)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fusioncell.ledger.keys import KeyDefect


class ProofError(Exception):
    pass


class HashStoreError(Exception):
    pass


class NoteError(Exception):
    pass


class CheckpointError(Exception):
    pass


class RejectedKeyError(Exception):
    def __init__(self, defect: KeyDefect) -> None:
        super().__init__(f"public key rejected: {defect.value}")
        self.defect = defect
