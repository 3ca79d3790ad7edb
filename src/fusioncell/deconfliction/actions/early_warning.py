"""Early warning (issue 12, item 5): an incident, an observation of military holdings or a
notification of military activity within the rules' distance of a protected community (in
force) raises an alert to the supervisor, each humanitarian organisation and the parties
concerned. The alert is the cell's own statement (signed by the log's key); each party hears
it as an IMMEDIATE hotline message on its bilateral channel, which the hotline's deadlines
and escalation then govern; every recipient acknowledges it here (receipt, never approval).

An alert names the community, how far and when: never the holdings or the activity behind
it, so the humanitarian organisation reads no party's military content. Its id is derived
from its source and the community, so looking again (after a restart, or from a second
process) raises nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shapely.geometry import MultiPoint, Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points
from sqlalchemy.orm import Session

from fusioncell.cell.models import Organisation, OrganisationKind, Role
from fusioncell.cell.policy import (
    CONSOLE_ID,
    CONSOLE_USERNAME,
    Permission,
    Viewer,
    author_of,
    can,
)
from fusioncell.db.transaction import atomic
from fusioncell.deconfliction.entries import ProtectionEntry
from fusioncell.deconfliction.events import EventKind
from fusioncell.deconfliction.feed import DeconflictionFeed
from fusioncell.deconfliction.models.incidents import Alert, AlertAck, AlertRecipient, Trigger
from fusioncell.deconfliction.models.notifications import NotificationKind
from fusioncell.deconfliction.protection import (
    may_acknowledge_alerts,
    metric,
    protection_rules,
    require,
)
from fusioncell.deconfliction.protection_events import ProtectionEvent, emit_protection
from fusioncell.deconfliction.queries.incidents import (
    ack_of_organisation,
    alert_raised,
    alerts_raised_since,
    carrying_purpose,
    get_alert,
    party_recipients,
    recipients_of,
)
from fusioncell.deconfliction.queries.notifications import get_notification
from fusioncell.deconfliction.queries.registry import (
    Directory,
    agreed_communities,
    directory,
    get_place,
    supervising_organisation_id,
)
from fusioncell.deescalation.feed import DeescalationFeed
from fusioncell.deescalation.queries import list_observations
from fusioncell.hotline.actions.channels import bilateral_channel_id
from fusioncell.hotline.actions.messages import do_acknowledge_message, do_send_cell_message
from fusioncell.hotline.queries import list_messages
from fusioncell.hotline.rules import HOTLINE_RULES
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.context import ledger_context
from fusioncell.ledger.entries import audience, log_time
from fusioncell.ledger.record import ByLog, record
from fusioncell.live.queries import events_since
from fusioncell.text import N_

_ALERTS = uuid.UUID("5c1e9f52-7b0a-4f8e-a4d6-93e2b7c40d11")
_NOT_RECIPIENT = N_(
    "Only a recipient organisation's liaison or duty officer, supervisor or observer "
    "acknowledges an alert."
)
OBSERVATIONS = "deescalation-observations"
NOTIFICATIONS = EventKind.NOTIFICATION.value


def watch_viewer(db: Session) -> Viewer | None:
    """The cell's own watch, reading as the supervising organisation reads (everything
    released to it: every batch of observations is) to raise what it finds. A loud name: it
    is no member, it holds no key, and it writes only by the log's key. None before the cell
    has a supervisor."""
    organisation_id = supervising_organisation_id(db)
    if organisation_id is None:
        return None
    return Viewer(
        member_id=CONSOLE_ID,
        username=CONSOLE_USERNAME,
        organisation_id=organisation_id,
        organisation_kind=OrganisationKind.SUPERVISOR,
        roles=frozenset({Role.SUPERVISOR}),
        language="en",
    )


@dataclass(frozen=True)
class Source:
    """What may raise an alert: its trigger and id, its geometry (WGS 84), when, and the
    parties it concerns."""

    trigger: Trigger
    id: str
    geometry: BaseGeometry
    occurred_at: datetime
    parties: tuple[Organisation, ...]


def alert_id_of(trigger: str, source_id: str, community_id: str) -> uuid.UUID:
    return uuid.uuid5(_ALERTS, f"{trigger}/{source_id}/{community_id}")


def _recipients(
    dir_: Directory, parties: Iterable[Organisation]
) -> list[tuple[Organisation, bool]]:
    chosen: dict[uuid.UUID, tuple[Organisation, bool]] = {}
    for organisation in dir_.of_kind(OrganisationKind.SUPERVISOR):
        chosen[organisation.id] = (organisation, False)
    for organisation in dir_.of_kind(OrganisationKind.HUMANITARIAN):
        chosen[organisation.id] = (organisation, False)
    for party in parties:
        chosen[party.id] = (party, True)
    return sorted(chosen.values(), key=lambda pair: pair[0].slug)


def raise_alerts(db: Session, viewer: Viewer, source: Source, *, now: datetime) -> list[Alert]:
    """Within the calling action's transaction: an alert for each community in force within
    the rules' distance of the source, unless the cell raised it already."""
    rules = protection_rules(db)
    measure = metric(db)
    dir_ = directory(db, viewer)
    ack_within = ledger_context(db).rules(HOTLINE_RULES).rule(rules.alert_precedence).ack
    raised = []
    for community in agreed_communities(db, viewer):
        distance = measure.distance_m(source.geometry, community.geometry)
        if distance > rules.early_warning_m:
            continue
        alert_id = alert_id_of(source.trigger, source.id, community.id)
        if alert_raised(db, alert_id):
            continue
        near, _ = nearest_points(source.geometry, community.geometry)
        recipients = _recipients(dir_, source.parties)
        # Due the precedence's time after the entry's own log time.
        deadline = log_clock(db, now=now) + ack_within
        body = {
            "alert": str(alert_id),
            "trigger": source.trigger.value,
            "source": source.id,
            "community": community.id,
            "community_name": community.name,
            "distance_m": round(distance),
            "location": {"type": "Point", "coordinates": [near.x, near.y]},
            "occurred_at": log_time(source.occurred_at),
            "precedence": rules.alert_precedence,
            "ack_deadline": log_time(deadline),
            "parties": [p.slug for p in source.parties],
            "released_to": [o.slug for o, _party in recipients],
        }
        appended = record(
            db,
            ByLog(),
            ProtectionEntry.ALERT_RAISED,
            body,
            audience=audience(organisations=[o.id for o, _party in recipients]),
            now=now,
        )
        alert = Alert(
            id=alert_id,
            trigger=source.trigger.value,
            source_id=source.id,
            community_id=uuid.UUID(community.id),
            distance_m=float(round(distance)),
            lon=near.x,
            lat=near.y,
            occurred_at=source.occurred_at,
            precedence=rules.alert_precedence,
            ack_deadline=deadline,
            log_index=appended.index,
            raised_at=appended.logged_at,
        )
        db.add(alert)
        db.flush()
        for organisation, is_party in recipients:
            db.add(
                AlertRecipient(alert_id=alert_id, organisation_id=organisation.id, party=is_party)
            )
        emit_protection(
            db,
            ProtectionEvent.ALERT,
            subject=str(alert_id),
            log_index=appended.index,
            payload={"alert": str(alert_id), "step": "raised", "trigger": source.trigger.value},
            now=now,
        )
        raised.append(alert)
    return raised


def do_acknowledge_alert(
    db: Session, actor: Viewer, *, alert_id: uuid.UUID, now: datetime
) -> AlertAck:
    """A recipient organisation acknowledges receipt of an alert (receipt, never approval);
    its first acknowledgement counts, and a retry or a second member returns it."""
    require(actor, may_acknowledge_alerts(actor), _NOT_RECIPIENT)
    with atomic(db):
        alert = get_alert(db, actor, alert_id)  # 404 unless the actor's organisation got it
        if (earlier := ack_of_organisation(db, alert.id, actor.organisation_id)) is not None:
            return earlier
        log_clock(db, now=now)  # the lock: an acknowledgement made meanwhile is now visible
        if (earlier := ack_of_organisation(db, alert.id, actor.organisation_id)) is not None:
            return earlier
        dir_ = directory(db, actor)
        recipients = recipients_of(db, actor, [alert.id])[alert.id]
        appended = record(
            db,
            author_of(actor),
            ProtectionEntry.ALERT_ACKNOWLEDGED,
            {
                "alert": str(alert.id),
                "alert_index": alert.log_index,
                "organisation": dir_.slug(actor.organisation_id),
                "member": str(actor.member_id),
                "released_to": sorted(str(dir_.slug(r.organisation_id)) for r in recipients),
            },
            audience=audience(organisations=[r.organisation_id for r in recipients]),
            now=now,
        )
        ack = AlertAck(
            alert_id=alert.id,
            organisation_id=actor.organisation_id,
            member_id=actor.member_id,
            log_index=appended.index,
            acked_at=appended.logged_at,
        )
        db.add(ack)
        emit_protection(
            db,
            ProtectionEvent.ALERT,
            subject=str(alert.id),
            log_index=appended.index,
            payload={
                "alert": str(alert.id),
                "step": "acknowledged",
                "by": dir_.slug(actor.organisation_id),
            },
            now=now,
        )
    return ack


def acknowledge_alert_and_its_hotline_message(
    db: Session, actor: Viewer, *, alert_id: uuid.UUID, now: datetime
) -> AlertAck:
    """What the page's and the API's button does: the alert's acknowledgement, then, for a
    party, the hotline message that carried it (the hotline's own action, in its own
    transaction), so that one receipt stops the hotline's escalation too. A message already
    acknowledged by this member, or none carried yet, is left as it is."""
    ack = do_acknowledge_alert(db, actor, alert_id=alert_id, now=now)
    if actor.organisation_kind != OrganisationKind.PARTY or not can(actor, Permission.MESSAGE_ACK):
        return ack
    owed = list_messages(
        db,
        actor,
        channel_id=bilateral_channel_id(actor.organisation_id),
        unacknowledged=True,
        limit=500,
    )
    for message in owed:
        if message.form.startswith("early_warning_") and (message.fields or {}).get("alert") == str(
            alert_id
        ):
            do_acknowledge_message(
                db,
                actor,
                message_id=message.id,
                ack_id=uuid.uuid5(_ALERTS, f"hotline-ack/{message.id}/{actor.member_id}"),
                checkpoint_size=None,
                now=now,
            )
    return ack


# -- the cell's watch -----------------------------------------------------------------------


@dataclass
class Scan:
    """What one look at the de-escalation track's new observations raised, and the event id
    to look after next time."""

    alerts: list[Alert] = field(default_factory=list)
    cursor: int = 0


def _observation_sources(
    db: Session, watch: Viewer, dir_: Directory, batches: set[str]
) -> list[Source]:
    """One source per batch and party observed: the points of that party's holdings."""
    grouped: dict[tuple[str, uuid.UUID], list[tuple[float, float, datetime]]] = {}
    for row in list_observations(db, watch):
        if str(row.batch_id) in batches:
            grouped.setdefault((str(row.batch_id), row.party_id), []).append(
                (row.lon, row.lat, row.observed_at)
            )
    sources = []
    for (batch, party_id), points in sorted(grouped.items(), key=lambda item: str(item[0])):
        party = dir_.by_id.get(party_id)
        if party is None:
            continue
        geometry = Point(points[0][:2]) if len(points) == 1 else MultiPoint([p[:2] for p in points])
        sources.append(
            Source(
                trigger=Trigger.OBSERVATION,
                id=f"{batch}:{party.slug}",
                geometry=geometry,
                occurred_at=max(p[2] for p in points),
                parties=(party,),
            )
        )
    return sources


def _notification_sources(
    db: Session, watch: Viewer, dir_: Directory, notifications: set[str]
) -> list[Source]:
    """One source per notified military activity that stands: its geometry over its window,
    concerning the party that notified it."""
    sources = []
    for notification_id in sorted(notifications):
        found = get_notification(db, watch, uuid.UUID(notification_id))
        if found is None or found.kind != NotificationKind.ACTIVITY or found.closed is not None:
            continue
        sender = dir_.by_id.get(found.organisation_id)
        parties = (sender,) if sender is not None and sender.kind == OrganisationKind.PARTY else ()
        sources.append(
            Source(
                trigger=Trigger.NOTIFICATION,
                id=str(found.id),
                geometry=shape(found.geometry),
                occurred_at=found.starts_at,
                parties=parties,
            )
        )
    return sources


def do_scan_early_warning(db: Session, *, after: int, now: datetime) -> Scan:
    """The cell looks at the observations recorded and the notifications submitted or
    amended since event ``after`` (the de-escalation and deconfliction tracks' live events,
    read as the supervisor reads them) and raises what they call for."""
    watch = watch_viewer(db)
    if watch is None:
        return Scan(cursor=after)
    events = events_since(db, watch, [DeescalationFeed(), DeconflictionFeed()], after, limit=500)
    scan = Scan(cursor=events[-1].id if events else after)
    batches = {str(e.subject) for e in events if e.kind == OBSERVATIONS and e.subject}
    notifications = {str(e.subject) for e in events if e.kind == NOTIFICATIONS and e.subject}
    if not batches and not notifications:
        return scan
    with atomic(db):
        dir_ = directory(db, watch)
        sources = _observation_sources(db, watch, dir_, batches)
        sources += _notification_sources(db, watch, dir_, notifications)
        for source in sources:
            scan.alerts += raise_alerts(db, watch, source, now=now)
    return scan


# -- the hotline carries each alert to the parties --------------------------------------------

CARRY_WITHIN = timedelta(days=1)


def carry_alerts(db: Session, alerts: Sequence[Alert], *, now: datetime) -> int:
    """Send each alert to each party it concerns as an IMMEDIATE hotline message on the
    party's bilateral channel (the hotline's own action, one transaction per message; a
    message already sent is found, not sent again). Returns how many messages stand."""
    watch = watch_viewer(db)
    if watch is None or not alerts:
        return 0
    by_id = {a.id: a for a in alerts}
    carried = 0
    for recipient in party_recipients(db, list(by_id)):
        alert = by_id[recipient.alert_id]
        community = get_place(db, watch, alert.community_id)
        do_send_cell_message(
            db,
            purpose=carrying_purpose(alert.id, recipient.organisation_id),
            channel_id=bilateral_channel_id(recipient.organisation_id),
            precedence=alert.precedence,
            form=f"early_warning_{alert.trigger}",
            fields={
                "alert": str(alert.id),
                "community": community.name,
                "distance_m": round(alert.distance_m),
                "occurred_at": log_time(alert.occurred_at),
                "location": {"type": "Point", "coordinates": [alert.lon, alert.lat]},
            },
            now=now,
        )
        carried += 1
    return carried


def carry_recent_alerts(db: Session, *, now: datetime) -> int:
    """Carry every alert of the last day: what a restart left uncarried goes out now."""
    return carry_alerts(db, alerts_raised_since(db, now - CARRY_WITHIN), now=now)
