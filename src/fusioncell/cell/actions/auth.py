"""Logging in (web sessions and API tokens), logging out, revoking tokens, password back-off."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from fusioncell.cell import credentials
from fusioncell.cell.actions.members import normalise_username
from fusioncell.cell.entries import CellEntry
from fusioncell.cell.models import ApiToken, LoginFailureReport, LoginThrottle, Member, WebSession
from fusioncell.cell.policy import OPERATORS, Viewer, author_of, personal_audience
from fusioncell.config import Settings
from fusioncell.db.transaction import atomic
from fusioncell.errors import (
    FusioncellError,
    InvalidCredentials,
    InvalidToken,
    NotFound,
    TooManyAttempts,
)
from fusioncell.ledger.append import log_clock
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
_REPORT_CHUNK = 500  # usernames per statement when a summary clears its counts


def throttle_key(username: str) -> str:
    """The back-off row a username's password attempts count against, known or not."""
    return normalise_username(username)[:64]


def _backoff_seconds(failures: int, settings: Settings) -> int:
    over = failures - settings.login_backoff_threshold
    if over < 0:
        return 0
    return int(
        min(settings.login_backoff_base_seconds * 2**over, settings.login_backoff_max_seconds)
    )


def _locked(throttle: LoginThrottle | None, now: datetime) -> TooManyAttempts | None:
    if throttle is None or throttle.locked_until is None or throttle.locked_until <= now:
        return None
    wait = math.ceil((throttle.locked_until - now).total_seconds())
    return TooManyAttempts(
        f"too many wrong passwords for this username; try again in {wait} s", retry_after=wait
    )


def password_attempts_locked(db: Session, key: str, *, now: datetime) -> TooManyAttempts | None:
    """The refusal to give while ``key`` is backing off, before any password is hashed."""
    return _locked(db.get(LoginThrottle, key), now)


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

    Every refusal is the same ``InvalidCredentials``, counted the same: a member with a second
    factor who sends no code, or a wrong one, is answered as for a wrong password. Answering
    "code required" only to the right password would confirm the password to a guesser.
    """
    key = throttle_key(username)
    if (locked := password_attempts_locked(db, key, now=now)) is not None:
        return None, locked
    member = db.scalar(select(Member).where(Member.username == key))
    if member is None or not member.may_log_in or not password_ok:
        return None, _refused(db, key, now=now, settings=settings)
    if member.totp_enabled and member.totp_secret:
        step = (
            credentials.accepted_totp_step(
                member.totp_secret, totp_code, at=now, after=member.totp_last_step
            )
            if totp_code
            else None
        )
        if step is None:
            return None, _refused(db, key, now=now, settings=settings)
        member.totp_last_step = step
    count_password_success(db, key, now=now, settings=settings)
    return member, None


def _refused(db: Session, key: str, *, now: datetime, settings: Settings) -> FusioncellError:
    count_password_failure(db, key, now=now, settings=settings)
    return InvalidCredentials(LOGIN_REFUSED)


def _password_ok(
    db: Session, *, username: str, password: str, now: datetime, settings: Settings
) -> bool:
    """Verify the password outside any write transaction.

    argon2id takes tens of milliseconds by design; holding SQLite's write lock meanwhile
    would serialise every login in the cell. A locked-out username is not hashed at all, so
    back-off also protects the CPU; ``_authenticate`` re-reads the throttle under the lock.
    """
    key = throttle_key(username)
    if password_attempts_locked(db, key, now=now) is not None:
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


def count_password_failure(db: Session, key: str, *, now: datetime, settings: Settings) -> None:
    """Count a wrong password (or code) against ``key``, in the caller's transaction.

    The count drives the back-off and waits for the next summary entry: failures reach the
    log in aggregate, at most one entry per window, so that nobody can grow the log by failing
    to log in under fresh usernames. The caller commits even though it refuses the attempt.
    """
    due = _report_due(db, now=now, settings=settings)
    if due:
        log_clock(db, now=now)  # the log's lock before any throttle row: see _report_failures
    throttle = db.get(LoginThrottle, key)
    if throttle is None:
        throttle = LoginThrottle(username=key, failures=0, unreported_failures=0)
        db.add(throttle)
    throttle.failures += 1
    throttle.unreported_failures += 1
    throttle.last_failure_at = now
    wait = _backoff_seconds(throttle.failures, settings)
    throttle.locked_until = now + timedelta(seconds=wait) if wait else None
    if due:
        _report_failures(db, now=now, settings=settings)


def count_password_success(db: Session, key: str, *, now: datetime, settings: Settings) -> None:
    """End ``key``'s back-off after a right password, in a transaction that writes the log.

    Failures not yet summarised stay counted for the summary, which this also takes if due.
    """
    log_clock(db, now=now)  # the log's lock before any throttle row: see _report_failures
    throttle = db.get(LoginThrottle, key)
    if throttle is not None:
        if throttle.unreported_failures:
            throttle.failures = 0
            throttle.locked_until = None
        else:
            db.delete(throttle)
    _report_failures(db, now=now, settings=settings)


def _last_report(db: Session) -> datetime | None:
    return db.scalar(
        select(LoginFailureReport.reported_at)
        .order_by(LoginFailureReport.reported_at.desc())
        .limit(1)
    )


def _report_due(db: Session, *, now: datetime, settings: Settings) -> bool:
    last = _last_report(db)
    return last is None or now - last >= timedelta(seconds=settings.login_report_window_seconds)


def _report_failures(db: Session, *, now: datetime, settings: Settings) -> None:
    """If a window has passed since the last one, summarise the counted failures in one entry.

    The caller holds the log's lock (``log_clock``), taken before it touched any throttle row.
    Every writer that takes both takes them in that order, and one that takes only its own
    throttle row waits for nothing else, so locking the pending rows here cannot deadlock.
    Under that lock the last summary is read again (a concurrent one has committed); then
    only the rows read, locked FOR UPDATE, are cleared: a failure committed meanwhile is
    neither lost nor counted twice, it waits for the next summary.
    """
    last = _last_report(db)
    if last is not None and now - last < timedelta(seconds=settings.login_report_window_seconds):
        return
    pending = [
        (username, failures)
        for username, failures in db.execute(
            select(LoginThrottle.username, LoginThrottle.unreported_failures)
            .where(LoginThrottle.unreported_failures > 0)
            .with_for_update()
        )
    ]
    if not pending:
        return
    for start in range(0, len(pending), _REPORT_CHUNK):
        chunk = [username for username, _ in pending[start : start + _REPORT_CHUNK]]
        db.execute(
            update(LoginThrottle)
            .where(LoginThrottle.username.in_(chunk))
            .values(unreported_failures=0)
        )
        # Rows kept only for the summary (their back-off ended with a right password).
        db.execute(
            delete(LoginThrottle).where(
                LoginThrottle.username.in_(chunk), LoginThrottle.failures == 0
            )
        )
    total = sum(failures for _, failures in pending)
    top = sorted(pending, key=lambda row: (-row[1], row[0]))[: settings.login_report_top]
    body: dict[str, Any] = {
        "failures": total,
        "usernames": len(pending),
        "top": [{"username": username, "failures": failures} for username, failures in top],
    }
    if last is not None:
        body["since"] = log_time(last)
    # The log, not a member, asserts what it observed: attempts it counted and slowed down.
    record(db, ByLog(), CellEntry.LOGIN_THROTTLED, body, audience=OPERATORS, now=now)
    db.add(LoginFailureReport(reported_at=now, failures=total, usernames=len(pending)))


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
