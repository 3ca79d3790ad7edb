"""A party's witness: the add-checkpoint service of https://c2sp.org/tlog-witness.

Each party runs its own witness so that the log cannot show two parties two different histories:
the witness cosigns a checkpoint only if it extends, by a verified consistency proof, the last one
it cosigned, and it remembers that one across restarts. The check and the update happen under
one lock and the new state is on disk (fsync, rename, fsync of the directory) before the
cosignature leaves, because a witness that forgets, or answers before it remembers, can be
walked back onto a fork (the race the spec spells out).

Evidence means evidence: a checkpoint at the cosigned size with another root, both signed by the
log's key, proves a fork to anyone. Such a pair is logged and kept in the state file, once and
for good, so the party can later show it. A consistency proof that does not verify proves
nothing (the sender may have made it up) and is only a refused request. Each source address may
ask at most ``DEFAULT_RATE`` times a second (bursts of ``DEFAULT_BURST``) by default.

``protocol`` makes the decision (and holds the status codes, in the spec's order), ``state`` the
durable memory, ``limits`` the pace, ``app`` the HTTP face; ``fusioncell witness``
(``witness_cli``) runs it.
"""

from __future__ import annotations

from fusioncell.ledger.witness.app import MAX_BODY_SIZE, create_witness_app
from fusioncell.ledger.witness.limits import DEFAULT_BURST, DEFAULT_RATE, RateLimiter
from fusioncell.ledger.witness.protocol import (
    MAX_PROOF_LINES,
    SIZE_CONTENT_TYPE,
    AddCheckpointRequest,
    Refusal,
    Witness,
    parse_add_checkpoint,
)
from fusioncell.ledger.witness.state import (
    CosignedCheckpoint,
    WitnessState,
    WitnessStateError,
    write_durably,
)

__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_RATE",
    "MAX_BODY_SIZE",
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpointRequest",
    "CosignedCheckpoint",
    "RateLimiter",
    "Refusal",
    "Witness",
    "WitnessState",
    "WitnessStateError",
    "create_witness_app",
    "parse_add_checkpoint",
    "write_durably",
]
