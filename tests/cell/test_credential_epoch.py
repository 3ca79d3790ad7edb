"""The credential epoch moves in every transaction that changes what decides a credential,
whichever action it is, and not when a new credential is issued."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session
from tests.cell.factories import console, issue_token, start_session
from tests.conftest import DEMO_PASSWORD

from fusioncell.cell.actions.account import do_change_password, do_set_language
from fusioncell.cell.actions.auth import do_log_out, do_revoke_token
from fusioncell.cell.actions.members import do_disable_member, do_grant_role, do_revoke_role
from fusioncell.cell.models import Role
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import credential_epoch
from fusioncell.clock import ManualClock
from fusioncell.config import Settings


def _epoch(db: Session) -> int:
    db.rollback()  # a fresh read
    return credential_epoch(db)


def test_issuing_a_token_or_logging_in_leaves_the_epoch_where_it_was(
    db: Session, settings: Settings, clock: ManualClock, member: Callable[[str], Viewer]
) -> None:
    before = _epoch(db)
    issue_token(db, settings, clock, "bravo.duty")
    start_session(db, settings, clock, "bravo.duty")
    assert _epoch(db) == before


def test_every_change_to_a_credential_moves_the_epoch(
    db: Session, settings: Settings, clock: ManualClock, member: Callable[[str], Viewer]
) -> None:
    bravo = member("bravo.duty")
    token = issue_token(db, settings, clock, "bravo.duty")
    session = start_session(db, settings, clock, "bravo.duty")
    now = clock.now()
    changes: list[tuple[str, Callable[[], object]]] = [
        ("token revoked", lambda: do_revoke_token(db, bravo, token_secret=token.secret, now=now)),
        ("logged out", lambda: do_log_out(db, bravo, session_secret=session.secret, now=now)),
        ("language set", lambda: do_set_language(db, bravo, language="ar", now=now)),
        (
            "role granted",
            lambda: do_grant_role(
                db, console(), member_id=bravo.member_id, role=Role.ANALYST, now=now
            ),
        ),
        (
            "role revoked",
            lambda: do_revoke_role(
                db, console(), member_id=bravo.member_id, role=Role.ANALYST, now=now
            ),
        ),
        (
            "password changed",
            lambda: do_change_password(
                db,
                member("alpha.duty"),
                current_password=DEMO_PASSWORD,
                new_password="a-new-password-for-alpha",
                now=now,
                hash_profile="fast-insecure",
            ),
        ),
        (
            "member disabled",
            lambda: do_disable_member(db, console(), username="bravo.analyst", now=now),
        ),
    ]
    for name, change in changes:
        before = _epoch(db)
        change()
        assert _epoch(db) == before + 1, name
