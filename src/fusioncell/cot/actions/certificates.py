"""Issuing and revoking members' TAK client certificates.

The operator issues them (whoever manages the cell's keys: certificates are keys), each a
signed ``cot.certificate.issued`` entry naming the member, the serial and the SHA-256
fingerprint, released to the member's organisation and the supervisor. A revoked
certificate no longer connects; a client already connected with it is disconnected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.models import Member
from fusioncell.cell.policy import Permission, Viewer, author_of, require
from fusioncell.cot import ca
from fusioncell.cot.entries import CotEntry
from fusioncell.cot.models import CotCertificate
from fusioncell.cot.queries import (
    list_certificates,
    member_by_username,
    organisation_slugs,
    supervisor_ids,
)
from fusioncell.db.transaction import atomic
from fusioncell.errors import Forbidden, NotFound
from fusioncell.ledger.entries import audience, log_time
from fusioncell.ledger.record import record
from fusioncell.text import N_

_NO_MEMBER = N_("The cell has no member of that name.")
_MAY_NOT_LOG_IN = N_("A member who may not log in gets no certificate.")
_NONE_TO_REVOKE = N_("The member holds no certificate in force.")


@dataclass(frozen=True)
class Enrolment:
    member: Member
    issued: ca.Issued
    row: CotCertificate


def _audience(db: Session, actor: Viewer, member: Member) -> dict[str, Any]:
    return audience(organisations=[member.organisation_id, *supervisor_ids(db, actor)])


def do_issue_certificate(
    db: Session, actor: Viewer, *, username: str, authority: ca.Authority, now: datetime
) -> Enrolment:
    require(actor, Permission.KEY_REVOKE_ANY)
    member = member_by_username(db, actor, username)
    if member is None:
        raise NotFound(_NO_MEMBER, username=username)
    if not member.may_log_in:
        raise Forbidden(_MAY_NOT_LOG_IN, username=username)
    issued = ca.issue_member_certificate(authority, member.username, now=now)
    slugs = organisation_slugs(db, actor)
    with atomic(db):
        appended = record(
            db,
            author_of(actor),
            CotEntry.CERTIFICATE_ISSUED,
            {
                "member": str(member.id),
                "username": member.username,
                "organisation": slugs[member.organisation_id],
                "serial": issued.serial,
                "fingerprint": issued.fingerprint,
                "not_after": log_time(issued.certificate.not_valid_after_utc),
            },
            audience=_audience(db, actor, member),
            now=now,
        )
        row = CotCertificate(
            serial=issued.serial,
            member_id=member.id,
            fingerprint=issued.fingerprint,
            issued_at=now,
            not_after=issued.certificate.not_valid_after_utc,
            log_index=appended.index,
        )
        db.add(row)
    return Enrolment(member, issued, row)


def do_revoke_certificates(
    db: Session, actor: Viewer, *, username: str, now: datetime
) -> list[CotCertificate]:
    """Revoke every certificate in force of the member; each is one signed entry."""
    require(actor, Permission.KEY_REVOKE_ANY)
    member = member_by_username(db, actor, username)
    if member is None:
        raise NotFound(_NO_MEMBER, username=username)
    slugs = organisation_slugs(db, actor)
    with atomic(db):
        revoked = [
            row
            for row in list_certificates(db, actor)
            if row.member_id == member.id and row.revoked_at is None
        ]
        if not revoked:
            raise NotFound(_NONE_TO_REVOKE, username=username)
        for row in revoked:
            appended = record(
                db,
                author_of(actor),
                CotEntry.CERTIFICATE_REVOKED,
                {
                    "member": str(member.id),
                    "username": member.username,
                    "organisation": slugs[member.organisation_id],
                    "serial": row.serial,
                    "fingerprint": row.fingerprint,
                },
                audience=_audience(db, actor, member),
                now=now,
            )
            row.revoked_at = now
            row.revoked_log_index = appended.index
    return revoked
