"""Reads of incidents and early-warning alerts, viewer first.

Incidents are shared with every organisation of the cell: a denial of access or an attack on
a protected place concerns the parties, the supervisor, the verifier and the humanitarian
organisations alike. An alert reaches only its recipients (the supervisor, each humanitarian
organisation and the parties concerned); the filter is in the SQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deconfliction.models.incidents import Alert, AlertAck, AlertRecipient, Incident
from fusioncell.deconfliction.protection import may_read
from fusioncell.errors import NotFound
from fusioncell.hotline.queries import counting_acks_of_cell_messages


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


@dataclass(frozen=True)
class Receipt:
    """A recipient organisation's receipt of an alert: its acknowledgement of the alert here,
    or (a party) of the hotline message that carried the alert, whichever the log holds first."""

    organisation_id: uuid.UUID
    member_id: uuid.UUID
    acked_at: datetime
    log_index: int
    # "alert": acknowledged here; "hotline": the carrying message, in the hotline inbox.
    through: Literal["alert", "hotline"]


def carrying_purpose(alert_id: uuid.UUID, organisation_id: uuid.UUID) -> str:
    """What the hotline message carrying an alert to a party is sent for (its id derives from
    it): ``carry_alerts`` sends it, ``acks_of`` reads its acknowledgement."""
    return f"deconfliction-alert/{alert_id}/{organisation_id}"


def acks_of(
    db: Session, viewer: Viewer, alert_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[uuid.UUID, Receipt]]:
    """Each alert's receipts, by organisation: a party that acknowledged the carrying hotline
    message in its inbox has received the alert as surely as one that acknowledged it here."""
    found: dict[uuid.UUID, dict[uuid.UUID, Receipt]] = {a: {} for a in alert_ids}
    if not alert_ids or not may_read(viewer):
        return found
    for row in db.scalars(select(AlertAck).where(AlertAck.alert_id.in_(alert_ids))):
        found[row.alert_id][row.organisation_id] = Receipt(
            row.organisation_id, row.member_id, row.acked_at, row.log_index, "alert"
        )
    parties = db.execute(
        select(AlertRecipient.alert_id, AlertRecipient.organisation_id).where(
            AlertRecipient.alert_id.in_(alert_ids), AlertRecipient.party.is_(True)
        )
    ).all()
    purposes = {carrying_purpose(a, o): (a, o) for a, o in parties}
    for purpose, acks in counting_acks_of_cell_messages(db, purposes).items():
        alert_id, party = purposes[purpose]
        for ack in acks:
            earlier = found[alert_id].get(party)
            if ack.organisation_id == party and (
                earlier is None or ack.log_index < earlier.log_index
            ):
                found[alert_id][party] = Receipt(
                    party, ack.member_id, ack.acked_at, ack.log_index, "hotline"
                )
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
