"""The one way actions open a write transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, SessionTransaction

from fusioncell.db.engine import WRITE_OPTION

_IN_ACTION = "fusioncell_in_action"


@contextmanager
def atomic(db: Session) -> Iterator[SessionTransaction]:
    """Run an action's writes in one durable transaction.

    Like Zulip's ``transaction.atomic(durable=True)``: an action never runs inside another
    action's transaction. A read transaction left open by queries earlier in the request
    holds no writes (only actions write), so it is ended here first.
    """
    if db.info.get(_IN_ACTION):
        raise RuntimeError("actions must not nest: share a private function instead")
    if db.in_transaction():
        if db.new or db.dirty or db.deleted:
            raise RuntimeError("atomic() entered with unflushed writes outside an action")
        db.commit()
    db.info[_IN_ACTION] = True
    try:
        with db.begin() as transaction:
            db.connection(execution_options={WRITE_OPTION: True})
            yield transaction
    finally:
        db.info[_IN_ACTION] = False
