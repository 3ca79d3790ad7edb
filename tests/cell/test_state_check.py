"""The cell's state check: organisations, members and their roles on a database copy must be
what the log's entries say; ``fusioncell verify`` names the first difference and its entry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.orm import Session
from tests.helpers.verifying import entry_index, tamper, verify_state

from fusioncell.cell.actions.account import do_set_language
from fusioncell.cell.actions.members import do_disable_member, do_grant_role
from fusioncell.cell.entries import CellEntry
from fusioncell.cell.models import Member, Role, RoleGrant
from fusioncell.cell.policy import Viewer, console_viewer
from fusioncell.cell.state_check import CellStateCheck
from fusioncell.clock import ManualClock
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.entries import known_entry_types, log_time
from fusioncell.ledger.models import LogAudience, LogEntry
from fusioncell.scenario.demo import MEMBERS, stable_id

LIAISON = stable_id("member", "alpha.liaison")
ANALYST = stable_id("member", "alpha.analyst")


def created_index(engine: Engine, username: str) -> int:
    """The cell.member.created entry of a demo member: the one whose audience follows it."""
    with engine.connect() as connection:
        created = connection.scalar(
            select(LogEntry.index)
            .where(LogEntry.entry_type == CellEntry.MEMBER_CREATED.value)
            .order_by(LogEntry.index)
            .offset([demo.username for demo in MEMBERS].index(username))
            .limit(1)
        )
    assert created is not None
    return int(created)


@pytest.fixture
def history(app: FastAPI, db: Session, member: Callable[[str], Viewer], clock: ManualClock) -> None:
    """The demo cell, then a member changing their language and another disabled."""
    clock.advance(1)
    do_set_language(db, member("alpha.liaison"), language="ar", now=clock.now())
    clock.advance(1)
    do_disable_member(
        db,
        console_viewer(stable_id("organisation", "SUPERVISOR")),
        username="alpha.analyst",
        now=clock.now(),
    )
    app.state.checkpointer.run_once()


def test_an_honest_cell_database_verifies_with_its_rows_and_audiences(
    history: None, engine: Engine, ledger: LedgerContext
) -> None:
    report = verify_state(engine, ledger)

    assert report.ok, report.summary()


def test_a_changed_role_grant_fails_at_the_members_creation(
    history: None, engine: Engine, ledger: LedgerContext
) -> None:
    tamper(
        engine,
        update(RoleGrant).where(RoleGrant.member_id == LIAISON).values(role="supervisor"),
    )

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        created_index(engine, "alpha.liaison"),
        f"role_grants gives member {LIAISON} the role supervisor, which no entry grants",
    )


def test_an_added_role_grant_fails_and_a_deleted_one_too(
    history: None, engine: Engine, ledger: LedgerContext, clock: ManualClock
) -> None:
    tamper(
        engine,
        insert(RoleGrant).values(member_id=LIAISON, role="admin", granted_at=clock.now()),
    )
    added = verify_state(engine, ledger)
    tamper(
        engine, delete(RoleGrant).where(RoleGrant.member_id == LIAISON, RoleGrant.role == "admin")
    )
    tamper(engine, delete(RoleGrant).where(RoleGrant.member_id == LIAISON))
    deleted = verify_state(engine, ledger)

    created = created_index(engine, "alpha.liaison")
    assert (added.failed_index, added.reason) == (
        created,
        f"role_grants gives member {LIAISON} the role admin, which no entry grants",
    )
    assert (deleted.failed_index, deleted.reason) == (
        created,
        f"role_grants lacks the role liaison this entry grants member {LIAISON}",
    )


def test_an_edited_username_fails_at_the_members_creation(
    history: None, engine: Engine, ledger: LedgerContext
) -> None:
    tamper(engine, update(Member).where(Member.id == LIAISON).values(username="bravo.chief"))

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        created_index(engine, "alpha.liaison"),
        f"members row {LIAISON}: username is 'bravo.chief', but the entry records 'alpha.liaison'",
    )


def test_a_member_re_enabled_on_the_copy_fails_at_the_disabling_entry(
    history: None, engine: Engine, ledger: LedgerContext
) -> None:
    tamper(engine, update(Member).where(Member.id == ANALYST).values(disabled_at=None))

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        entry_index(engine, CellEntry.MEMBER_DISABLED),
        f"members row {ANALYST}: disabled_at is None, but the log records it",
    )


def test_a_proposed_role_put_in_force_on_the_copy_fails_at_the_grant(
    history: None,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    app: FastAPI,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    """The operator proposes; only ALPHA's countersign may put the role in force."""
    do_grant_role(db, member("cell.admin"), member_id=LIAISON, role=Role.ANALYST, now=clock.now())
    app.state.checkpointer.run_once()
    assert verify_state(engine, ledger).ok
    proposed = RoleGrant.member_id == LIAISON, RoleGrant.role == "analyst"
    tamper(engine, update(RoleGrant).where(*proposed).values(countersigned_at=clock.now()))

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        entry_index(engine, CellEntry.ROLE_GRANTED, last=True),
        f"role_grants row {LIAISON}/analyst: countersigned_at is "
        f"{log_time(clock.now())}, but the log records no such thing",
    )


def test_a_language_reset_on_the_copy_fails_at_the_language_entry(
    history: None, engine: Engine, ledger: LedgerContext
) -> None:
    tamper(engine, update(Member).where(Member.id == LIAISON).values(language="en"))

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        entry_index(engine, CellEntry.LANGUAGE_SET, last=True),
        f"members row {LIAISON}: language is 'en', but the entry records 'ar'",
    )


def test_a_personal_entry_shown_to_the_chair_fails_at_its_entry(
    history: None, engine: Engine, ledger: LedgerContext
) -> None:
    target = entry_index(engine, CellEntry.LANGUAGE_SET, last=True)
    tamper(engine, insert(LogAudience).values(entry_index=target, kind="role", value="supervisor"))

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        target,
        "log_audiences grants role 'supervisor' a body the log gives no such audience",
    )


def test_the_cell_check_answers_for_every_cell_entry_type() -> None:
    cell = {kind for kind in known_entry_types() if kind.startswith("cell.")}

    assert cell <= CellStateCheck.entry_types
