"""Reads of the cell, each through the access policy; the viewer comes first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from fusioncell.cell import credentials
from fusioncell.cell.models import (
    ApiToken,
    CredentialChange,
    Member,
    Organisation,
    OrganisationKind,
    WebSession,
)
from fusioncell.cell.policy import (
    Permission,
    Viewer,
    can,
    can_countersign,
    console_viewer,
    require,
)
from fusioncell.errors import NotFound
from fusioncell.ledger.models import LogKey


def viewer_of(member: Member, *, csrf_token: str | None = None) -> Viewer:
    return Viewer(
        member_id=member.id,
        username=member.username,
        organisation_id=member.organisation_id,
        organisation_kind=OrganisationKind(member.organisation.kind),
        roles=member.roles,
        language=member.language,
        csrf_token=csrf_token,
    )


def viewer_for_token(db: Session, secret: str, *, now: datetime) -> Viewer | None:
    held = credential_holder(db, token=secret, now=now)
    return None if held is None else held[0]


def viewer_for_session(db: Session, secret: str, *, now: datetime) -> Viewer | None:
    held = credential_holder(db, session=secret, now=now)
    return None if held is None else held[0]


def credential_holder(
    db: Session, *, token: str | None = None, session: str | None = None, now: datetime
) -> tuple[Viewer, datetime] | None:
    """Who a bearer token's or a session cookie's secret lets in now, and until when; None if
    it is unknown, revoked or expired, or its member may not log in."""
    found: Row[ApiToken, Member] | Row[WebSession, Member] | None
    csrf_token = None
    if token is not None:
        found = db.execute(
            select(ApiToken, Member)
            .join(Member, Member.id == ApiToken.member_id)
            .where(ApiToken.token_hash == credentials.digest(token))
        ).first()
    elif session is not None:
        found = db.execute(
            select(WebSession, Member)
            .join(Member, Member.id == WebSession.member_id)
            .where(WebSession.id == credentials.digest(session))
        ).first()
        if found is not None:
            csrf_token = found[0].csrf_token
    else:
        return None
    if found is None:
        return None
    credential, member = found
    if credential.revoked_at is not None or credential.expires_at <= now or not member.may_log_in:
        return None
    return viewer_of(member, csrf_token=csrf_token), credential.expires_at


def credential_epoch(db: Session) -> int:
    """The newest credential change (``CredentialChange``), 0 before the first."""
    return db.scalar(select(func.max(CredentialChange.id))) or 0


def get_own_member(db: Session, viewer: Viewer) -> Member:
    member = db.get(Member, viewer.member_id)
    if member is None:
        raise NotFound()
    return member


def _visible_members(viewer: Viewer) -> Select[Member]:
    query = select(Member)
    if not can(viewer, Permission.MEMBER_LIST_ALL):
        query = query.where(Member.organisation_id == viewer.organisation_id)
    return query


def list_members(db: Session, viewer: Viewer) -> Sequence[Member]:
    query = _visible_members(viewer).join(Member.organisation)
    return db.scalars(query.order_by(Organisation.slug, Member.username)).unique().all()


def countersignable(viewer: Viewer, members: Sequence[Member]) -> set[uuid.UUID]:
    """Which of ``members`` (as ``list_members`` gave them to this viewer) await the viewer's
    countersign: enabled, awaiting one, and the policy lets the viewer give it."""
    return {
        member.id
        for member in members
        if member.awaiting_countersign
        and member.disabled_at is None
        and can_countersign(
            viewer,
            organisation_id=member.organisation_id,
            organisation_kind=OrganisationKind(member.organisation.kind),
        )
    }


def get_member(db: Session, viewer: Viewer, member_id: uuid.UUID) -> Member:
    member = db.scalar(_visible_members(viewer).where(Member.id == member_id))
    if member is None:
        raise NotFound(f"no member {member_id}")
    return member


def get_member_by_username(db: Session, viewer: Viewer, username: str) -> Member:
    member = db.scalar(_visible_members(viewer).where(Member.username == username))
    if member is None:
        raise NotFound(f"no member {username!r}")
    return member


def list_organisations(db: Session, viewer: Viewer) -> Sequence[Organisation]:
    require(viewer, Permission.ORGANISATION_LIST)
    return db.scalars(select(Organisation).order_by(Organisation.slug)).all()


def console_of_cell(db: Session) -> Viewer | None:
    """The operator at the server's console (``fusioncell users ...``): the viewer of the
    supervising organisation's console, None before ``fusioncell init``. Like the token and
    session look-ups above, this read makes the viewer, so none comes before it."""
    supervisor = db.scalar(select(Organisation.id).where(Organisation.slug == "SUPERVISOR"))
    return None if supervisor is None else console_viewer(supervisor)


def is_empty(db: Session) -> bool:
    """Whether the database holds no cell yet: ``fusioncell init`` asks before any viewer can
    exist, and learns nothing but that."""
    return db.scalar(select(Organisation.id).limit(1)) is None


def list_keys(db: Session, viewer: Viewer) -> Sequence[LogKey]:
    """One's own keys; everyone's for the chair and the operator (keys are public anyway)."""
    query = select(LogKey).where(LogKey.member_id.is_not(None))
    if not can(viewer, Permission.MEMBER_LIST_ALL):
        query = query.where(LogKey.member_id == viewer.member_id)
    return db.scalars(query.order_by(LogKey.enrolled_index)).all()
