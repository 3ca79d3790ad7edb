"""Reads of the CoT gateway's tables, each through the access policy; the viewer comes first.

The gateway's own look-ups (which member a client certificate names, which party a uid is
claimed by) are the reads that make a viewer, so none comes before them, like the token and
session look-ups of ``cell.queries``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell.models import Member, OrganisationKind
from fusioncell.cell.policy import Permission, Viewer, can
from fusioncell.cell.queries import (
    console_of_cell,
    get_member,
    get_member_by_username,
    list_organisations,
    viewer_of,
)
from fusioncell.cot.models import CotCertificate, CotEvent, CotUid
from fusioncell.errors import NotFound
from fusioncell.hotline.models import ChannelKind
from fusioncell.hotline.queries import list_channels


def certificate_holder(db: Session, serial: str) -> tuple[CotCertificate, Viewer] | None:
    """The certificate with this serial and the viewer it lets in; None if the cell never
    issued it. The caller refuses a revoked one, or a member who may not log in."""
    certificate = db.get(CotCertificate, serial)
    console = console_of_cell(db)
    if certificate is None or console is None:
        return None
    member = get_member(db, console, certificate.member_id)
    return certificate, viewer_of(member)


def may_connect(db: Session, certificate: CotCertificate) -> bool:
    """Not revoked, and its member may still log in."""
    console = console_of_cell(db)
    if console is None or certificate.revoked_at is not None:
        return False
    try:
        member = get_member(db, console, certificate.member_id)
    except NotFound:
        return False
    return member.may_log_in


def uid_owner(db: Session, uid: str) -> uuid.UUID | None:
    """The organisation a CoT uid is claimed by, if any."""
    return db.scalar(select(CotUid.organisation_id).where(CotUid.uid == uid))


def event_id_taken(db: Session, event_id: uuid.UUID) -> bool:
    return db.get(CotEvent, event_id) is not None


def party_channel(db: Session, viewer: Viewer) -> uuid.UUID | None:
    """The bilateral channel of the viewer's party with the supervisor, if the viewer reads
    it; for anyone else, none."""
    if viewer.organisation_kind != OrganisationKind.PARTY:
        return None
    for channel in list_channels(db, viewer):
        if channel.kind == ChannelKind.BILATERAL and channel.party_id == viewer.organisation_id:
            return channel.id
    return None


def organisation_slugs(db: Session, viewer: Viewer) -> dict[uuid.UUID, str]:
    return {o.id: o.slug for o in list_organisations(db, viewer)}


def supervisor_ids(db: Session, viewer: Viewer) -> list[uuid.UUID]:
    return [o.id for o in list_organisations(db, viewer) if o.kind == OrganisationKind.SUPERVISOR]


def list_events(db: Session, viewer: Viewer, *, limit: int = 100) -> Sequence[CotEvent]:
    """The events the viewer's organisation's clients sent, newest first (the supervisor
    reads every party's), for whoever reads the de-escalation track."""
    if not can(viewer, Permission.DEESCALATION_READ):
        return []
    query = select(CotEvent)
    if viewer.organisation_kind != OrganisationKind.SUPERVISOR:
        query = query.where(CotEvent.organisation_id == viewer.organisation_id)
    return db.scalars(query.order_by(CotEvent.log_index.desc()).limit(min(limit, 500))).all()


def list_certificates(db: Session, viewer: Viewer) -> Sequence[CotCertificate]:
    """Every certificate, for the operator; one's own for anyone else."""
    query = select(CotCertificate)
    if not can(viewer, Permission.KEY_REVOKE_ANY):
        query = query.where(CotCertificate.member_id == viewer.member_id)
    return db.scalars(query.order_by(CotCertificate.issued_at)).all()


def member_by_username(db: Session, viewer: Viewer, username: str) -> Member | None:
    """A member the operator names (``fusioncell cot enroll USER``)."""
    if not can(viewer, Permission.KEY_REVOKE_ANY):
        return None
    try:
        return get_member_by_username(db, viewer, username)
    except NotFound:
        return None
