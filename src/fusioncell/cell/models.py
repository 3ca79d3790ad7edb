"""Tables of the cell: organisations, members, roles, sessions, tokens, login throttling."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Identity, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fusioncell.db.base import Base, UTCDateTime


class OrganisationKind(StrEnum):
    PARTY = "party"
    SUPERVISOR = "supervisor"
    VERIFIER = "verifier"
    HOST = "host"
    HUMANITARIAN = "humanitarian"


class Role(StrEnum):
    LIAISON = "liaison"
    ANALYST = "analyst"
    DUTY_OFFICER = "duty_officer"
    SUPERVISOR = "supervisor"
    VERIFIER = "verifier"
    OBSERVER = "observer"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The name in other languages, {"ar": ..., "he": ...}; ``name`` stands for any not given.
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def name_in(self, language: str) -> str:
        return self.names.get(language) or self.name


class Member(Base):
    __tablename__ = "members"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last TOTP time step accepted, so a code cannot be replayed within its window.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who proposed the member (None: the console), and when their organisation countersigned;
    # a member who is not countersigned yet cannot log in.
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    countersigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    role_grants: Mapped[list[RoleGrant]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="RoleGrant.role"
    )

    @property
    def roles(self) -> frozenset[Role]:
        """The roles in force: granted and countersigned."""
        return frozenset(
            Role(grant.role) for grant in self.role_grants if grant.countersigned_at is not None
        )

    @property
    def pending_roles(self) -> frozenset[Role]:
        """Roles granted but not yet countersigned by the member's organisation."""
        return frozenset(
            Role(grant.role) for grant in self.role_grants if grant.countersigned_at is None
        )

    @property
    def may_log_in(self) -> bool:
        """Not disabled, and in force: countersigned by the member's organisation."""
        return self.disabled_at is None and self.countersigned_at is not None

    @property
    def awaiting_countersign(self) -> bool:
        return self.countersigned_at is None or bool(self.pending_roles)


class RoleGrant(Base):
    __tablename__ = "role_grants"

    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    countersigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A browser session. The cookie holds a random secret; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored, so a database copy grants no access."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(Base):
    """Consecutive failed logins per username (known or not) from one client address, for
    exponential back-off: a guesser slows only their own attempts, never the member's own
    from elsewhere. ``client_address`` is empty for attempts that name no address (the
    console, a password change)."""

    __tablename__ = "login_throttles"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failures since the last summary entry: the log gets them in aggregate, one entry per
    # window, so that failing to log in cannot grow the log one entry per few requests.
    unreported_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class LoginAddressThrottle(Base):
    """Failed logins from one client address, whatever the usernames, for a back-off of its
    own: guessing across many usernames from one address slows that address."""

    __tablename__ = "login_address_throttles"

    client_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailureReport(Base):
    """A ``cell.login.throttled`` summary the log took: when, so that the next waits a window."""

    __tablename__ = "login_failure_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    failures: Mapped[int] = mapped_column(Integer)
    usernames: Mapped[int] = mapped_column(Integer)


class CredentialChange(Base):
    """One row per transaction that changed what decides a credential (a member, a role
    grant, a session, a token): the newest id is the *credential epoch*.

    An open stream checks its credential again only when the epoch has moved since its last
    check, instead of before every frame it sends. Ids are never reused (SQLite's
    AUTOINCREMENT, PostgreSQL's identity), so the epoch only grows.
    """

    __tablename__ = "credential_changes"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True
    )
