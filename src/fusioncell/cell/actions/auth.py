"""Logging in (web sessions and API tokens), logging out, revoking tokens, login back-off."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell import credentials
from fusioncell.cell.actions.members import normalise_username
from fusioncell.cell.models import ApiToken, LoginThrottle, Member, WebSession
from fusioncell.cell.policy import Viewer
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


def _backoff_seconds(failures: int, settings: Settings) -> int:
    over = failures - settings.login_backoff_threshold
    if over < 0:
        return 0
    return int(
        min(settings.login_backoff_base_seconds * 2**over, settings.login_backoff_max_seconds)
    )


def _authenticate(
    db: Session,
    *,
    username: str,
    password: str,
    totp_code: str | None,
    now: datetime,
    settings: Settings,
) -> tuple[Member | None, FusioncellError | None]:
    """Check credentials inside the caller's transaction; record the outcome for back-off.

    Returns the member, or the error to raise *after* the transaction commits, so that the
    failure count is kept even though the login is refused.
    """
    key = normalise_username(username)[:64]
    throttle = db.get(LoginThrottle, key)
    if throttle is not None and throttle.locked_until is not None and throttle.locked_until > now:
        wait = int((throttle.locked_until - now).total_seconds()) + 1
        return None, TooManyAttempts(
            f"too many failed logins for this username; try again in {wait} s", retry_after=wait
        )
    member = db.scalar(select(Member).where(Member.username == key))
    if member is None or member.disabled_at is not None:
        credentials.spend_like_a_verification(settings.password_hash_profile)
        return None, _record_failure(db, throttle, key, now=now, settings=settings)
    if not credentials.verify_password(member.password_hash, password):
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
    return InvalidCredentials()


def do_issue_token(
    db: Session,
    *,
    username: str,
    password: str,
    totp_code: str | None,
    now: datetime,
    settings: Settings,
) -> IssuedToken:
    with atomic(db):
        member, error = _authenticate(
            db,
            username=username,
            password=password,
            totp_code=totp_code,
            now=now,
            settings=settings,
        )
        issued = None
        if member is not None:
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
    if error is not None:
        raise error
    assert issued is not None
    return issued


def do_log_in(
    db: Session,
    *,
    username: str,
    password: str,
    totp_code: str | None,
    now: datetime,
    settings: Settings,
) -> StartedSession:
    with atomic(db):
        member, error = _authenticate(
            db,
            username=username,
            password=password,
            totp_code=totp_code,
            now=now,
            settings=settings,
        )
        started = None
        if member is not None:
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
    if error is not None:
        raise error
    assert started is not None
    return started


def do_log_out(db: Session, actor: Viewer, *, session_secret: str, now: datetime) -> None:
    with atomic(db):
        session = db.get(WebSession, credentials.digest(session_secret))
        if session is not None and session.member_id == actor.member_id:
            session.revoked_at = session.revoked_at or now


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
        token.revoked_at = token.revoked_at or now
