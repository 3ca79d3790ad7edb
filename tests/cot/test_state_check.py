"""``fusioncell verify --database`` over the CoT track: certificates, received events and
uid claims against their entries, and each entry's audience."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from tests.cot.factories import tell_story
from tests.cot.samples import position
from tests.helpers.verifying import tamper, verify_state

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.cot.actions.events import do_receive_event
from fusioncell.cot.parse import parse_event
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext


@pytest.fixture
def told(
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    settings: Settings,
) -> None:
    tell_story(db, member, clock, key_dir=settings.key_dir)
    do_receive_event(
        db,
        member("alpha.liaison"),
        parse_event(position("ANDROID-9", now=clock.now())),
        now=clock.now(),
    )
    db.commit()
    do_sign_checkpoint(db, now=clock.now())
    db.commit()


def test_the_tracks_rows_and_audiences_verify(
    told: None, engine: Engine, ledger: LedgerContext
) -> None:
    report = verify_state(engine, ledger)
    assert report.ok, (report.failed_index, report.reason)


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("UPDATE cot_events SET raw = replace(raw, 'R 1', 'R 2') WHERE uid = 'marker-1'", "raw"),
        ("UPDATE cot_certificates SET revoked_log_index = NULL", "revoked_log_index"),
        ("DELETE FROM cot_uids", "cot_uids has no row"),
    ],
)
def test_an_edited_row_no_longer_matches_its_entry(
    told: None, engine: Engine, ledger: LedgerContext, statement: str, reason: str
) -> None:
    tamper(engine, text(statement))
    report = verify_state(engine, ledger)
    assert not report.ok and reason in (report.reason or "")
