"""Logging in (web sessions and API tokens), logging out, revoking tokens, login back-off."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell import credentials
from fusioncell.cell.actions.members import normalise_username
from fusioncell.cell.models import ApiToken, LoginThrottle, Member, WebSession
from fusioncell.cell.policy import OPERATORS, Viewer, personal_audience
from fusioncell.config import Settings
from fusioncell.db.transaction import atomic
from fusioncell.errors import (
    FusioncellError,
    InvalidCredentials,
    InvalidToken,
    NotFound,
    TooManyAttempts,
    TotpRequired,
)
from fusioncell.ledger.entries import EntryType, log_time
from fusioncell.ledger.record import ByLog, author_of, record

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


def _backoff_seconds(failures: int, settings: Settings) -> int:
    over = failures - settings.login_backoff_threshold
    if over < 0:
        return 0
    return int(
        min(settings.login_backoff_base_seconds * 2**over, settings.login_backoff_max_seconds)
    )


def _locked(throttle: LoginThrottle | None, now: datetime) -> FusioncellError | None:
    if throttle is None or throttle.locked_until is None or throttle.locked_until <= now:
        return None
    wait = math.ceil((throttle.locked_until - now).total_seconds())
    return TooManyAttempts(
        f"too many failed logins for this username; try again in {wait} s", retry_after=wait
    )


def _authenticate(
    db: Session,
    *,
    username: str,
    password_ok: bool,
    totp_code: str | None,
    now: datetime,
    settings: Settings,
) -> tuple[Member | None, FusioncellError | None]:
    """Check credentials and record the outcome for back-off, in the caller's transaction.

    Returns the member, or the error to raise *after* the transaction commits, so that the
    failure count is kept even though the login is refused. The slow argon2 verification
    runs before the write transaction opens (see ``_password_ok``).
    """
    key = normalise_username(username)[:64]
    throttle = db.get(LoginThrottle, key)
    if (locked := _locked(throttle, now)) is not None:
        return None, locked
    member = db.scalar(select(Member).where(Member.username == key))
    if member is None or member.disabled_at is not None or not password_ok:
        return None, _record_failure(db, throttle, key, now=now, settings=settings)
    if member.totp_enabled and member.totp_secret:
        if not totp_code:
            return None, TotpRequired("this account needs the code from its authenticator app")
        step = credentials.accepted_totp_step(
            member.totp_secret, totp_code, at=now, after=member.totp_last_step
        )
        if step is None:
            return None, _record_failure(db, throttle, key, now=now, settings=settings)
        member.totp_last_step = step
    if throttle is not None:
        db.delete(throttle)
    return member, None


def _password_ok(
    db: Session, *, username: str, password: str, now: datetime, settings: Settings
) -> bool:
    """Verify the password outside any write transaction.

    argon2id takes tens of milliseconds by design; holding SQLite's write lock meanwhile
    would serialise every login in the cell. A locked-out username is not hashed at all, so
    back-off also protects the CPU; ``_authenticate`` re-reads the throttle under the lock.
    """
    key = normalise_username(username)[:64]
    if _locked(db.get(LoginThrottle, key), now) is not None:
        db.rollback()
        return False
    member = db.scalar(select(Member).where(Member.username == key))
    if member is None or member.disabled_at is not None:
        credentials.spend_like_a_verification(settings.password_hash_profile)
        verdict = False
    else:
        verdict = credentials.verify_password(member.password_hash, password)
    db.rollback()
    return verdict


def _record_failure(
    db: Session, throttle: LoginThrottle | None, key: str, *, now: datetime, settings: Settings
) -> FusioncellError:
    if throttle is None:
        throttle = LoginThrottle(username=key, failures=0)
        db.add(throttle)
    throttle.failures += 1
    throttle.last_failure_at = now
    wait = _backoff_seconds(throttle.failures, settings)
    throttle.locked_until = now + timedelta(seconds=wait) if wait else None
    if throttle.locked_until is not None:
        # The log, not a member, asserts what it observed: an attempt it had to slow down.
        record(
            db,
            ByLog(),
            EntryType.LOGIN_THROTTLED,
            {
                "username": key,
                "failures": throttle.failures,
                "locked_until": log_time(throttle.locked_until),
            },
            audience=OPERATORS,
            now=now,
        )
    return InvalidCredentials()


def _log_in(
    db: Session,
    *,
    username: str,
    password: str,
    totp_code: str | None,
    now: datetime,
    settings: Settings,
    grant: Callable[[Member], T],
) -> T:
    """Authenticate, then ``grant`` a credential in the same transaction as the bookkeeping."""
    password_ok = _password_ok(db, username=username, password=password, now=now, settings=settings)
    granted: T | None = None
    with atomic(db):
        member, error = _authenticate(
            db,
            username=username,
            password_ok=password_ok,
            totp_code=totp_code,
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
) -> IssuedToken:
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
            EntryType.TOKEN_ISSUED,
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
) -> StartedSession:
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
            EntryType.SESSION_STARTED,
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
                EntryType.SESSION_ENDED,
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
                EntryType.TOKEN_REVOKED,
                {"member": str(actor.member_id), "token": str(token.id)},
                audience=personal_audience(actor.member_id),
                now=now,
            )
