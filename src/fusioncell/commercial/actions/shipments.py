"""Crossing shipments of a project (issue 14, item 4).

A party's liaison officer declares a shipment of an active project: its cargo, the crossing
it passes (an agreed protected site of kind crossing in the deconfliction registry, by id)
and its planned crossing time, which is still to come. The entry states the lead-time
verdict: on time when the crossing is at least the rules' lead after the declaration's log
time, late otherwise; a late shipment is accepted, marked late and counted (R13), as the
deconfliction track's notifications are. The verifier inspects it, then passes it, or
refuses it (inspected or not) with a reason.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.commercial.actions.common import add_step, aware, record_entry, retried
from fusioncell.commercial.entries import CommercialEntry
from fusioncell.commercial.events import EventKind
from fusioncell.commercial.lead_time import judge
from fusioncell.commercial.models import ProjectStatus, Shipment, ShipmentState
from fusioncell.commercial.policy import may_declare, may_inspect, require
from fusioncell.commercial.queries import projects as queries
from fusioncell.db.transaction import atomic
from fusioncell.deconfliction.models.registry import PlaceKind
from fusioncell.deconfliction.queries.registry import get_place
from fusioncell.deescalation.queries import directory
from fusioncell.errors import Conflict, IdempotencyConflict, InvalidInput, NotFound
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.entries import log_time
from fusioncell.text import N_
from fusioncell.verification.actions.common import text

_NOT_DECLARER = N_("A shipment is declared by a party's liaison officer.")
_NOT_INSPECTOR = N_("Shipments are inspected, passed and refused by the verifier.")
_NOT_ACTIVE = N_("The project is %(status)s: shipments are declared for an active project.")
_NO_CROSSING = N_(
    "The crossing is the id of an agreed crossing in the registry of protected places."
)
_PAST = N_("The planned crossing time has passed.")
_NOT_NOW = N_("The shipment is %(state)s: this step is not open to it.")

# What each step needs the shipment to be.
_FROM = {
    CommercialEntry.SHIPMENT_INSPECTED: frozenset({ShipmentState.DECLARED}),
    CommercialEntry.SHIPMENT_PASSED: frozenset({ShipmentState.INSPECTED}),
    CommercialEntry.SHIPMENT_REFUSED: frozenset({ShipmentState.DECLARED, ShipmentState.INSPECTED}),
}


def _crossing(db: Session, actor: Viewer, crossing: str) -> tuple[uuid.UUID, str]:
    try:
        place = get_place(db, actor, uuid.UUID(crossing))
    except (ValueError, NotFound):
        raise InvalidInput(_NO_CROSSING, field="crossing") from None
    if place.kind != PlaceKind.CROSSING or place.agreed_at is None:
        raise InvalidInput(_NO_CROSSING, field="crossing")
    return place.id, place.name


def do_declare_shipment(
    db: Session,
    actor: Viewer,
    project_id: uuid.UUID,
    *,
    shipment_id: uuid.UUID,
    cargo: str,
    crossing: str,
    planned_at: datetime,
    now: datetime,
) -> Shipment:
    require(actor, may_declare(actor), _NOT_DECLARER)
    project = queries.get_project(db, actor, project_id)
    rules = queries.rules_in_force(db)
    said = text(cargo, field="cargo", limit=rules.max_text_chars)
    crossing_id, crossing_name = _crossing(db, actor, crossing)
    planned = aware(planned_at, field="planned_at")
    dir_ = directory(db, actor)
    party = dir_.by_id[actor.organisation_id].slug
    with atomic(db):
        earlier = queries.find_own_shipment(db, actor.member_id, shipment_id)
        if earlier is not None:
            recorded = (earlier.project_id, earlier.cargo, earlier.crossing_id, earlier.planned_at)
            if recorded != (project.id, said, crossing_id, planned):
                raise IdempotencyConflict(shipment_id=str(shipment_id))
            return earlier
        at = log_clock(db, now=now)
        project = queries.for_update(db, project_id)
        if project.status != ProjectStatus.ACTIVE:
            raise Conflict(N_(_NOT_ACTIVE, status=project.status), field="status")
        if planned <= at:
            raise InvalidInput(_PAST, field="planned_at")
        verdict = judge(planned_at=planned, declared_at=at, lead=rules.lead)
        shipment = Shipment(
            id=shipment_id if not queries.id_taken(db, Shipment, shipment_id) else uuid.uuid4(),
            client_id=shipment_id,
            project_id=project.id,
            declared_by=actor.member_id,
            party_id=actor.organisation_id,
            cargo=said,
            crossing_id=crossing_id,
            crossing_name=crossing_name,
            planned_at=planned,
            required_lead_s=int(rules.lead.total_seconds()),
            lead_time=verdict,
            state=ShipmentState.DECLARED,
            log_index=-1,
            declared_at=at,
        )
        appended = record_entry(
            db,
            actor,
            dir_,
            project,
            CommercialEntry.SHIPMENT_DECLARED,
            {
                "shipment": str(shipment.id),
                "party": party,
                "cargo": said,
                "crossing": str(crossing_id),
                "crossing_name": crossing_name,
                "planned_at": log_time(planned),
                "required_lead_seconds": shipment.required_lead_s,
                "lead_time": verdict,
                "state": shipment.state,
            },
            event=EventKind.SHIPMENT,
            subject=shipment.id,
            at=at,
        )
        shipment.log_index = appended.index
        shipment.declared_at = appended.logged_at
        db.add(shipment)
    return shipment


def _step(
    db: Session,
    actor: Viewer,
    project_id: uuid.UUID,
    shipment_id: uuid.UUID,
    kind: CommercialEntry,
    *,
    step_id: uuid.UUID,
    note: str,
    now: datetime,
) -> Shipment:
    shipment = queries.get_shipment(db, actor, project_id, shipment_id)
    dir_ = directory(db, actor)
    with atomic(db):
        at = log_clock(db, now=now)
        project = queries.for_update(db, project_id)
        shipment = queries.shipment_for_update(db, shipment.id)
        if retried(db, actor, step_id, shipment.id, kind.value):
            return shipment
        if shipment.state not in _FROM[kind]:
            raise Conflict(N_(_NOT_NOW, state=shipment.state), state=shipment.state, field="state")
        state = {
            CommercialEntry.SHIPMENT_INSPECTED: ShipmentState.INSPECTED,
            CommercialEntry.SHIPMENT_PASSED: ShipmentState.PASSED,
            CommercialEntry.SHIPMENT_REFUSED: ShipmentState.REFUSED,
        }[kind]
        shipment.state = state
        field = "note" if kind == CommercialEntry.SHIPMENT_INSPECTED else "reason"
        appended = record_entry(
            db,
            actor,
            dir_,
            project,
            kind,
            {
                "shipment": str(shipment.id),
                "party": dir_.by_id[shipment.party_id].slug,
                field: note,
                "state": state,
            },
            event=EventKind.SHIPMENT,
            subject=shipment.id,
            at=at,
        )
        if kind == CommercialEntry.SHIPMENT_INSPECTED:
            shipment.inspected_by = actor.member_id
            shipment.inspection_note = note
            shipment.inspected_at = appended.logged_at
        else:
            shipment.decided_by = actor.member_id
            shipment.reason = note
            shipment.decided_at = appended.logged_at
        add_step(
            db, actor, appended, project=project, subject=shipment.id, kind=kind, step_id=step_id
        )
    return shipment


def do_inspect_shipment(
    db: Session,
    actor: Viewer,
    project_id: uuid.UUID,
    shipment_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    note: str,
    now: datetime,
) -> Shipment:
    require(actor, may_inspect(actor), _NOT_INSPECTOR)
    limit = queries.rules_in_force(db).max_text_chars
    said = text(note, field="note", limit=limit)
    kind = CommercialEntry.SHIPMENT_INSPECTED
    return _step(db, actor, project_id, shipment_id, kind, step_id=step_id, note=said, now=now)


def do_pass_shipment(
    db: Session,
    actor: Viewer,
    project_id: uuid.UUID,
    shipment_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    note: str = "",
    now: datetime,
) -> Shipment:
    require(actor, may_inspect(actor), _NOT_INSPECTOR)
    limit = queries.rules_in_force(db).max_text_chars
    said = text(note, field="note", limit=limit, required=False)
    kind = CommercialEntry.SHIPMENT_PASSED
    return _step(db, actor, project_id, shipment_id, kind, step_id=step_id, note=said, now=now)


def do_refuse_shipment(
    db: Session,
    actor: Viewer,
    project_id: uuid.UUID,
    shipment_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    reason: str,
    now: datetime,
) -> Shipment:
    require(actor, may_inspect(actor), _NOT_INSPECTOR)
    limit = queries.rules_in_force(db).max_text_chars
    said = text(reason, field="reason", limit=limit)
    kind = CommercialEntry.SHIPMENT_REFUSED
    return _step(db, actor, project_id, shipment_id, kind, step_id=step_id, note=said, now=now)
