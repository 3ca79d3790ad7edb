"""Appending in batches: many entries in one transaction, written just before commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.helpers.verifying import verify_database

from fusioncell.db.transaction import atomic
from fusioncell.errors import InvalidEntry, ReplayedEntry
from fusioncell.geo.entries import GeoEntry
from fusioncell.ledger import append as append_module
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.append import APPENDED, append, tree_size
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.entries import (
    EVERYONE,
    LedgerEntry,
    SignedEntry,
    audience,
    canonical,
    parse_leaf,
)
from fusioncell.ledger.models import EntryBody, LogAudience, LogEntry, LogHash
from fusioncell.ledger.record import ByLog, record
from fusioncell.ledger.signing import sign_entry

MOMENT = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)


def signed_by_the_log(
    ledger: LedgerContext, entry_type: str, body: dict[str, object], **key: object
) -> SignedEntry:
    header, signature, salt = sign_entry(
        ledger.keyring.log_signer.private_key(),
        entry_type,
        body,
        policy_hash=ledger.policy_hash,
        now=MOMENT,
        custodial=False,
        key=dict(key) if key else None,
    )
    return SignedEntry(header=header, signature=signature, body=body, salt=salt)


def test_a_batch_in_one_transaction_gets_consecutive_indexes_and_the_log_verifies(
    db: Session, engine: Engine, ledger: LedgerContext
) -> None:
    # 300 entries cross subtree boundaries of every level up to 256 within the transaction.
    with atomic(db):
        appended = [
            record(
                db,
                ByLog(),
                GeoEntry.GEO_FEATURE_DEFINED,
                {"n": n, "text": "routine status report"},
                audience=audience(roles=["liaison"]) if n % 2 else EVERYONE,
                now=MOMENT + timedelta(milliseconds=n),
            )
            for n in range(300)
        ]
        assert tree_size(db) == 301  # the policy entry, then the batch
        assert db.info[APPENDED] == list(range(301))

    assert [a.index for a in appended] == list(range(1, 301))
    assert do_sign_checkpoint(db, now=MOMENT) is not None
    report = verify_database(engine, ledger)
    assert report.ok, report.summary()
    assert (report.size, report.bodies_checked) == (301, 301)
    leaf = parse_leaf(db.get_one(LogEntry, 300).leaf)
    assert leaf.header["time"] == "2026-01-06T08:00:00.299Z"
    body = canonical({"n": 299, "text": "routine status report"}).decode()
    assert db.get_one(EntryBody, 300).body == body
    grants = db.execute(
        select(LogAudience.kind, LogAudience.value).order_by(LogAudience.entry_index)
    )
    assert list(grants)[:3] == [("all", ""), ("all", ""), ("role", "liaison")]


def test_the_log_time_is_stored_as_the_column_type_stores_it(db: Session) -> None:
    with atomic(db):
        appended = record(
            db, ByLog(), GeoEntry.GEO_FEATURE_DEFINED, {"n": 1}, audience=EVERYONE, now=MOMENT
        )
    # The comparison binds MOMENT through the column type: on SQLite it matches the stored
    # text only if the append stored the same spelling.
    found = db.scalars(select(LogEntry.index).where(LogEntry.logged_at == MOMENT))
    assert list(found) == [0, appended.index]  # the policy entry, then this one
    assert db.get_one(LogEntry, appended.index).logged_at == MOMENT


def test_an_entry_replayed_within_its_own_transaction_is_refused(
    db: Session, ledger: LedgerContext
) -> None:
    signed = signed_by_the_log(ledger, GeoEntry.GEO_FEATURE_DEFINED.value, {"n": 1})
    with atomic(db):
        append(db, signed, now=MOMENT, verify=True)
        with pytest.raises(ReplayedEntry):
            append(db, signed, now=MOMENT, verify=True)
    assert tree_size(db) == 1


def test_a_key_entry_refused_in_a_batch_leaves_no_row_and_no_gap(
    db: Session, engine: Engine, ledger: LedgerContext
) -> None:
    nobody = signed_by_the_log(
        ledger, LedgerEntry.KEY_REVOKED.value, {"key": "0" * 16}, id="0" * 16
    )
    with atomic(db):
        first = record(
            db, ByLog(), GeoEntry.GEO_FEATURE_DEFINED, {"n": 1}, audience=EVERYONE, now=MOMENT
        )
        with pytest.raises(InvalidEntry):
            append(db, nobody, now=MOMENT, verify=True)
        second = record(
            db, ByLog(), GeoEntry.GEO_FEATURE_DEFINED, {"n": 2}, audience=EVERYONE, now=MOMENT
        )

    assert second.index == first.index + 1
    assert do_sign_checkpoint(db, now=MOMENT) is not None
    assert verify_database(engine, ledger).ok


def test_a_rolled_back_batch_leaves_the_log_as_it_was(db: Session, ledger: LedgerContext) -> None:
    with atomic(db):
        record(db, ByLog(), GeoEntry.GEO_FEATURE_DEFINED, {"n": 0}, audience=EVERYONE, now=MOMENT)
    with pytest.raises(RuntimeError), atomic(db):
        for n in range(1, 20):
            record(
                db, ByLog(), GeoEntry.GEO_FEATURE_DEFINED, {"n": n}, audience=EVERYONE, now=MOMENT
            )
        raise RuntimeError("the action fails after its appends")

    assert tree_size(db) == 2  # the policy entry and the first
    assert db.scalar(select(LogHash.index).order_by(LogHash.index.desc()).limit(1)) == 2
    with atomic(db):
        again = record(
            db, ByLog(), GeoEntry.GEO_FEATURE_DEFINED, {"n": 1}, audience=EVERYONE, now=MOMENT
        )
    assert again.index == 2


@pytest.mark.parametrize("model", [LogEntry, EntryBody, LogAudience, LogHash])
def test_the_queued_rows_fill_every_column_of_their_table(model: type) -> None:
    _table, columns = next(
        queued for queued in append_module._COLUMNS.values() if queued[0] == model.__tablename__
    )
    assert sorted(columns) == sorted(column.name for column in model.__table__.columns)
