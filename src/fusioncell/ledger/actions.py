"""The log's own state changes: signing checkpoints and keeping witnesses' cosignatures.

These are the deployment's acts, not a member's: nobody but the log's key signs a checkpoint,
and a cosignature is kept only after it verifies against the configured witness key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fusioncell.db.transaction import atomic
from fusioncell.ledger import tree
from fusioncell.ledger.append import DbHashReader, tree_size
from fusioncell.ledger.checkpoint import (
    Checkpoint,
    CosignatureVerifier,
    format_checkpoint,
    verify_cosignature_line,
)
from fusioncell.ledger.context import ledger_context
from fusioncell.ledger.errors import CheckpointError, NoteError
from fusioncell.ledger.keyring import Keyring
from fusioncell.ledger.models import LogCheckpoint, LogCosignature
from fusioncell.ledger.note import sign_note


def do_sign_checkpoint(db: Session, *, now: datetime) -> LogCheckpoint | None:
    """Sign a checkpoint of everything committed so far, unless the latest already covers it.

    Only committed entries are visible here, and both backends fsync at commit (SQLite
    ``synchronous=FULL``, PostgreSQL by default), so what is signed is on disk. Two processes
    signing the same size compute the same root from the same stored hashes; the first row
    wins and the other process keeps it.
    """
    ctx = ledger_context(db)
    try:
        return _sign_checkpoint(db, ctx.keyring, now=now)
    except IntegrityError:  # another process signed this size first; its row stands
        return None


def _sign_checkpoint(db: Session, keyring: Keyring, *, now: datetime) -> LogCheckpoint | None:
    with atomic(db):
        size = tree_size(db)
        latest = db.scalar(select(func.max(LogCheckpoint.size)))
        if size == 0 or (latest is not None and latest >= size):
            return None
        root = tree.tree_hash(size, DbHashReader(db))
        text = format_checkpoint(Checkpoint(origin=keyring.origin, size=size, root_hash=root))
        note = sign_note(text, [keyring.log_signer]).decode()
        checkpoint = LogCheckpoint(size=size, root=root, note=note, created_at=now)
        db.add(checkpoint)
    return checkpoint


def do_keep_cosignature(
    db: Session,
    *,
    size: int,
    witness: CosignatureVerifier,
    line: str,
    now: datetime,
) -> LogCosignature:
    with atomic(db):
        checkpoint = db.get(LogCheckpoint, size)
        if checkpoint is None:
            raise CheckpointError(f"no checkpoint of size {size}")
        text = checkpoint_text(checkpoint.note)
        try:
            verify_cosignature_line(text, line if line.endswith("\n") else line + "\n", witness)
        except NoteError as exc:
            raise CheckpointError(
                f"the cosignature from {witness.name} does not verify: {exc}"
            ) from None
        existing = db.get(LogCosignature, (size, witness.name))
        if existing is not None:
            return existing
        cosignature = LogCosignature(
            size=size, witness=witness.name, line=line.rstrip("\n"), received_at=now
        )
        db.add(cosignature)
    return cosignature


def checkpoint_text(note: str) -> str:
    """The signed text of a note: everything up to the blank line before the signatures."""
    text, _, _ = note.partition("\n\n")
    return text + "\n"
