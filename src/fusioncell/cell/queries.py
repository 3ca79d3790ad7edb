"""Reads of the cell, each through the access policy; the viewer comes first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from fusioncell.cell import credentials
from fusioncell.cell.models import (
    ApiToken,
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
    row = db.execute(
        select(ApiToken, Member)
        .join(Member, Member.id == ApiToken.member_id)
        .where(ApiToken.token_hash == credentials.digest(secret))
    ).first()
    if row is None:
        return None
    token, member = row
    if token.revoked_at is not None or token.expires_at <= now or not member.may_log_in:
        return None
    return viewer_of(member)


def viewer_for_session(db: Session, secret: str, *, now: datetime) -> Viewer | None:
    row = db.execute(
        select(WebSession, Member)
        .join(Member, Member.id == WebSession.member_id)
        .where(WebSession.id == credentials.digest(secret))
    ).first()
    if row is None:
        return None
    session, member = row
    if session.revoked_at is not None or session.expires_at <= now or not member.may_log_in:
        return None
    return viewer_of(member, csrf_token=session.csrf_token)


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
