"""A party's witness: the add-checkpoint service of https://c2sp.org/tlog-witness.

Each party runs its own witness so that the log cannot show two parties two different histories:
the witness cosigns a checkpoint only if it extends, by a verified consistency proof, the last one
it cosigned, and it remembers that one across restarts. The check and the update happen under
one lock and the new state is on disk (fsync, rename, fsync of the directory) before the
cosignature leaves, because a witness that forgets, or answers before it remembers, can be
walked back onto a fork (the race the spec spells out).

A refusal the log signed is itself evidence: a checkpoint at the cosigned size with another root,
or one no consistency proof joins to the cosigned one, is what a fork looks like from here. Such
notes are logged and kept in the state file (the newest ``EVIDENCE_LIMIT``), so the party can
later show them next to the checkpoint its witness cosigned.

``protocol`` makes the decision (and holds the status codes, in the spec's order), ``state`` the
durable memory, ``app`` the HTTP face; ``fusioncell witness`` (``witness_cli``) runs it.
"""

from __future__ import annotations

from fusioncell.ledger.witness.app import MAX_BODY_SIZE, create_witness_app
from fusioncell.ledger.witness.protocol import (
    MAX_PROOF_LINES,
    SIZE_CONTENT_TYPE,
    AddCheckpointRequest,
    Refusal,
    Witness,
    parse_add_checkpoint,
)
from fusioncell.ledger.witness.state import (
    EVIDENCE_LIMIT,
    CosignedCheckpoint,
    WitnessState,
    WitnessStateError,
    write_durably,
)

__all__ = [
    "EVIDENCE_LIMIT",
    "MAX_BODY_SIZE",
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpointRequest",
    "CosignedCheckpoint",
    "Refusal",
    "Witness",
    "WitnessState",
    "WitnessStateError",
    "create_witness_app",
    "parse_add_checkpoint",
    "write_durably",
]
