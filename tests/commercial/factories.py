"""Projects, milestones and shipments made through the real actions, a whole story told once
(every commercial entry type), and ``fusioncell verify`` over the result."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.helpers.verifying import verify_database, verify_state

from fusioncell import bootstrap
from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.commercial.actions.evidence import do_store_evidence
from fusioncell.commercial.actions.milestones import (
    do_add_milestone,
    do_attach_milestone_evidence,
    do_decide_milestone,
)
from fusioncell.commercial.actions.projects import do_change_project_status, do_propose_project
from fusioncell.commercial.actions.shipments import (
    do_declare_shipment,
    do_inspect_shipment,
    do_pass_shipment,
    do_refuse_shipment,
)
from fusioncell.commercial.models import Project, Shipment
from fusioncell.deconfliction.actions.registry import do_propose_place, do_sign_place
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext

Member = Callable[[str], Viewer]
HOUR = 3600
PLANT = {"type": "Point", "coordinates": [35.95, 32.95]}
LINE = {"type": "LineString", "coordinates": [[35.95, 32.95], [35.83, 33.12]]}
SIGNATORIES = ("alpha.liaison", "bravo.liaison", "supervisor.chair")


def crossing(db: Session, member: Member, *, now: datetime, kind: str = "crossing") -> str:
    """A crossing in the registry, in force (every signatory signed): its id."""
    place = do_propose_place(
        db,
        member("verifier.lead"),
        place_id=uuid.uuid4(),
        kind=kind,
        name=f"Quneitra {kind}",
        geometry={"type": "Point", "coordinates": [35.8239, 33.1256]},
        now=now,
    )
    for username in SIGNATORIES:
        do_sign_place(db, member(username), place_id=place.id, now=now)
    return str(place.id)


def project(
    db: Session,
    actor: Viewer,
    *,
    now: datetime,
    project_id: uuid.UUID | None = None,
    **more: Any,
) -> Project:
    fields: dict[str, Any] = {
        "name": "Southern power plant",
        "description": "A power project adding some 800 MW (a placeholder figure).",
        "party": None,
        "sponsors": ["Regional power company"],
        "financing": ["HOST"],
        "locations": [
            {"name": "Plant", "geometry": PLANT},
            {"name": "Transmission line", "geometry": LINE},
        ],
        "starts_on": now.date(),
        "ends_on": now.date() + timedelta(days=365),
    }
    return do_propose_project(
        db, actor, project_id=project_id or uuid.uuid4(), now=now, **{**fields, **more}
    )


def activate(db: Session, actor: Viewer, found: Project, *, now: datetime) -> Project:
    return do_change_project_status(
        db, actor, found.id, step_id=uuid.uuid4(), status="active", reason="Financed.", now=now
    )


def declare(
    db: Session,
    actor: Viewer,
    found: Project,
    crossing_id: str,
    *,
    now: datetime,
    ahead: timedelta = timedelta(hours=48),
) -> Shipment:
    return do_declare_shipment(
        db,
        actor,
        found.id,
        shipment_id=uuid.uuid4(),
        cargo="Two 400 MW turbine sets",
        crossing=crossing_id,
        planned_at=now + ahead,
        now=now,
    )


def tell_story(db: Session, member: Member, clock: ManualClock) -> Project:
    """Every commercial entry type once or more: evidence stored, a project proposed and
    made active, two milestones (one met on a file put before it, one missed), a shipment
    declared on time, inspected and passed, and one declared late and refused."""
    alpha, chair, verifier = (
        member("alpha.liaison"),
        member("supervisor.chair"),
        member("verifier.lead"),
    )
    crossing_id = crossing(db, member, now=clock.now())
    found = project(db, alpha, now=clock.now())
    activate(db, alpha, found, now=clock.now())
    start: date = clock.now().date()
    contract = do_add_milestone(
        db,
        alpha,
        found.id,
        milestone_id=uuid.uuid4(),
        title="Contracts signed",
        due_on=start + timedelta(days=1),
        now=clock.now(),
    )
    commissioning = do_add_milestone(
        db,
        chair,
        found.id,
        milestone_id=uuid.uuid4(),
        title="First unit commissioned",
        due_on=start + timedelta(days=2),
        now=clock.now(),
    )
    stored = do_store_evidence(
        db, alpha, b"Contract no. 1, signed.", media_type="text/plain", now=clock.now()
    )
    do_attach_milestone_evidence(
        db,
        alpha,
        found.id,
        contract.id,
        step_id=uuid.uuid4(),
        evidence=[stored.sha256],
        now=clock.now(),
    )
    do_decide_milestone(
        db,
        verifier,
        found.id,
        contract.id,
        step_id=uuid.uuid4(),
        decision="met",
        reason="The signed contract is before us.",
        now=clock.now(),
    )
    passed = declare(db, alpha, found, crossing_id, now=clock.now())
    do_inspect_shipment(
        db,
        verifier,
        found.id,
        passed.id,
        step_id=uuid.uuid4(),
        note="Seals intact.",
        now=clock.now(),
    )
    do_pass_shipment(db, verifier, found.id, passed.id, step_id=uuid.uuid4(), now=clock.now())
    late = declare(db, alpha, found, crossing_id, now=clock.now(), ahead=timedelta(hours=20))
    do_refuse_shipment(
        db,
        verifier,
        found.id,
        late.id,
        step_id=uuid.uuid4(),
        reason="The cargo is not what was declared.",
        now=clock.now(),
    )
    clock.advance(4 * 24 * HOUR)
    do_decide_milestone(
        db,
        chair,
        found.id,
        commissioning.id,
        step_id=uuid.uuid4(),
        decision="missed",
        reason="No unit ran by the due date.",
        now=clock.now(),
    )
    db.commit()
    return found


def assert_verifies(db: Session, engine: Engine, ledger: LedgerContext, now: datetime) -> None:
    """A checkpoint over everything committed, then ``fusioncell verify`` on the database:
    the rows against the log, and every track's replay."""
    db.commit()
    do_sign_checkpoint(db, now=now)
    db.commit()
    state = verify_state(engine, ledger)
    assert state.ok, (state.failed_index, state.reason)
    replayed = verify_database(engine, ledger, replays=bootstrap.REPLAYS)
    assert replayed.ok, (replayed.failed_index, replayed.reason)
