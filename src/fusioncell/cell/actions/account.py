"""A member's own settings: password, second factor, language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell import credentials
from fusioncell.cell.actions.auth import (
    count_password_failure,
    count_password_success,
    password_attempts_locked,
    throttle_key,
)
from fusioncell.cell.actions.members import check_password, revoke_credentials
from fusioncell.cell.entries import CellEntry
from fusioncell.cell.models import Member
from fusioncell.cell.policy import Viewer, author_of, personal_audience
from fusioncell.config import Settings
from fusioncell.db.transaction import atomic
from fusioncell.errors import (
    Conflict,
    FusioncellError,
    InvalidCredentials,
    InvalidTotpCode,
    NotAuthenticated,
)
from fusioncell.i18n import require_language
from fusioncell.ledger.record import record
from fusioncell.text import N_


def _record_own(
    db: Session, actor: Viewer, entry_type: CellEntry, *, now: datetime, **details: str
) -> None:
    """An entry about the actor's own account, readable by them and the operator."""
    record(
        db,
        author_of(actor),
        entry_type,
        {"member": str(actor.member_id), **details},
        audience=personal_audience(actor.member_id),
        now=now,
    )


def _own_member(db: Session, actor: Viewer) -> Member:
    member = db.get(Member, actor.member_id)
    if member is None or member.disabled_at is not None:
        raise NotAuthenticated()
    return member


def do_change_password(
    db: Session,
    actor: Viewer,
    *,
    current_password: str,
    new_password: str,
    now: datetime,
    hash_profile: str,
    keep_session: str | None = None,
    keep_token: str | None = None,
    settings: Settings | None = None,
) -> None:
    """Change one's password; every other session and token of the member ends, but the one
    the change came through (``keep_session`` or ``keep_token``, the secret) goes on.

    The current password is a password guess like a login's: wrong ones count against the
    member's username with the same back-off (``settings``; the defaults if not given), and
    both argon2 computations run before the write transaction opens, as logins' do, so that
    guessing cannot hold the cell's write lock.
    """
    settings = settings if settings is not None else Settings()
    check_password(new_password, username=actor.username)
    key = throttle_key(actor.username)
    if (locked := password_attempts_locked(db, key, now=now)) is not None:
        db.rollback()
        raise locked
    verified_hash = _own_member(db, actor).password_hash
    right = credentials.verify_password(verified_hash, current_password)
    new_hash = credentials.hash_password(new_password, profile=hash_profile) if right else None
    db.rollback()
    refusal: FusioncellError | None = None
    with atomic(db):
        member = _own_member(db, actor)
        if (locked := password_attempts_locked(db, key, now=now)) is not None:
            raise locked  # a lock taken meanwhile: nothing to keep
        if member.password_hash != verified_hash:
            raise Conflict(N_("the password changed meanwhile; try again"))
        if new_hash is None:
            count_password_failure(db, key, now=now, settings=settings)
            refusal = InvalidCredentials(N_("the current password is wrong"))
        else:
            count_password_success(db, key, now=now, settings=settings)
            member.password_hash = new_hash
            revoke_credentials(
                db,
                member.id,
                now=now,
                keep_session=credentials.digest(keep_session) if keep_session else None,
                keep_token=credentials.digest(keep_token) if keep_token else None,
            )
            _record_own(db, actor, CellEntry.PASSWORD_CHANGED, now=now)
    if refusal is not None:
        raise refusal  # after the commit, which keeps the failure's count


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    uri: str


def do_begin_totp_enrolment(db: Session, actor: Viewer, *, now: datetime) -> TotpEnrolment:
    """Draw a new secret; it takes effect only once a code from it is confirmed."""
    with atomic(db):
        member = _own_member(db, actor)
        if member.totp_enabled:
            raise Conflict(N_("a second factor is already enabled; disable it first"))
        member.totp_secret = credentials.new_totp_secret()
        enrolment = TotpEnrolment(
            secret=member.totp_secret,
            uri=credentials.totp_uri(member.totp_secret, username=member.username),
        )
        _record_own(db, actor, CellEntry.TOTP_ENROLMENT_STARTED, now=now)
    return enrolment


def do_confirm_totp(db: Session, actor: Viewer, *, code: str, now: datetime) -> None:
    with atomic(db):
        member = _own_member(db, actor)
        if member.totp_enabled:
            raise Conflict(N_("the second factor is already enabled"))
        if member.totp_secret is None:
            raise Conflict(N_("start enrolment first"))
        step = credentials.accepted_totp_step(member.totp_secret, code, at=now, after=None)
        if step is None:
            raise InvalidTotpCode()
        member.totp_enabled = True
        member.totp_last_step = step
        _record_own(db, actor, CellEntry.TOTP_ENABLED, now=now)


def do_disable_totp(db: Session, actor: Viewer, *, code: str, now: datetime) -> None:
    """Turning the second factor off needs a current code, so a stolen session cannot."""
    with atomic(db):
        member = _own_member(db, actor)
        if not member.totp_enabled or member.totp_secret is None:
            raise Conflict(N_("no second factor is enabled"))
        step = credentials.accepted_totp_step(
            member.totp_secret, code, at=now, after=member.totp_last_step
        )
        if step is None:
            raise InvalidTotpCode()
        member.totp_enabled = False
        member.totp_secret = None
        member.totp_last_step = None
        _record_own(db, actor, CellEntry.TOTP_DISABLED, now=now)


def do_set_language(db: Session, actor: Viewer, *, language: str, now: datetime) -> None:
    require_language(language)
    with atomic(db):
        member = _own_member(db, actor)
        if member.language == language:
            return
        member.language = language
        _record_own(db, actor, CellEntry.LANGUAGE_SET, now=now, language=language)
