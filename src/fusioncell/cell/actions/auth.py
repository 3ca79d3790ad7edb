"""Logging in (web sessions and API tokens), logging out, revoking tokens.

Password back-off is ``login_throttle``'s: per (username, client address) and per address.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell import credentials

# Re-exported: a password change counts its guesses here too (``account``).
from fusioncell.cell.actions.login_throttle import (
    count_password_failure as count_password_failure,
)
from fusioncell.cell.actions.login_throttle import (
    count_password_success as count_password_success,
)
from fusioncell.cell.actions.login_throttle import (
    password_attempts_locked as password_attempts_locked,
)
from fusioncell.cell.actions.login_throttle import throttle_key as throttle_key
from fusioncell.cell.entries import CellEntry
from fusioncell.cell.models import ApiToken, Member, WebSession
from fusioncell.cell.policy import Viewer, author_of, personal_audience
from fusioncell.config import Settings
from fusioncell.db.transaction import atomic
from fusioncell.errors import (
    FusioncellError,
    InvalidCredentials,
    InvalidToken,
    NotFound,
)
from fusioncell.ledger.entries import log_time
from fusioncell.ledger.record import ByLog, record

T = TypeVar("T")


@dataclass(frozen=True)
class IssuedToken:
    token_id: uuid.UUID
    secret: str
    expires_at: datetime


@dataclass(frozen=True)
class StartedSession:
    secret: str
    csrf_token: str
    expires_at: datetime


def session_reference(secret: str) -> str:
    """A public name for a session in the log: a prefix of the stored digest, not the secret."""
    return credentials.digest(secret)[:16]


LOGIN_REFUSED = "wrong username or password, or a missing or wrong one-time code"


def _authenticate(
    db: Session,
    *,
    username: str,
    password_ok: bool,
    totp_code: str | None,
    address: str | None,
    now: datetime,
    settings: Settings,
) -> tuple[Member | None, FusioncellError | None]:
    """Check credentials and record the outcome for back-off, in the caller's transaction.

    Returns the member, or the error to raise *after* the transaction commits, so that the
    failure count is kept even though the login is refused. The slow argon2 verification
    runs before the write transaction opens (see ``_password_ok``).

    Every refusal is the same ``InvalidCredentials``, counted the same: a member with a second
    factor who sends no code, or a wrong one, is answered as for a wrong password. Answering
    "code required" only to the right password would confirm the password to a guesser.
    """
    key = throttle_key(username)
    if (locked := password_attempts_locked(db, key, now=now, address=address)) is not None:
        return None, locked
    member = db.scalar(select(Member).where(Member.username == key))
    if member is None or not member.may_log_in or not password_ok:
        return None, _refused(db, key, address=address, now=now, settings=settings)
    if member.totp_enabled and member.totp_secret:
        step = (
            credentials.accepted_totp_step(
                member.totp_secret, totp_code, at=now, after=member.totp_last_step
            )
            if totp_code
            else None
        )
        if step is None:
            return None, _refused(db, key, address=address, now=now, settings=settings)
        member.totp_last_step = step
    count_password_success(db, key, now=now, settings=settings, address=address)
    return member, None


def _refused(
    db: Session, key: str, *, address: str | None, now: datetime, settings: Settings
) -> FusioncellError:
    count_password_failure(db, key, now=now, settings=settings, address=address)
    return InvalidCredentials(LOGIN_REFUSED)


def _password_ok(
    db: Session,
    *,
    username: str,
    password: str,
    address: str | None,
    now: datetime,
    settings: Settings,
) -> bool:
    """Verify the password outside any write transaction.

    argon2id takes tens of milliseconds by design; holding SQLite's write lock meanwhile
    would serialise every login in the cell. A throttled attempt is not hashed at all, so
    back-off also protects the CPU; ``_authenticate`` re-reads the throttle under the lock.
    """
    key = throttle_key(username)
    if password_attempts_locked(db, key, now=now, address=address) is not None:
        db.rollback()
        return False
    member = db.scalar(select(Member).where(Member.username == key))
    if member is None or not member.may_log_in:
        credentials.spend_like_a_verification(settings.password_hash_profile)
        verdict = False
    else:
        verdict = credentials.verify_password(member.password_hash, password)
    db.rollback()
    return verdict


def _log_in(
    db: Session,
    *,
    username: str,
    password: str,
    totp_code: str | None,
    address: str | None,
    now: datetime,
    settings: Settings,
    grant: Callable[[Member], T],
) -> T:
    """Authenticate, then ``grant`` a credential in the same transaction as the bookkeeping."""
    password_ok = _password_ok(
        db, username=username, password=password, address=address, now=now, settings=settings
    )
    granted: T | None = None
    with atomic(db):
        member, error = _authenticate(
            db,
            username=username,
            password_ok=password_ok,
            totp_code=totp_code,
            address=address,
            now=now,
            settings=settings,
        )
        if member is not None:
            granted = grant(member)
    if error is not None:
        raise error
    assert granted is not None
    return granted


def do_issue_token(
    db: Session,
    *,
    username: str,
    password: str,
    totp_code: str | None,
    now: datetime,
    settings: Settings,
    client_address: str | None = None,
) -> IssuedToken:
    """``client_address``: where the attempt comes from, for back-off (see ``login_throttle``);
    ``None`` when it comes from no network address (the console, the test suite)."""

    def grant(member: Member) -> IssuedToken:
        issued = IssuedToken(
            token_id=uuid.uuid4(),
            secret="fct_" + credentials.new_secret(),
            expires_at=now + timedelta(seconds=settings.token_ttl_seconds),
        )
        db.add(
            ApiToken(
                id=issued.token_id,
                token_hash=credentials.digest(issued.secret),
                member_id=member.id,
                created_at=now,
                expires_at=issued.expires_at,
            )
        )
        record(
            db,
            ByLog(),
            CellEntry.TOKEN_ISSUED,
            {
                "member": str(member.id),
                "token": str(issued.token_id),
                "expires_at": log_time(issued.expires_at),
            },
            audience=personal_audience(member.id),
            now=now,
        )
        return issued

    return _log_in(
        db,
        username=username,
        password=password,
        totp_code=totp_code,
        address=client_address,
        now=now,
        settings=settings,
        grant=grant,
    )


def do_log_in(
    db: Session,
    *,
    username: str,
    password: str,
    totp_code: str | None,
    now: datetime,
    settings: Settings,
    client_address: str | None = None,
) -> StartedSession:
    """``client_address`` as for ``do_issue_token``."""

    def grant(member: Member) -> StartedSession:
        started = StartedSession(
            secret=credentials.new_secret(),
            csrf_token=credentials.new_secret(),
            expires_at=now + timedelta(seconds=settings.session_ttl_seconds),
        )
        db.add(
            WebSession(
                id=credentials.digest(started.secret),
                member_id=member.id,
                csrf_token=started.csrf_token,
                created_at=now,
                expires_at=started.expires_at,
            )
        )
        record(
            db,
            ByLog(),
            CellEntry.SESSION_STARTED,
            {
                "member": str(member.id),
                "session": session_reference(started.secret),
                "expires_at": log_time(started.expires_at),
            },
            audience=personal_audience(member.id),
            now=now,
        )
        return started

    return _log_in(
        db,
        username=username,
        password=password,
        totp_code=totp_code,
        address=client_address,
        now=now,
        settings=settings,
        grant=grant,
    )


def do_log_out(db: Session, actor: Viewer, *, session_secret: str, now: datetime) -> None:
    with atomic(db):
        session = db.get(WebSession, credentials.digest(session_secret))
        if (
            session is not None
            and session.member_id == actor.member_id
            and session.revoked_at is None
        ):
            session.revoked_at = now
            record(
                db,
                author_of(actor),
                CellEntry.SESSION_ENDED,
                {"member": str(actor.member_id), "session": session_reference(session_secret)},
                audience=personal_audience(actor.member_id),
                now=now,
            )


def do_revoke_token(db: Session, actor: Viewer, *, token_secret: str, now: datetime) -> None:
    """Revoke the presented token; revoking it twice is the same as once."""
    with atomic(db):
        token = db.scalar(
            select(ApiToken).where(ApiToken.token_hash == credentials.digest(token_secret))
        )
        if token is None:
            raise InvalidToken()
        if token.member_id != actor.member_id:
            raise NotFound()
        if token.revoked_at is None:
            token.revoked_at = now
            record(
                db,
                author_of(actor),
                CellEntry.TOKEN_REVOKED,
                {"member": str(actor.member_id), "token": str(token.id)},
                audience=personal_audience(actor.member_id),
                now=now,
            )
