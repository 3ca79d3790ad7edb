"""Reads of incidents and early-warning alerts, viewer first.

Incidents are shared with every organisation of the cell: a denial of access or an attack on
a protected place concerns the parties, the supervisor, the verifier and the humanitarian
organisations alike. An alert reaches only its recipients (the supervisor, each humanitarian
organisation and the parties concerned); the filter is in the SQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deconfliction.models.incidents import Alert, AlertAck, AlertRecipient, Incident
from fusioncell.deconfliction.protection import may_read
from fusioncell.errors import NotFound


def list_incidents(
    db: Session,
    viewer: Viewer,
    *,
    kind: str | None = None,
    attributed_to: uuid.UUID | None = None,
    since: datetime | None = None,
    limit: int = 200,
) -> Sequence[Incident]:
    """Incidents, the latest reported first."""
    if not may_read(viewer):
        return []
    query = select(Incident)
    if kind:
        query = query.where(Incident.kind == kind)
    if attributed_to is not None:
        query = query.where(Incident.attributed_to == attributed_to)
    if since is not None:
        query = query.where(Incident.occurred_at >= since)
    return db.scalars(query.order_by(Incident.log_index.desc()).limit(limit)).all()


def get_incident(db: Session, viewer: Viewer, incident_id: uuid.UUID) -> Incident:
    found = db.get(Incident, incident_id) if may_read(viewer) else None
    if found is None:
        raise NotFound()
    return found


def find_own_incident(db: Session, member_id: uuid.UUID, client_id: uuid.UUID) -> Incident | None:
    """A reporter's incident by the id its client chose (a retry's first result)."""
    return db.scalar(
        select(Incident).where(Incident.reported_by == member_id, Incident.client_id == client_id)
    )


def incident_id_taken(db: Session, incident_id: uuid.UUID) -> bool:
    return db.get(Incident, incident_id) is not None


# -- alerts ---------------------------------------------------------------------------------


def _alerts_for(viewer: Viewer) -> Select[Alert]:
    return (
        select(Alert)
        .join(AlertRecipient, AlertRecipient.alert_id == Alert.id)
        .where(AlertRecipient.organisation_id == viewer.organisation_id)
    )


def list_alerts(db: Session, viewer: Viewer, *, limit: int = 100) -> Sequence[Alert]:
    """The alerts the viewer's organisation received, the latest first."""
    if not may_read(viewer):
        return []
    return db.scalars(_alerts_for(viewer).order_by(Alert.log_index.desc()).limit(limit)).all()


def get_alert(db: Session, viewer: Viewer, alert_id: uuid.UUID) -> Alert:
    found = db.scalar(_alerts_for(viewer).where(Alert.id == alert_id)) if may_read(viewer) else None
    if found is None:
        raise NotFound()
    return found


def recipients_of(
    db: Session, viewer: Viewer, alert_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[AlertRecipient]]:
    """Each alert's recipients (the alerts come from the reads above)."""
    found: dict[uuid.UUID, list[AlertRecipient]] = {a: [] for a in alert_ids}
    if not alert_ids or not may_read(viewer):
        return found
    for row in db.scalars(select(AlertRecipient).where(AlertRecipient.alert_id.in_(alert_ids))):
        found[row.alert_id].append(row)
    return found


def acks_of(
    db: Session, viewer: Viewer, alert_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[uuid.UUID, AlertAck]]:
    """Each alert's acknowledgements, by organisation."""
    found: dict[uuid.UUID, dict[uuid.UUID, AlertAck]] = {a: {} for a in alert_ids}
    if not alert_ids or not may_read(viewer):
        return found
    for row in db.scalars(select(AlertAck).where(AlertAck.alert_id.in_(alert_ids))):
        found[row.alert_id][row.organisation_id] = row
    return found


def ack_of_organisation(
    db: Session, alert_id: uuid.UUID, organisation_id: uuid.UUID
) -> AlertAck | None:
    """An organisation's acknowledgement of an alert (a retry's first result), read afresh."""
    return db.scalar(
        select(AlertAck).where(
            AlertAck.alert_id == alert_id, AlertAck.organisation_id == organisation_id
        )
    )


def alert_raised(db: Session, alert_id: uuid.UUID) -> bool:
    """Whether the cell has raised this alert (its id is derived from its source)."""
    return db.scalar(select(Alert.id).where(Alert.id == alert_id)) is not None


def alerts_raised_since(db: Session, since: datetime) -> Sequence[Alert]:
    """The alerts raised since ``since`` (the cell's carrier asks, as the cell), oldest first."""
    return db.scalars(select(Alert).where(Alert.raised_at >= since).order_by(Alert.log_index)).all()


def party_recipients(db: Session, alert_ids: Sequence[uuid.UUID]) -> list[AlertRecipient]:
    """The parties the given alerts go to (the cell's carrier asks, as the cell)."""
    if not alert_ids:
        return []
    return list(
        db.scalars(
            select(AlertRecipient).where(
                AlertRecipient.alert_id.in_(alert_ids), AlertRecipient.party.is_(True)
            )
        )
    )
