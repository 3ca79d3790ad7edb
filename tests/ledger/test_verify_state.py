"""``fusioncell verify --database-url`` checks the state a database serves against its log: every
body is kept, every entry's audience rows are exactly those its track's rule gives, and the
tracks' rows match the bodies. An edited copy fails and names the entry at fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text
from tests.helpers.verifying import entry_index, fusioncell_verify, sql, verify_state

from fusioncell.bootstrap import STATE_CHECKS
from fusioncell.cell.entries import CellEntry
from fusioncell.cell.state_check import CellStateCheck
from fusioncell.geo.entries import GeoEntry
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.state_check import HotlineStateCheck
from fusioncell.ledger.context import LedgerContext
from fusioncell.scenario.demo import stable_id

ALPHA = stable_id("organisation", "ALPHA")


@pytest.fixture
def signed(demo: None, app: FastAPI) -> None:
    """The demo cell (organisations, members, keys, channels, geography), checkpointed."""
    app.state.checkpointer.run_once()


def test_an_honest_demo_database_verifies_with_every_state_check(
    signed: None, engine: Engine, ledger: LedgerContext
) -> None:
    report = verify_state(engine, ledger)

    assert report.ok, report.summary()


def test_a_deleted_body_is_a_failure_naming_its_entry(
    signed: None, engine: Engine, ledger: LedgerContext
) -> None:
    target = entry_index(engine, CellEntry.MEMBER_CREATED)
    sql(engine, "DELETE FROM log_bodies WHERE entry_index = :i", i=target)

    # Even without state checks: a database keeps every body.
    report = verify_state(engine, ledger, checks=None)

    assert (report.failed_index, report.reason) == (
        target,
        "log_bodies has no row for this entry: its body is lost",
    )


def test_an_added_audience_row_is_a_failure_naming_its_entry(
    signed: None, engine: Engine, ledger: LedgerContext
) -> None:
    target = entry_index(engine, HotlineEntry.CHANNEL_OPENED)
    sql(
        engine,
        "INSERT INTO log_audiences (entry_index, kind, value) VALUES (:i, 'role', 'observer')",
        i=target,
    )

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        target,
        "log_audiences grants role 'observer' a body the log gives no such audience",
    )
    assert verify_state(engine, ledger, checks=None).ok  # the leaves alone cannot tell


def test_an_audience_widened_to_everyone_is_caught_at_its_entry(
    signed: None, engine: Engine, ledger: LedgerContext
) -> None:
    target = entry_index(engine, CellEntry.MEMBER_CREATED)
    sql(engine, "DELETE FROM log_audiences WHERE entry_index = :i", i=target)
    sql(engine, "INSERT INTO log_audiences VALUES (:i, 'all', '')", i=target)

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        target,
        "log_audiences grants all '' a body the log gives no such audience",
    )


def test_a_removed_audience_row_is_caught_at_its_entry(
    signed: None, engine: Engine, ledger: LedgerContext
) -> None:
    target = entry_index(engine, HotlineEntry.CHANNEL_OPENED)
    sql(
        engine,
        "DELETE FROM log_audiences WHERE entry_index = :i AND value = :v",
        i=target,
        v=str(ALPHA),
    )

    report = verify_state(engine, ledger)

    assert (report.failed_index, report.reason) == (
        target,
        f"log_audiences lacks the organisation '{ALPHA}' the entry's audience includes",
    )


def forged(engine: Engine, statement: str) -> None:
    """Write as a forger with a copy would: with its foreign keys switched off."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")  # outside a transaction: takes effect
        cursor.execute(statement)
        raw.commit()
        cursor.execute(
            "RESET session_replication_role"
            if engine.dialect.name == "postgresql"
            else "PRAGMA foreign_keys = ON"
        )
        raw.commit()
    finally:
        raw.close()


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        (
            "INSERT INTO log_bodies VALUES ({i}, {salt}, '{{}}')",
            "log_bodies holds {n1} rows, but the log {n} entries",
        ),
        (
            "INSERT INTO log_audiences VALUES ({i}, 'all', '')",
            "log_audiences holds {a1} rows, but the log's entries {a}",
        ),
    ],
    ids=["body", "audience"],
)
def test_body_and_audience_rows_for_no_entry_are_caught(
    signed: None, engine: Engine, ledger: LedgerContext, statement: str, reason: str
) -> None:
    with engine.connect() as connection:
        n = int(connection.scalar(text("SELECT count(*) FROM log_entries")))
        a = int(connection.scalar(text("SELECT count(*) FROM log_audiences")))
    salt = "'\\x00'::bytea" if engine.dialect.name == "postgresql" else "X'00'"
    forged(engine, statement.format(i=n + 5, salt=salt))

    report = verify_state(engine, ledger, checks=None)

    assert (report.failed_index, report.reason) == (
        None,
        reason.format(n=n, n1=n + 1, a=a, a1=a + 1),
    )


def test_an_entry_type_no_state_check_answers_for_is_a_failure(
    signed: None, engine: Engine, ledger: LedgerContext
) -> None:
    report = verify_state(engine, ledger, checks=(CellStateCheck(), HotlineStateCheck()))

    target = entry_index(engine, GeoEntry.GEO_VERSION_PROPOSED)
    assert (report.failed_index, report.reason) == (
        target,
        "no state check answers for geo.version.proposed entries: their audience and rows "
        "cannot be checked",
    )


def test_two_checks_answering_for_one_entry_type_are_refused(
    signed: None, engine: Engine, ledger: LedgerContext
) -> None:
    with pytest.raises(ValueError, match="two state checks answer for"):
        verify_state(engine, ledger, checks=(*STATE_CHECKS, CellStateCheck()))


def test_the_command_fails_on_a_copy_whose_served_rows_were_edited(
    signed: None, engine: Engine, database_url: str, key_dir: Path
) -> None:
    target = entry_index(engine, CellEntry.ORGANISATION_CREATED)
    sql(
        engine, "UPDATE organisations SET name = 'Party ALPHA (the aggressor)' WHERE slug = 'ALPHA'"
    )

    result = fusioncell_verify("--database-url", database_url, key_dir=key_dir)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"fusioncell verify: FAILED at entry {target}: organisations row {ALPHA}: name is "
        "'Party ALPHA (the aggressor)', but the entry records 'Party ALPHA'\n"
    )
