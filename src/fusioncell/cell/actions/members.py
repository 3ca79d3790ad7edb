from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fusioncell.cell import credentials
from fusioncell.cell.entries import CellEntry
from fusioncell.cell.labels import ROLE_LABELS
from fusioncell.cell.models import (
    ApiToken,
    Member,
    Organisation,
    OrganisationKind,
    Role,
    RoleGrant,
    WebSession,
)
from fusioncell.cell.policy import (
    COUNTERSIGNING_ROLE,
    Permission,
    Viewer,
    author_of,
    can_countersign,
    can_see_member,
    member_audience,
    require,
)
from fusioncell.db.transaction import atomic
from fusioncell.errors import (
    Conflict,
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    WeakPassword,
)
from fusioncell.i18n import require_language
from fusioncell.ledger.record import enrol_custodial_key, record
from fusioncell.text import N_, Text

USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_username(username: str) -> str:
    username = normalise_username(username)
    if not (2 <= len(username) <= 64) or not set(username) <= USERNAME_CHARS:
        raise InvalidInput(N_("a username is 2-64 of a-z, 0-9, '.', '_' and '-'"))
    return username


def check_password(password: str, *, username: str) -> None:
    if len(password) < credentials.MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            N_(
                "a password has at least %(count)s characters",
                count=credentials.MIN_PASSWORD_LENGTH,
            )
        )
    if username in password.lower():
        raise WeakPassword(N_("a password must not contain the username"))


def do_create_member(
    db: Session,
    actor: Viewer,
    *,
    member_id: uuid.UUID,
    username: str,
    display_name: str,
    organisation_slug: str,
    roles: Iterable[Role],
    password: str,
    language: str,
    now: datetime,
    hash_profile: str,
) -> Member:
    require(actor, Permission.MEMBER_CREATE)
    username = check_username(username)
    role_set = frozenset(roles)
    if not role_set:
        raise InvalidInput(N_("a member holds at least one role"))
    check_password(password, username=username)
    require_language(language)
    with atomic(db):
        organisation = db.scalar(
            select(Organisation).where(Organisation.slug == organisation_slug.strip().upper())
        )
        if organisation is None:
            raise InvalidInput(
                N_("no organisation '%(slug)s'", slug=organisation_slug), field="organisation"
            )
        if (earlier := db.get(Member, member_id)) is not None:
            same = (
                earlier.username == username
                and earlier.organisation_id == organisation.id
                and earlier.roles | earlier.pending_roles == role_set
                and earlier.display_name == (display_name.strip() or username)
                and earlier.language == language
            )
            if not same:
                raise IdempotencyConflict(member_id=str(member_id))
            return earlier
        if db.scalar(select(Member.id).where(Member.username == username)) is not None:
            raise Conflict(
                N_("the username %(username)s is taken", username=username), username=username
            )
        # The console holds the database and founds the cell; anyone else proposes, and the
        # member's organisation countersigns before the member may log in.
        in_force = now if actor.is_console else None
        proposer = None if actor.is_console else actor.member_id
        member = Member(
            id=member_id,
            username=username,
            display_name=display_name.strip() or username,
            organisation_id=organisation.id,
            password_hash=credentials.hash_password(password, profile=hash_profile),
            language=language,
            totp_enabled=False,
            created_at=now,
            created_by=proposer,
            countersigned_at=in_force,
            role_grants=[
                RoleGrant(
                    role=role.value, granted_at=now, granted_by=proposer, countersigned_at=in_force
                )
                for role in sorted(role_set)
            ],
        )
        db.add(member)
        db.flush()
        db.refresh(member)
        record(
            db,
            author_of(actor),
            CellEntry.MEMBER_CREATED,
            {
                "member": str(member_id),
                "username": username,
                "display_name": member.display_name,
                "organisation": organisation.slug,
                "roles": sorted(role_set),
                "language": language,
                "awaiting_countersign": in_force is None,
            },
            audience=member_audience(organisation.id),
            now=now,
        )
        enrol_custodial_key(db, member_id, now=now, audience=member_audience(organisation.id))
    return member


def _countersigner_of(organisation: Organisation) -> str:
    """The role that countersigns for ``organisation``: its value in English (as problem+json
    has always said it), its label on a page."""
    role = COUNTERSIGNING_ROLE[OrganisationKind(organisation.kind)]
    return Text(ROLE_LABELS[role], {}, english=role.value)


def do_grant_role(
    db: Session, actor: Viewer, *, member_id: uuid.UUID, role: Role, now: datetime
) -> Member:
    """Propose a role for a member; it is in force once their organisation countersigns (at
    the console, at once). Granting a role already granted or proposed changes nothing."""
    require(actor, Permission.ROLE_GRANT)
    with atomic(db):
        member = db.get(Member, member_id)
        if member is None or not can_see_member(actor, member.organisation_id):
            raise NotFound(f"no member {member_id}")
        if member.disabled_at is not None:
            raise Conflict(N_("this member is disabled"), member=str(member_id))
        if role in member.roles or role in member.pending_roles:
            return member
        in_force = now if actor.is_console else None
        member.role_grants.append(
            RoleGrant(
                role=role.value,
                granted_at=now,
                granted_by=None if actor.is_console else actor.member_id,
                countersigned_at=in_force,
            )
        )
        record(
            db,
            author_of(actor),
            CellEntry.ROLE_GRANTED,
            {
                "member": str(member.id),
                "role": role.value,
                "awaiting_countersign": in_force is None,
            },
            audience=member_audience(member.organisation_id),
            now=now,
        )
        db.flush()
    return member


def do_revoke_role(
    db: Session, actor: Viewer, *, member_id: uuid.UUID, role: Role, now: datetime
) -> Member:
    """Take a role away, in force or proposed, and end the member's sessions and tokens.

    Taking away needs no second person: like disabling, it can only narrow what someone sees.
    """
    require(actor, Permission.ROLE_GRANT)
    with atomic(db):
        member = db.get(Member, member_id)
        if member is None or not can_see_member(actor, member.organisation_id):
            raise NotFound(f"no member {member_id}")
        grant = next((g for g in member.role_grants if g.role == role.value), None)
        if grant is None:
            return member
        if len(member.role_grants) == 1:
            raise Conflict(N_("a member holds at least one role; disable the member instead"))
        member.role_grants.remove(grant)
        record(
            db,
            author_of(actor),
            CellEntry.ROLE_REVOKED,
            {"member": str(member.id), "role": role.value},
            audience=member_audience(member.organisation_id),
            now=now,
        )
        # Sessions and open streams hold the roles they started with: end them.
        revoke_credentials(db, member.id, now=now)
        db.flush()
    return member


def do_countersign_member(
    db: Session, actor: Viewer, *, member_id: uuid.UUID, roles: Iterable[Role], now: datetime
) -> Member:
    """The second person: the member's organisation puts a proposed member or role in force.

    The countersign names the roles it approves, so a role proposed after the countersigner
    looked is never approved unseen; a retry of the same countersign returns the member.
    """
    approved = frozenset(roles)
    with atomic(db):
        member = db.get(Member, member_id)
        if member is None or not can_see_member(actor, member.organisation_id):
            raise NotFound(f"no member {member_id}")
        organisation = member.organisation
        kind = OrganisationKind(organisation.kind)
        if not can_countersign(actor, organisation_id=organisation.id, organisation_kind=kind):
            raise Forbidden(
                N_(
                    "only a %(role)s of %(organisation)s countersigns its members and roles",
                    role=_countersigner_of(organisation),
                    organisation=organisation.slug,
                )
            )
        pending = member.pending_roles
        if not member.awaiting_countersign and approved <= member.roles:
            return member  # a retry
        if member.disabled_at is not None:
            raise Conflict(N_("this member is disabled"), member=str(member_id))
        if approved != pending:
            raise Conflict(
                N_("the countersign must name exactly the roles awaiting it"),
                awaiting=sorted(role.value for role in pending),
            )
        proposers = {
            grant.granted_by for grant in member.role_grants if grant.countersigned_at is None
        }
        if member.countersigned_at is None:
            proposers.add(member.created_by)
        if actor.member_id in proposers or actor.member_id == member.id:
            raise Forbidden(N_("the second person must be someone other than the proposer"))
        creation = member.countersigned_at is None
        if creation:
            member.countersigned_at = now
        for grant in member.role_grants:
            if grant.countersigned_at is None:
                grant.countersigned_at = now
        record(
            db,
            author_of(actor),
            CellEntry.MEMBER_COUNTERSIGNED,
            {
                "member": str(member.id),
                "roles": sorted(role.value for role in approved),
                "creation": creation,
            },
            audience=member_audience(organisation.id),
            now=now,
        )
        db.flush()
    return member


def do_disable_member(db: Session, actor: Viewer, *, username: str, now: datetime) -> Member:
    """Disable a member and end every session and token they hold, at once."""
    require(actor, Permission.MEMBER_DISABLE)
    with atomic(db):
        member = db.scalar(select(Member).where(Member.username == normalise_username(username)))
        if member is None:
            raise NotFound(f"no member {username!r}")
        if member.disabled_at is None:
            member.disabled_at = now
            revoke_credentials(db, member.id, now=now)
            record(
                db,
                author_of(actor),
                CellEntry.MEMBER_DISABLED,
                {"member": str(member.id)},
                audience=member_audience(member.organisation_id),
                now=now,
            )
    return member


def revoke_credentials(
    db: Session,
    member_id: uuid.UUID,
    *,
    now: datetime,
    keep_session: str | None = None,
    keep_token: str | None = None,
) -> None:
    """End a member's tokens and sessions: all but the session whose id is ``keep_session``
    and the token whose hash is ``keep_token``. Runs inside an action."""
    tokens = update(ApiToken).where(ApiToken.member_id == member_id, ApiToken.revoked_at.is_(None))
    if keep_token is not None:
        tokens = tokens.where(ApiToken.token_hash != keep_token)
    db.execute(tokens.values(revoked_at=now))
    sessions = update(WebSession).where(
        WebSession.member_id == member_id, WebSession.revoked_at.is_(None)
    )
    if keep_session is not None:
        sessions = sessions.where(WebSession.id != keep_session)
    db.execute(sessions.values(revoked_at=now))
