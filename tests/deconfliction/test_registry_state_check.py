"""``verify --database`` over the registry, the no-strike lists, incidents and alerts: a
database the actions wrote matches its log; one whose rows were edited does not."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.deconfliction.protection_factories import (
    NEAR_SUWAYDA,
    agreed_community,
    point,
    site,
)
from tests.helpers.verifying import sql, verify_state

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.deconfliction.actions.early_warning import carry_alerts, do_acknowledge_alert
from fusioncell.deconfliction.actions.incidents import do_report_incident
from fusioncell.deconfliction.actions.registry import (
    do_acknowledge_no_strike_list,
    do_send_no_strike_lists,
)
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext
from fusioncell.scenario.demo import stable_id


@pytest.fixture
def recorded(db: Session, member: Callable[[str], Viewer], clock: ManualClock) -> None:
    """One of each: a community in force, a site proposed, lists sent (one acknowledged), an
    incident near the community with its alert carried and acknowledged."""
    place = agreed_community(db, member, now=clock.now())
    site(db, member("alpha.liaison"), now=clock.now())
    sent = do_send_no_strike_lists(
        db, member("supervisor.chair"), request_id=uuid.uuid4(), now=clock.now()
    )
    alpha = next(s for s in sent if s.party_id == stable_id("organisation", "ALPHA"))
    do_acknowledge_no_strike_list(db, member("alpha.liaison"), list_id=alpha.id, now=clock.now())
    reported = do_report_incident(
        db,
        member("hum1.coordinator"),
        incident_id=uuid.uuid4(),
        kind="access_denied",
        affects="community",
        target=str(place.id),
        occurred_at=clock.now(),
        description="The checkpoint at the western road was closed to the team",
        location=point(NEAR_SUWAYDA),
        attributed_to="ALPHA",
        denied="verifier",
        now=clock.now(),
    )
    carry_alerts(db, reported.alerts, now=clock.now())
    for alert in reported.alerts:
        do_acknowledge_alert(db, member("hum1.coordinator"), alert_id=alert.id, now=clock.now())
    do_sign_checkpoint(db, now=clock.now())
    db.commit()


def test_a_database_the_actions_wrote_matches_its_log(
    recorded: None, engine: Engine, ledger: LedgerContext
) -> None:
    report = verify_state(engine, ledger)
    assert report.ok, report.reason


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        (
            "UPDATE deconfliction_protected_places SET name = 'Elsewhere' WHERE kind = 'community'",
            "name is 'Elsewhere'",
        ),
        ("UPDATE deconfliction_protected_places SET agreed_log_index = NULL", "agreed_log_index"),
        ("UPDATE deconfliction_incidents SET attributed_to = NULL", "attributed_to"),
        ("UPDATE deconfliction_no_strike_lists SET digest = 'x'", "digest"),
        ("DELETE FROM deconfliction_alert_acks", "deconfliction_alert_acks has no row"),
        ("UPDATE deconfliction_alert_recipients SET party = NOT party", "recipients of alert"),
    ],
)
def test_an_edited_row_no_longer_matches(
    recorded: None, engine: Engine, ledger: LedgerContext, statement: str, reason: str
) -> None:
    sql(engine, statement)
    report = verify_state(engine, ledger)
    assert not report.ok and reason in str(report.reason)
