"""REST routes of incidents and early-warning alerts. Every read goes through
``deconfliction.queries.incidents``; every change is an action. An incident near a protected
community raises an alert, which the hotline then carries to the parties concerned."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deconfliction.actions.early_warning import (
    acknowledge_alert_and_its_hotline_message,
    carry_alerts,
)
from fusioncell.deconfliction.actions.incidents import do_report_incident
from fusioncell.deconfliction.models.incidents import Alert, Incident
from fusioncell.deconfliction.protection import may_read, require
from fusioncell.deconfliction.protection_schemas import (
    AlertOut,
    AlertRecipientOut,
    IncidentOut,
    ReportIncidentIn,
)
from fusioncell.deconfliction.queries import incidents as queries
from fusioncell.deconfliction.queries.registry import directory, list_places
from fusioncell.errors import FusioncellError, InvalidInput
from fusioncell.idempotency import resolve_id
from fusioncell.web.deps import AppClock, CurrentViewer, Db

router = APIRouter(prefix="/api/v1", tags=["deconfliction"])
log = logging.getLogger("fusioncell.deconfliction")
IdempotencyKey = Annotated[str | None, Header(max_length=200)]
_READ = "this needs the permission to read the cell's traffic"


def incidents_out(
    db: Session, viewer: Viewer, incidents: Sequence[Incident], alerts: Sequence[Alert] = ()
) -> list[IncidentOut]:
    dir_ = directory(db, viewer)
    return [
        IncidentOut(
            id=i.id,
            kind=i.kind,
            affects=i.affects,
            target=i.target_id,
            target_name=i.target_name,
            denied=i.denied,
            attributed_to=dir_.slug(i.attributed_to),
            reported_by=dir_.slug(i.organisation_id) or "",
            location={"type": "Point", "coordinates": [i.lon, i.lat]},
            occurred_at=i.occurred_at,
            description=i.description,
            evidence=i.evidence,
            log_index=i.log_index,
            reported_at=i.reported_at,
            alerts=[a.id for a in alerts if a.source_id == str(i.id)],
        )
        for i in incidents
    ]


@router.get("/incidents", response_model=list[IncidentOut])
def list_incidents(
    viewer: CurrentViewer,
    db: Db,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    attributed_to: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[IncidentOut]:
    """Incidents affecting protected sites, communities and movements, the latest first;
    ``attributed_to`` names a party (a denial of access is attributed to the party that
    denied it)."""
    require(viewer, may_read(viewer), _READ)
    party_id = None
    if attributed_to:
        party = directory(db, viewer).by_slug.get(attributed_to)
        if party is None:
            raise InvalidInput("no such party", field="attributed_to")
        party_id = party.id
    found = queries.list_incidents(db, viewer, kind=kind, attributed_to=party_id, limit=limit)
    return incidents_out(db, viewer, found)


@router.post("/incidents", response_model=IncidentOut, status_code=201)
def report_incident(
    body: ReportIncidentIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> IncidentOut:
    """Report an incident (``kind`` access_denied, attack, threat or damage) affecting a
    protected site, a community or a movement (``affects`` and ``target``), with its time,
    place and evidence by SHA-256. A denial of access names ``attributed_to`` (the party that
    denied it) and ``denied`` (convoy or verifier). Near a protected community it raises an
    early warning (``alerts``)."""
    reported = do_report_incident(
        db,
        viewer,
        incident_id=resolve_id(viewer, body.id, idempotency_key, scope="deconfliction-incident"),
        kind=body.kind,
        affects=body.affects,
        target=body.target,
        occurred_at=body.occurred_at,
        description=body.description,
        location=body.location,
        evidence=[e.model_dump() for e in body.evidence],
        attributed_to=body.attributed_to,
        denied=body.denied,
        now=clock.now(),
    )
    try:
        carry_alerts(db, reported.alerts, now=clock.now())
    except FusioncellError:  # the report stands; the watch carries what is left
        log.exception("an early warning was not carried on the hotline yet")
    return incidents_out(db, viewer, [reported.incident], reported.alerts)[0]


@router.get("/incidents/{incident_id}", response_model=IncidentOut)
def get_incident(incident_id: uuid.UUID, viewer: CurrentViewer, db: Db) -> IncidentOut:
    return incidents_out(db, viewer, [queries.get_incident(db, viewer, incident_id)])[0]


# -- early warnings -------------------------------------------------------------------------


def alerts_out(
    db: Session, viewer: Viewer, alerts: Sequence[Alert], *, now: datetime | None = None
) -> list[AlertOut]:
    dir_ = directory(db, viewer)
    ids = [a.id for a in alerts]
    recipients = queries.recipients_of(db, viewer, ids)
    acks = queries.acks_of(db, viewer, ids)
    names = {p.id: p.name for p in list_places(db, viewer, kind="community")}
    out = []
    for alert in alerts:
        got = acks.get(alert.id, {})
        out.append(
            AlertOut(
                id=alert.id,
                trigger=alert.trigger,
                source=alert.source_id,
                community=alert.community_id,
                community_name=names.get(alert.community_id, ""),
                distance_m=alert.distance_m,
                location={"type": "Point", "coordinates": [alert.lon, alert.lat]},
                occurred_at=alert.occurred_at,
                precedence=alert.precedence,
                ack_deadline=alert.ack_deadline,
                log_index=alert.log_index,
                raised_at=alert.raised_at,
                recipients=[
                    AlertRecipientOut(
                        organisation=dir_.slug(r.organisation_id) or "",
                        party=r.party,
                        acknowledged=r.organisation_id in got,
                        acknowledged_at=got[r.organisation_id].acked_at
                        if r.organisation_id in got
                        else None,
                        ack_log_index=got[r.organisation_id].log_index
                        if r.organisation_id in got
                        else None,
                        acknowledged_through=got[r.organisation_id].through
                        if r.organisation_id in got
                        else None,
                    )
                    for r in sorted(
                        recipients.get(alert.id, []),
                        key=lambda r: dir_.slug(r.organisation_id) or "",
                    )
                ],
            )
        )
    return out


@router.get("/early-warnings", response_model=list[AlertOut])
def list_alerts(
    viewer: CurrentViewer, db: Db, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[AlertOut]:
    """The early-warning alerts the caller's organisation received, the latest first, with
    each recipient's acknowledgement."""
    require(viewer, may_read(viewer), _READ)
    return alerts_out(db, viewer, queries.list_alerts(db, viewer, limit=limit))


@router.get("/early-warnings/{alert_id}", response_model=AlertOut)
def get_alert(alert_id: uuid.UUID, viewer: CurrentViewer, db: Db) -> AlertOut:
    return alerts_out(db, viewer, [queries.get_alert(db, viewer, alert_id)])[0]


@router.post("/early-warnings/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge_alert(
    alert_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> AlertOut:
    """A recipient organisation acknowledges receipt of an alert (a party also acknowledges
    the hotline message that carried it, on the hotline). An acknowledgement is receipt,
    never approval."""
    acknowledge_alert_and_its_hotline_message(db, viewer, alert_id=alert_id, now=clock.now())
    return alerts_out(db, viewer, [queries.get_alert(db, viewer, alert_id)])[0]
