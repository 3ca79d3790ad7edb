"""``fusioncell verify``: check a log from its leaves, as any party can, offline.

    checkpoint   the log key's signature; the given witnesses' cosignatures, up to the quorum
        │
    tree         the root recomputed from every leaf up to the checkpoint's size (stored
        │        hashes are not trusted)
        │
    each leaf    canonical form, header shape, log time, the signature under the key history
        │        at that index, and the body against the header wherever the source has it
        │
    a database   its derived columns, stored hashes, key table and older checkpoints agree
        │        with the leaves, so that a byte changed anywhere is caught; every body is kept
        │
    its state    with the tracks' state checks: every audience row and every served row
                 agrees with the bodies (``state.py``)

Sources: ``DatabaseSource`` reads the tables (bodies included); ``HttpSource`` reads only the
public checkpoint and entry bundles (C2SP tlog-tiles).
"""

from __future__ import annotations

from fusioncell.ledger.verify.database import DatabaseSource
from fusioncell.ledger.verify.http import HttpSource
from fusioncell.ledger.verify.log import verify_log
from fusioncell.ledger.verify.replay import Replay, ReplayFactory
from fusioncell.ledger.verify.report import VerifyReport
from fusioncell.ledger.verify.sources import (
    EntryUnavailable,
    LogSource,
    SourceEntry,
    SourceError,
    StoredBody,
)
from fusioncell.ledger.verify.state import (
    Recorded,
    RecordedLog,
    StateCheck,
    StateMismatch,
)

__all__ = [
    "DatabaseSource",
    "EntryUnavailable",
    "HttpSource",
    "LogSource",
    "Recorded",
    "RecordedLog",
    "Replay",
    "ReplayFactory",
    "SourceEntry",
    "SourceError",
    "StateCheck",
    "StateMismatch",
    "StoredBody",
    "VerifyReport",
    "verify_log",
]
