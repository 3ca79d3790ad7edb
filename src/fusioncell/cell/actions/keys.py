"""Members' own signing keys: enrol (with proof of possession), rotate, revoke.

The private key never reaches the server: the client signs the key entry with the key itself
(enrolment) or with the old key plus a possession proof by the new one (rotation).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell.models import Member
from fusioncell.cell.policy import Permission, Viewer, author_of, can, member_audience
from fusioncell.db.transaction import atomic
from fusioncell.errors import Conflict, InvalidEntry, NotAuthenticated, NotFound, RejectedKey
from fusioncell.ledger.entries import LedgerEntry, b64, key_id
from fusioncell.ledger.errors import RejectedKeyError
from fusioncell.ledger.keys import check_enrolment_key
from fusioncell.ledger.models import LogKey
from fusioncell.ledger.record import enrol_custodial_key, record


def _active_member(db: Session, member_id: uuid.UUID) -> Member:
    member = db.get(Member, member_id)
    if member is None or member.disabled_at is not None:
        raise NotAuthenticated()
    return member


def _acceptable(public_key: bytes) -> None:
    try:
        check_enrolment_key(public_key)
    except RejectedKeyError as exc:
        raise RejectedKey(f"this public key cannot be enrolled: {exc}") from None


def do_enroll_key(db: Session, actor: Viewer, *, public_key: bytes, now: datetime) -> LogKey:
    _acceptable(public_key)
    if actor.presigned is None:
        raise InvalidEntry(
            "enrol a key by signing its enrolment entry with that key (proof of possession)"
        )
    identity = key_id(public_key)
    key = {"id": identity, "public": b64(public_key), "member": str(actor.member_id)}
    with atomic(db):
        member = _active_member(db, actor.member_id)
        if db.scalar(select(LogKey.key_id).where(LogKey.public_key == public_key)) is not None:
            raise Conflict("this key is already enrolled", key_id=identity)
        record(
            db,
            actor.presigned,
            LedgerEntry.KEY_ENROLLED,
            {"member": str(member.id), "key": identity, "custodial": False},
            audience=member_audience(member.organisation_id),
            now=now,
            key=key,
        )
        enrolled = db.get(LogKey, identity)
        assert enrolled is not None
    return enrolled


def do_rotate_key(
    db: Session,
    actor: Viewer,
    *,
    old_key_id: str,
    public_key: bytes,
    possession: str,
    now: datetime,
) -> LogKey:
    if actor.presigned is None:
        raise InvalidEntry("rotate a key by signing the rotation with the key it replaces")
    _acceptable(public_key)
    identity = key_id(public_key)
    key = {
        "id": identity,
        "member": str(actor.member_id),
        "possession": possession,
        "public": b64(public_key),
        "replaces": old_key_id,
    }
    with atomic(db):
        member = _active_member(db, actor.member_id)
        old = db.get(LogKey, old_key_id)
        if old is None or old.member_id != member.id or old.revoked_index is not None:
            raise NotFound(f"no active key {old_key_id} of yours")
        record(
            db,
            actor.presigned,
            LedgerEntry.KEY_ROTATED,
            {"member": str(member.id), "key": identity, "replaces": old_key_id},
            audience=member_audience(member.organisation_id),
            now=now,
            key=key,
        )
        rotated = db.get(LogKey, identity)
        assert rotated is not None
    return rotated


def do_revoke_key(db: Session, actor: Viewer, *, revoked_key_id: str, now: datetime) -> LogKey:
    """A member revokes their own key; the operator may revoke anyone's.

    Revoking the key the server holds for a member issues a fresh one in the same
    transaction: the browser and key-less API clients sign with it, so without it the member
    could not even log out or change their password.
    """
    with atomic(db):
        row = db.get(LogKey, revoked_key_id)
        if row is None or row.member_id is None:
            raise NotFound(f"no member key {revoked_key_id}")
        if row.member_id != actor.member_id and not can(actor, Permission.KEY_REVOKE_ANY):
            raise NotFound(f"no member key {revoked_key_id}")
        if row.revoked_index is not None:
            return row
        owner = db.get(Member, row.member_id)
        assert owner is not None
        record(
            db,
            author_of(actor),
            LedgerEntry.KEY_REVOKED,
            {"member": str(row.member_id), "key": revoked_key_id},
            audience=member_audience(owner.organisation_id),
            now=now,
            key={"id": revoked_key_id},
        )
        if row.custodial:
            enrol_custodial_key(
                db, owner.id, now=now, audience=member_audience(owner.organisation_id)
            )
    return row
