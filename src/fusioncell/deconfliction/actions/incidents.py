"""Incidents (issue 12, item 5): the humanitarian organisation, the verifier or a party's
liaison officer reports an incident affecting a protected site, a protected community or a
notified movement (access denied, attack, threat, damage) with its place, its time and its
evidence by SHA-256 hash. A denial of access to a convoy or to the verifier (R12) is always
an incident, attributed to the party that denied it. Shared with every organisation of the
cell; near a protected community it raises an early warning in the same transaction."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.db.transaction import atomic
from fusioncell.deconfliction.actions.early_warning import Source, raise_alerts
from fusioncell.deconfliction.entries import ProtectionEntry
from fusioncell.deconfliction.models.incidents import (
    Affected,
    Alert,
    Denied,
    Incident,
    IncidentKind,
    Trigger,
)
from fusioncell.deconfliction.models.notifications import NotificationKind
from fusioncell.deconfliction.models.registry import PlaceKind
from fusioncell.deconfliction.protection import (
    ProtectionRules,
    checked_geometry,
    may_report_incidents,
    protection_rules,
    require,
)
from fusioncell.deconfliction.protection_events import ProtectionEvent, emit_protection
from fusioncell.deconfliction.queries.incidents import find_own_incident, incident_id_taken
from fusioncell.deconfliction.queries.notifications import get_notification
from fusioncell.deconfliction.queries.registry import Directory, directory, get_place
from fusioncell.errors import IdempotencyConflict, InvalidInput, NotFound
from fusioncell.geo.queries import list_sites
from fusioncell.ledger.entries import audience, log_time
from fusioncell.ledger.record import record
from fusioncell.text import N_

_SHA256 = re.compile(r"[0-9a-f]{64}")
# How far ahead of the cell's clock a reporter's clock may run.
_SKEW = timedelta(minutes=5)

_NOT_REPORTER = N_(
    "Only a humanitarian organisation, the verifier or a party's liaison officer reports an "
    "incident."
)
_BAD_KIND = N_("The kind is one of %(kinds)s.")
_BAD_AFFECTS = N_("What it affects is one of %(affects)s.")
_NO_TARGET = N_("No protected %(affects)s %(target)s is known to the cell.")
_ATTRIBUTE_DENIAL = N_(
    "A denial of access is attributed to the party that denied it, and names whose access it "
    "denied: a convoy or the verifier."
)
_CONVOY_IS_MOVEMENT = N_("A convoy denied access is a notified movement: report it against it.")
_DENIED_ONLY = N_("Only a denial of access names whose access was denied.")
_BAD_PARTY = N_("An incident is attributed to a party of the cell.")
_BAD_TIME = N_("The time has its time zone, is not in the future and is at most %(days)s days old.")
_BAD_DESCRIPTION = N_("A description of at most %(limit)s characters is needed.")
_TOO_MUCH_EVIDENCE = N_("At most %(limit)s pieces of evidence.")
_BAD_EVIDENCE = N_(
    "Evidence is given by its SHA-256 (64 lower-case hex digits), with a name of at most 200 "
    "characters and its size in bytes."
)


@dataclass
class Reported:
    incident: Incident
    # The early warnings it raised (none on a retry): the caller has the hotline carry them.
    alerts: list[Alert] = field(default_factory=list)


@dataclass(frozen=True)
class _Target:
    id: str
    name: str
    geometry: BaseGeometry


def _target(db: Session, actor: Viewer, affects: str, target_id: str) -> _Target:
    missing = InvalidInput(N_(_NO_TARGET, affects=affects, target=target_id[:100]), field="target")
    if affects == Affected.MOVEMENT:
        try:
            movement = get_notification(db, actor, uuid.UUID(target_id))
        except ValueError:
            movement = None
        if movement is None or movement.kind != NotificationKind.MOVEMENT:
            raise missing
        name = movement.description.strip().splitlines()[0][:200] if movement.description else ""
        return _Target(str(movement.id), name or str(movement.id), shape(movement.geometry))
    try:
        place = get_place(db, actor, uuid.UUID(target_id))
    except (ValueError, NotFound):
        place = None
    if place is not None:
        is_community = place.kind == PlaceKind.COMMUNITY
        if is_community != (affects == Affected.COMMUNITY):
            raise missing
        return _Target(str(place.id), place.name, shape(place.geometry))
    if affects == Affected.SITE:
        for site in list_sites(db, actor)["features"]:
            if str(site["id"]) == target_id:
                name = str(site["properties"].get("name", target_id))
                return _Target(target_id, name, shape(site["geometry"]))
    raise missing


def _moment(value: datetime, now: datetime, rules: ProtectionRules) -> datetime:
    days = rules.max_incident_age.days
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(N_(_BAD_TIME, days=days), field="occurred_at")
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(N_(_BAD_TIME, days=days), field="occurred_at") from None
    if moment > now + _SKEW or moment < now - rules.max_incident_age:
        raise InvalidInput(N_(_BAD_TIME, days=days), field="occurred_at")
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _evidence(items: Any, rules: ProtectionRules) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise InvalidInput(_BAD_EVIDENCE, field="evidence")
    if len(items) > rules.max_evidence:
        raise InvalidInput(
            N_(_TOO_MUCH_EVIDENCE, limit=rules.max_evidence),
            field="evidence",
            limit=rules.max_evidence,
        )
    checked = []
    for item in items:
        if not isinstance(item, dict) or set(item) - {"sha256", "name", "size"}:
            raise InvalidInput(_BAD_EVIDENCE, field="evidence")
        digest, name, size = item.get("sha256"), item.get("name", ""), item.get("size")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise InvalidInput(_BAD_EVIDENCE, field="evidence")
        if not isinstance(name, str) or len(name) > 200:
            raise InvalidInput(_BAD_EVIDENCE, field="evidence")
        if size is not None and (
            not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= 2**53
        ):
            raise InvalidInput(_BAD_EVIDENCE, field="evidence")
        checked.append({"sha256": digest, "name": name, "size": size})
    return checked


def _attribution(
    dir_: Directory, kind: str, affects: str, attributed_to: str | None, denied: str | None
) -> uuid.UUID | None:
    if kind == IncidentKind.ACCESS_DENIED:
        if not attributed_to or denied not in {d.value for d in Denied}:
            raise InvalidInput(_ATTRIBUTE_DENIAL, field="attributed_to")
        if denied == Denied.CONVOY and affects != Affected.MOVEMENT:
            raise InvalidInput(_CONVOY_IS_MOVEMENT, field="affects")
    elif denied is not None:
        raise InvalidInput(_DENIED_ONLY, field="denied")
    if not attributed_to:
        return None
    party = next((p for p in dir_.parties() if p.slug == attributed_to), None)
    if party is None:
        raise InvalidInput(
            _BAD_PARTY, field="attributed_to", parties=[p.slug for p in dir_.parties()]
        )
    return party.id


def do_report_incident(
    db: Session,
    actor: Viewer,
    *,
    incident_id: uuid.UUID,
    kind: str,
    affects: str,
    target: str,
    occurred_at: datetime,
    description: str,
    location: Any = None,
    evidence: Any = (),
    attributed_to: str | None = None,
    denied: str | None = None,
    now: datetime,
) -> Reported:
    """Report an incident; a retry with the same id returns the first report."""
    require(actor, may_report_incidents(actor), _NOT_REPORTER)
    rules = protection_rules(db)
    if kind not in {k.value for k in IncidentKind}:
        raise InvalidInput(N_(_BAD_KIND, kinds=", ".join(IncidentKind)), field="kind")
    if affects not in {a.value for a in Affected}:
        raise InvalidInput(N_(_BAD_AFFECTS, affects=", ".join(Affected)), field="affects")
    description = description.strip()
    if not 0 < len(description) <= rules.max_description_chars:
        raise InvalidInput(
            N_(_BAD_DESCRIPTION, limit=rules.max_description_chars),
            field="description",
            limit=rules.max_description_chars,
        )
    moment = _moment(occurred_at, now, rules)
    checked_evidence = _evidence(list(evidence) if isinstance(evidence, tuple) else evidence, rules)
    dir_ = directory(db, actor)
    party_id = _attribution(dir_, kind, affects, attributed_to, denied)
    found = _target(db, actor, affects, target)
    if location is None:
        point = found.geometry.representative_point()
    else:
        point = checked_geometry(location, ("Point",), field="location", max_vertices=1)
    assert isinstance(point, Point)
    everyone = dir_.everyone()
    with atomic(db):
        earlier = find_own_incident(db, actor.member_id, incident_id)
        if earlier is not None:
            same = (
                earlier.kind,
                earlier.affects,
                earlier.target_id,
                earlier.occurred_at,
                earlier.description,
                earlier.evidence,
                earlier.attributed_to,
                earlier.denied,
                (earlier.lon, earlier.lat),
            ) == (
                kind,
                affects,
                found.id,
                moment,
                description,
                checked_evidence,
                party_id,
                denied,
                (point.x, point.y),
            )
            if not same:
                raise IdempotencyConflict(incident_id=str(incident_id))
            return Reported(earlier)
        object_id = incident_id if not incident_id_taken(db, incident_id) else uuid.uuid4()
        appended = record(
            db,
            author_of(actor),
            ProtectionEntry.INCIDENT_REPORTED,
            {
                "incident": str(object_id),
                "kind": kind,
                "affects": affects,
                "target": found.id,
                "target_name": found.name,
                "denied": denied,
                "attributed_to": dir_.slug(party_id),
                "location": {"type": "Point", "coordinates": [point.x, point.y]},
                "occurred_at": log_time(moment),
                "description": description,
                "evidence": checked_evidence,
                "organisation": dir_.slug(actor.organisation_id),
                "member": str(actor.member_id),
                "released_to": [o.slug for o in everyone],
            },
            audience=audience(organisations=[o.id for o in everyone]),
            now=now,
        )
        incident = Incident(
            id=object_id,
            client_id=incident_id,
            reported_by=actor.member_id,
            organisation_id=actor.organisation_id,
            kind=kind,
            affects=affects,
            target_id=found.id,
            target_name=found.name,
            denied=denied,
            attributed_to=party_id,
            lon=point.x,
            lat=point.y,
            occurred_at=moment,
            description=description,
            evidence=checked_evidence,
            log_index=appended.index,
            reported_at=appended.logged_at,
        )
        db.add(incident)
        emit_protection(
            db,
            ProtectionEvent.INCIDENT,
            subject=str(object_id),
            log_index=appended.index,
            payload={"incident": str(object_id), "kind": kind, "step": "reported"},
            now=now,
        )
        concerned = (
            tuple(p for p in dir_.parties() if p.id == party_id)
            if party_id is not None
            else tuple(dir_.parties())
        )
        alerts = raise_alerts(
            db,
            actor,
            Source(Trigger.INCIDENT, str(object_id), point, moment, concerned),
            now=now,
        )
    return Reported(incident, alerts)
