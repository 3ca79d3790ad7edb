"""Password back-off that a guesser cannot turn against the member, and its summaries.

Wrong passwords count per (username, client address) and per client address. A guesser
therefore slows only their own attempts: the member's right password from another address
works at once, while guessing one username from one address, or many usernames from one
address, waits 1, 2, 4 … s (at most ``login_backoff_max_seconds``). An attempt that names no
address (the console, a password change through an open session) counts against its username
alone, in a row of its own. A count is forgotten after an hour without failures (or twice the
longest wait, if that is longer), so an address shared by many members is not slowed forever
by their occasional typing errors.

Failures reach the log in aggregate: at most one ``cell.login.throttled`` summary per window,
counting every failure since the last one, by username.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from fusioncell.cell.actions.members import normalise_username
from fusioncell.cell.entries import CellEntry
from fusioncell.cell.models import LoginAddressThrottle, LoginFailureReport, LoginThrottle
from fusioncell.cell.policy import OPERATORS
from fusioncell.config import Settings
from fusioncell.errors import TooManyAttempts
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.entries import log_time
from fusioncell.ledger.record import ByLog, record

# Failures from one address, across usernames, before that address backs off. Higher than
# the per-username threshold: members behind one address mistype too.
ADDRESS_BACKOFF_THRESHOLD = 20
FORGET_AFTER_SECONDS = 3600
ADDRESS_LENGTH = 64  # the column; an IPv6 address with a zone index fits
_REPORT_CHUNK = 500  # rows per statement when a summary clears its counts


class Scope(StrEnum):
    """What a refusal throttles: the ``scope`` of its problem (wire values, never reused)."""

    USERNAME_FROM_ADDRESS = "username-from-address"
    ADDRESS = "address"


def throttle_key(username: str) -> str:
    """The username a password attempt counts against, known or not."""
    return normalise_username(username)[:64]


def address_key(address: str | None) -> str:
    """The stored form of a client address; empty when the attempt named none."""
    return (address or "")[:ADDRESS_LENGTH]


def _backoff_seconds(failures: int, threshold: int, settings: Settings) -> int:
    over = failures - threshold
    if over < 0:
        return 0
    return int(
        min(settings.login_backoff_base_seconds * 2**over, settings.login_backoff_max_seconds)
    )


def _forget_after(settings: Settings) -> timedelta:
    return timedelta(seconds=max(FORGET_AFTER_SECONDS, 2 * settings.login_backoff_max_seconds))


@dataclass(frozen=True)
class _Lock:
    until: datetime | None
    scope: Scope


def _refusal(locks: list[_Lock], now: datetime) -> TooManyAttempts | None:
    """The refusal for the longest lock still running, if any."""
    running = [lock for lock in locks if lock.until is not None and lock.until > now]
    if not running:
        return None
    longest = max(running, key=lambda lock: (lock.until, lock.scope))
    assert longest.until is not None
    wait = math.ceil((longest.until - now).total_seconds())
    what = (
        "this username from your address"
        if longest.scope == Scope.USERNAME_FROM_ADDRESS
        else "your address"
    )
    return TooManyAttempts(
        f"too many wrong passwords for {what}; try again in {wait} s",
        retry_after=wait,
        scope=longest.scope.value,
    )


def password_attempts_locked(
    db: Session, key: str, *, now: datetime, address: str | None = None
) -> TooManyAttempts | None:
    """The refusal to give while ``key`` from ``address``, or ``address`` itself, backs off.

    Read before any password is hashed, so a throttled guesser costs no argon2 either.
    """
    pair = db.get(LoginThrottle, (key, address_key(address)))
    locks = [_Lock(pair.locked_until if pair else None, Scope.USERNAME_FROM_ADDRESS)]
    if address:
        by_address = db.get(LoginAddressThrottle, address_key(address))
        locks.append(_Lock(by_address.locked_until if by_address else None, Scope.ADDRESS))
    return _refusal(locks, now)


def _insert(db: Session) -> Any:
    return postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert


def _pair_row(db: Session, key: str, address: str) -> LoginThrottle:
    """The row of ``(key, address)``, created if missing and locked against other writers.

    Inserting with ON CONFLICT DO NOTHING first means two first failures at once both
    count instead of one of them failing on the primary key; a row deleted meanwhile by a
    summary's clean-up is inserted again.
    """
    while True:
        db.execute(
            _insert(db)(LoginThrottle)
            .values(username=key, client_address=address, failures=0, unreported_failures=0)
            .on_conflict_do_nothing()
        )
        row = db.get(LoginThrottle, (key, address), with_for_update=True, populate_existing=True)
        if row is not None:
            return row


def _address_row(db: Session, address: str) -> LoginAddressThrottle:
    while True:
        db.execute(
            _insert(db)(LoginAddressThrottle)
            .values(client_address=address, failures=0)
            .on_conflict_do_nothing()
        )
        row = db.get(LoginAddressThrottle, address, with_for_update=True, populate_existing=True)
        if row is not None:
            return row


def _count(
    row: LoginThrottle | LoginAddressThrottle, threshold: int, *, now: datetime, settings: Settings
) -> None:
    last = row.last_failure_at
    if last is not None and now - last >= _forget_after(settings):
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    wait = _backoff_seconds(row.failures, threshold, settings)
    row.locked_until = now + timedelta(seconds=wait) if wait else None


def count_password_failure(
    db: Session, key: str, *, now: datetime, settings: Settings, address: str | None = None
) -> None:
    """Count a wrong password (or code) for ``key`` from ``address``, in the caller's
    transaction, which commits even though it refuses the attempt.

    The count drives the back-off and waits for the next summary entry: failures reach the
    log in aggregate, at most one entry per window, so that nobody can grow the log by failing
    to log in under fresh usernames. Rows are taken in one order (the log's lock if a summary
    is due, the pair's row, the address's row), the order ``_report_failures`` keeps.
    """
    due = _report_due(db, now=now, settings=settings)
    if due:
        log_clock(db, now=now)  # the log's lock before any throttle row: see _report_failures
    pair = _pair_row(db, key, address_key(address))
    _count(pair, settings.login_backoff_threshold, now=now, settings=settings)
    pair.unreported_failures += 1
    if address:
        _count(_address_row(db, address_key(address)), ADDRESS_BACKOFF_THRESHOLD, now=now,
               settings=settings)  # fmt: skip
    if due:
        _report_failures(db, now=now, settings=settings)


def count_password_success(
    db: Session, key: str, *, now: datetime, settings: Settings, address: str | None = None
) -> None:
    """End the back-off of ``key`` from ``address`` after a right password, in a transaction
    that writes the log.

    The address's own count stays: one right password (say, the guesser's own account) does
    not buy more guesses at others. Failures not yet summarised stay counted for the summary,
    which this also takes if due.
    """
    log_clock(db, now=now)  # the log's lock before any throttle row: see _report_failures
    pair = db.get(LoginThrottle, (key, address_key(address)), with_for_update=True)
    if pair is not None:
        if pair.unreported_failures:
            pair.failures = 0
            pair.locked_until = None
        else:
            db.delete(pair)
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
    Every writer that takes both takes them in that order, and one that takes only throttle
    rows takes its pair's row before its address's, as this does, so locking the pending rows
    here cannot deadlock. Under that lock the last summary is read again (a concurrent one has
    committed); then only the rows read, locked FOR UPDATE, are cleared: a failure committed
    meanwhile is neither lost nor counted twice, it waits for the next summary.
    """
    last = _last_report(db)
    if last is not None and now - last < timedelta(seconds=settings.login_report_window_seconds):
        return
    pending = db.execute(
        select(
            LoginThrottle.username, LoginThrottle.client_address, LoginThrottle.unreported_failures
        )
        .where(LoginThrottle.unreported_failures > 0)
        .with_for_update()
    ).all()
    _forget_stale(db, now=now, settings=settings)
    if not pending:
        return
    for start in range(0, len(pending), _REPORT_CHUNK):
        chunk = [
            (username, address) for username, address, _ in pending[start : start + _REPORT_CHUNK]
        ]
        read = tuple_(LoginThrottle.username, LoginThrottle.client_address).in_(chunk)
        db.execute(update(LoginThrottle).where(read).values(unreported_failures=0))
        # Rows kept only for the summary (their back-off ended with a right password).
        db.execute(delete(LoginThrottle).where(read, LoginThrottle.failures == 0))
    by_username: dict[str, int] = {}
    for username, _address, failures in pending:
        by_username[username] = by_username.get(username, 0) + failures
    total = sum(by_username.values())
    top = sorted(by_username.items(), key=lambda row: (-row[1], row[0]))[
        : settings.login_report_top
    ]
    body: dict[str, Any] = {
        "failures": total,
        "usernames": len(by_username),
        "top": [{"username": username, "failures": failures} for username, failures in top],
    }
    if last is not None:
        body["since"] = log_time(last)
    # The log, not a member, asserts what it observed: attempts it counted and slowed down.
    record(db, ByLog(), CellEntry.LOGIN_THROTTLED, body, audience=OPERATORS, now=now)
    db.add(LoginFailureReport(reported_at=now, failures=total, usernames=len(by_username)))


def _forget_stale(db: Session, *, now: datetime, settings: Settings) -> None:
    """Drop counts whose last failure is older than the forgetting time (and whose failures
    are summarised): they would start again from nought anyway, and guessers from many
    addresses would otherwise leave a row each behind for good."""
    stale = now - _forget_after(settings)
    over = or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now)
    db.execute(
        delete(LoginThrottle).where(
            LoginThrottle.unreported_failures == 0, LoginThrottle.last_failure_at < stale, over
        )
    )
    db.execute(
        delete(LoginAddressThrottle).where(
            LoginAddressThrottle.last_failure_at < stale,
            or_(
                LoginAddressThrottle.locked_until.is_(None),
                LoginAddressThrottle.locked_until <= now,
            ),
        )
    )
