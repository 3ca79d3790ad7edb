"""The cell's rows made through the real actions, and read back fresh, for the tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.conftest import DEMO_PASSWORD

from fusioncell.cell import credentials
from fusioncell.cell.actions.auth import IssuedToken, StartedSession, do_issue_token, do_log_in
from fusioncell.cell.actions.members import do_create_member
from fusioncell.cell.models import ApiToken, Member, Role, WebSession
from fusioncell.cell.policy import Viewer, console_viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.scenario.demo import stable_id

Row = TypeVar("Row")


def create_member(
    db: Session,
    actor: Viewer,
    clock: ManualClock,
    *,
    member_id: uuid.UUID | None = None,
    username: str = "alpha.new",
    organisation: str = "ALPHA",
    roles: Sequence[Role] = (Role.ANALYST,),
    display_name: str = "",
    password: str = DEMO_PASSWORD,
) -> Member:
    """``do_create_member`` as ``actor``: proposed (awaiting the organisation's countersign)
    when the operator creates it, in force at once when the console does."""
    return do_create_member(
        db,
        actor,
        member_id=member_id or uuid.uuid4(),
        username=username,
        display_name=display_name,
        organisation_slug=organisation,
        roles=roles,
        password=password,
        language="en",
        now=clock.now(),
        hash_profile="fast-insecure",
    )


def console() -> Viewer:
    """The console: it founds the cell, so what it creates needs no countersign."""
    return console_viewer(stable_id("organisation", "SUPERVISOR"))


def issue_token(
    db: Session,
    settings: Settings,
    clock: ManualClock,
    username: str,
    *,
    password: str = DEMO_PASSWORD,
    totp_code: str | None = None,
) -> IssuedToken:
    return do_issue_token(
        db,
        username=username,
        password=password,
        totp_code=totp_code,
        now=clock.now(),
        settings=settings,
    )


def start_session(
    db: Session,
    settings: Settings,
    clock: ManualClock,
    username: str,
    *,
    password: str = DEMO_PASSWORD,
    totp_code: str | None = None,
) -> StartedSession:
    return do_log_in(
        db,
        username=username,
        password=password,
        totp_code=totp_code,
        now=clock.now(),
        settings=settings,
    )


def totp_code(secret: str, at: datetime) -> str:
    code: str = pyotp.TOTP(secret).at(at)
    return code


# --- rows read back fresh ------------------------------------------------------------------


def fresh(db: Session, model: type[Row], key: object) -> Row | None:
    db.expire_all()
    row = db.get(model, key)
    db.commit()
    return row


def member_row(db: Session, username: str) -> Member:
    db.expire_all()
    row = db.scalar(select(Member).where(Member.username == username))
    db.commit()
    assert row is not None, username
    return row


def token_row(db: Session, secret: str) -> ApiToken:
    db.expire_all()
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == credentials.digest(secret)))
    db.commit()
    assert row is not None
    return row


def session_row(db: Session, secret: str) -> WebSession:
    row = fresh(db, WebSession, credentials.digest(secret))
    assert row is not None
    return row
