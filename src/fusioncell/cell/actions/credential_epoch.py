"""The credential epoch moves in every transaction that changes what decides a credential.

Whatever action it is (revoking a token, ending a session, disabling a member, granting,
revoking or countersigning a role, changing a password or a language), a flush that touches a
``Member``, ``RoleGrant``, ``WebSession`` or ``ApiToken`` row, or a bulk update or delete of
one of those tables, adds one ``CredentialChange`` row in the same transaction. Nothing has to
remember to call it: new credential rules stay covered as long as they live in those tables.
New sessions and tokens do not move it (they end no other credential).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from fusioncell.cell.models import ApiToken, CredentialChange, Member, RoleGrant, WebSession

_DECIDING = (Member, RoleGrant, WebSession, ApiToken)
_MOVED = "fusioncell_credential_epoch_moved"


def _move(session: Session) -> None:
    if session.info.get(_MOVED):
        return
    session.info[_MOVED] = True
    # On the connection, not the session: this runs inside a flush or another statement.
    session.connection().execute(insert(CredentialChange))


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    if (
        any(isinstance(row, _DECIDING) and session.is_modified(row) for row in session.dirty)
        or any(isinstance(row, _DECIDING) for row in session.deleted)
        or any(isinstance(row, RoleGrant) for row in session.new)
    ):
        _move(session)


@event.listens_for(Session, "do_orm_execute")
def _on_bulk(state: ORMExecuteState) -> None:
    mapper = state.bind_mapper
    bulk = state.is_update or state.is_delete
    if bulk and mapper is not None and issubclass(mapper.class_, _DECIDING):
        _move(state.session)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_MOVED, None)
