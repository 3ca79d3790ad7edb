"""Notifications made through the real actions, and places of the demo's geometry."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.helpers.verifying import verify_database, verify_state

from fusioncell import bootstrap
from fusioncell.cell.policy import Viewer
from fusioncell.deconfliction.actions.escalation import do_escalate_due_notifications
from fusioncell.deconfliction.actions.notifications import do_submit_notification
from fusioncell.deconfliction.models import Notification
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext

# Places (lon, lat), measured against the demo's geometry.
NEAR_MAJDAL_SHAMS = (35.755, 33.262)  # about 1.25 km from the site, in ALPHA's 0-10 km band
AWAY_FROM_SITES_WEST = (35.70, 33.20)  # ALPHA's 0-10 km band, more than 5 km from any site
IN_SEPARATION = (35.84, 33.15)  # inside the area of separation
BRAVO_FAR = (36.10, 33.42)  # BRAVO's 20-25 km band, north of sector S
DARAA_TO_SUWAYDA = [[36.100, 32.617], [36.30, 32.66], [36.5667, 32.7125]]
QUNEITRA_ROUTE = [[35.78, 33.13], [35.8239, 33.1256], [35.90, 33.12]]


def point(lon_lat: tuple[float, float]) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(lon_lat)}


def line(coordinates: list[list[float]]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": coordinates}


def notify(
    db: Session,
    actor: Viewer,
    *,
    now: datetime,
    kind: str = "activity",
    geometry: dict[str, Any] | None = None,
    ahead: timedelta = timedelta(hours=80),
    hours: float = 6,
    notification_id: uuid.UUID | None = None,
    **more: Any,
) -> Notification:
    defaults: dict[str, Any] = {"description": f"A {kind} for the tests"}
    if kind == "movement":
        defaults["details"] = {"vehicles": 4, "contact": "+000 100 200", "markings": "HUM-1"}
        geometry = geometry or line(DARAA_TO_SUWAYDA)
    return do_submit_notification(
        db,
        actor,
        notification_id=notification_id or uuid.uuid4(),
        kind=kind,
        geometry=geometry or point(AWAY_FROM_SITES_WEST),
        starts_at=now + ahead,
        ends_at=now + ahead + timedelta(hours=hours),
        now=now,
        **{**defaults, **more},
    )


def assert_verifies(db: Session, engine: Engine, ledger: LedgerContext, now: datetime) -> None:
    """A checkpoint over everything committed, then ``fusioncell verify`` on the database:
    the rows against the log, and every track's replay (the conflicts, lead times and
    escalations recomputed from the log)."""
    db.commit()
    do_escalate_due_notifications(db, now=now)  # the engine's tick, as the server runs it
    do_sign_checkpoint(db, now=now)
    db.commit()
    state = verify_state(engine, ledger)
    assert state.ok, (state.failed_index, state.reason)
    replayed = verify_database(engine, ledger, replays=bootstrap.REPLAYS)
    assert replayed.ok, (replayed.failed_index, replayed.reason)
