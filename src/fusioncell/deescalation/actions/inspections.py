"""Inspections (R7) and access denied (R12).

- A party's liaison officer asks for an inspection of a zone and side, with its reason: one
  signed entry, due within the rules' ``inspection_request_hours`` of its log time.
- The verifier reports an inspection of a zone and side at a time: ``completed``, with the
  holdings it counted recorded as ``inspection`` observations (the observations' entry and
  the cell's statement of the candidates they leave come first, in the same transaction), or
  ``access_denied``, which is also an incident of its own attributed to the party that denied
  access: a second entry, signed by the verifier.

Every entry is released to both parties, the supervisor and the verifier. Client-chosen ids
make retries return the first result; the same id with other content is a conflict.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shapely import Point
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.db.transaction import atomic
from fusioncell.deescalation import inspections
from fusioncell.deescalation.actions.observations import (
    SOURCE_CLASS,
    parse_observations,
    same_as_recorded,
    shared_release,
    write_observations,
)
from fusioncell.deescalation.entries import DeescalationEntry
from fusioncell.deescalation.events import EventKind, emit_deescalation
from fusioncell.deescalation.features import ParsedCollection
from fusioncell.deescalation.models import (
    Incident,
    IncidentKind,
    InspectionOutcome,
    InspectionReport,
    InspectionRequest,
    Source,
)
from fusioncell.deescalation.policy import (
    may_report_inspection,
    may_request_inspection,
    require,
)
from fusioncell.deescalation.queries import (
    Directory,
    compliance,
    directory,
    find_own_inspection_report,
    find_own_inspection_request,
    find_own_observations,
    geometry_in_force,
    get_inspection_request,
    incidents_of_reports,
    inspection_report_id_taken,
    inspection_request_id_taken,
    observations_of_batch,
    report_carrying_out,
    rules_in_force,
)
from fusioncell.errors import Conflict, IdempotencyConflict, InvalidInput
from fusioncell.ledger.entries import audience, log_time
from fusioncell.ledger.record import record
from fusioncell.text import N_

MAX_TEXT_CHARS = 500
OUTCOMES = tuple(o.value for o in InspectionOutcome)

_NOT_PARTY = N_("An inspection is requested by a party's liaison officer.")
_NOT_VERIFIER = N_("Only the verifier reports an inspection.")
_BAD_ZONE = N_("Name a zone in force and its side: the area of separation needs a side.")
_NO_REASON = N_("Give the reason for the request.")
_TOO_LONG = N_("The text may be at most 500 characters.")
_BAD_TIME = N_("Give the inspection's time with its time zone.")
_IN_FUTURE = N_("An inspection cannot be dated in the future.")
_BEFORE_FREEZE = N_("An inspection cannot be dated before the freeze (T0).")
_BAD_OUTCOME = N_("The outcome is completed or access_denied.")
_DENIED_BY = N_("Access denied names the party that denied it.")
_NOT_DENIED = N_("Only access denied names a party that denied it.")
_NO_HOLDINGS = N_("An inspection to which access was denied counted no holdings.")
_ONLY_INSPECTION = N_("The counted holdings are inspection observations.")
_OUTSIDE_ZONE = N_("A counted holding lies outside the inspected zone.")
_HOLDING_RECORDED = N_("A counted holding with this id was recorded before.")
_NO_REQUEST = N_("The request named is not one of the cell's.")
_OTHER_ZONE = N_("The request is for another zone or side.")
_BEFORE_REQUEST = N_("An inspection before the request does not carry it out.")
_CARRIED_OUT = N_("This request has been carried out already.")


@dataclass(frozen=True)
class Reported:
    report: InspectionReport
    incident: Incident | None
    # The counted holdings' batch as the observations action answers it (None without any).
    stored: int
    candidates: list[dict[str, Any]]


def _ms(moment: datetime) -> datetime:
    """To the millisecond, as the log spells times, so a row reads back what its entry says."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _item(db: Session, actor: Viewer, zone: str, side: str | None) -> inspections.Item:
    item = inspections.find_item(geometry_in_force(db, actor), zone, side or None)
    if item is None:
        raise InvalidInput(_BAD_ZONE, field="zone" if side is None else "side")
    return item


def _text(value: str, *, field: str, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise InvalidInput(_NO_REASON, field=field)
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(_TOO_LONG, field=field, limit=MAX_TEXT_CHARS)
    return text


def do_request_inspection(
    db: Session,
    actor: Viewer,
    *,
    request_id: uuid.UUID,
    zone: str,
    side: str | None,
    reason: str,
    now: datetime,
) -> InspectionRequest:
    require(actor, may_request_inspection(actor), _NOT_PARTY)
    dir_ = directory(db, actor)
    item = _item(db, actor, zone, side)
    text = _text(reason, field="reason", required=True)
    rules = rules_in_force(db)
    shared = shared_release(dir_)
    own = dir_.by_id[actor.organisation_id]
    with atomic(db):
        earlier = find_own_inspection_request(db, actor.member_id, request_id)
        if earlier is not None:
            if (earlier.zone, earlier.side, earlier.reason) != (item.zone, item.side, text):
                raise IdempotencyConflict(request_id=str(request_id))
            return earlier
        object_id = request_id if not inspection_request_id_taken(db, request_id) else uuid.uuid4()
        due_at = _ms(now.astimezone(UTC)) + rules.request_deadline
        appended = record(
            db,
            author_of(actor),
            DeescalationEntry.INSPECTION_REQUESTED,
            {
                "request": str(object_id),
                "party": own.slug,
                "zone": item.zone,
                "side": item.side,
                "reason": text,
                "due_at": log_time(due_at),
                "member": str(actor.member_id),
                "released_to": shared,
            },
            audience=audience(organisations=[dir_.by_slug[s].id for s in shared]),
            now=now,
        )
        row = InspectionRequest(
            id=object_id,
            client_id=request_id,
            party_id=own.id,
            zone=item.zone,
            side=item.side,
            reason=text,
            requested_by=actor.member_id,
            log_index=appended.index,
            requested_at=appended.logged_at,
            due_at=due_at,
        )
        db.add(row)
        emit_deescalation(
            db,
            EventKind.INSPECTION,
            subject=str(object_id),
            log_index=appended.index,
            payload={"request": str(object_id), "step": "requested", "by": own.slug},
            now=now,
        )
    return row


def _inspected_at(moment: datetime, *, now: datetime, freeze_at: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(_BAD_TIME, field="inspected_at")
    try:
        utc = _ms(moment.astimezone(UTC))
    except OverflowError:
        raise InvalidInput(_BAD_TIME, field="inspected_at") from None
    if utc > now:
        raise InvalidInput(_IN_FUTURE, field="inspected_at")
    if utc < freeze_at:
        raise InvalidInput(_BEFORE_FREEZE, field="inspected_at", freeze_at=log_time(freeze_at))
    return utc


def _with_defaults(document: Any, inspected_at: datetime) -> Any:
    """The counted holdings' features, each ``inspection`` at the inspection's time unless it
    says otherwise (what it says is checked as any observation is)."""
    if not isinstance(document, Mapping) or not isinstance(document.get("features"), list):
        return document
    features = []
    for feature in document["features"]:
        if isinstance(feature, Mapping) and isinstance(feature.get("properties"), Mapping):
            properties = {
                "source": Source.INSPECTION.value,
                "observed_at": log_time(inspected_at),
                **feature["properties"],
            }
            feature = {**feature, "properties": properties}
        features.append(feature)
    return {**document, "features": features}


def _counted(
    db: Session,
    actor: Viewer,
    dir_: Directory,
    item: inspections.Item,
    holdings: Any,
    *,
    inspected_at: datetime,
    now: datetime,
) -> ParsedCollection:
    parsed = parse_observations(db, actor, dir_, _with_defaults(holdings, inspected_at), now=now)
    if parsed.source != Source.INSPECTION:
        raise InvalidInput(_ONLY_INSPECTION, field="source")
    zone = next(z for z in geometry_in_force(db, actor).zones if z.id == item.zone)
    for index, feature in enumerate(parsed.features):
        if not zone.geometry.intersects(Point(feature.lon, feature.lat)):
            raise InvalidInput(_OUTSIDE_ZONE, field="geometry", feature=index, zone=item.zone)
    return parsed


def _same_report(
    db: Session,
    earlier: InspectionReport,
    dir_: Directory,
    fields: tuple[object, ...],
    parsed: ParsedCollection | None,
    denied_by: str | None,
) -> bool:
    recorded = (
        earlier.zone,
        earlier.side,
        earlier.inspected_at,
        earlier.outcome,
        earlier.request_id,
        earlier.note,
    )
    if recorded != fields:
        return False
    incident = incidents_of_reports(db, [earlier.id]).get(earlier.id)
    if (dir_.by_id[incident.party_id].slug if incident else None) != denied_by:
        return False
    rows = (
        {r.feature_id: r for r in observations_of_batch(db, earlier.batch_id)}
        if earlier.batch_id is not None
        else {}
    )
    features = parsed.features if parsed is not None else ()
    if set(rows) != {f.id for f in features}:
        return False
    return all(
        same_as_recorded(rows[f.id], f, dir_.by_slug[f.party].id, Source.INSPECTION)
        for f in features
    )


def do_report_inspection(
    db: Session,
    actor: Viewer,
    *,
    report_id: uuid.UUID,
    zone: str,
    side: str | None,
    inspected_at: datetime,
    outcome: str,
    request_id: uuid.UUID | None = None,
    denied_by: str | None = None,
    note: str = "",
    holdings: Any = None,
    now: datetime,
) -> Reported:
    require(actor, may_report_inspection(actor), _NOT_VERIFIER)
    dir_ = directory(db, actor)
    rules = rules_in_force(db)
    item = _item(db, actor, zone, side)
    when = _inspected_at(inspected_at, now=now, freeze_at=rules.freeze_at)
    if outcome not in OUTCOMES:
        raise InvalidInput(_BAD_OUTCOME, field="outcome", outcomes=list(OUTCOMES))
    denied = outcome == InspectionOutcome.ACCESS_DENIED
    if denied and denied_by not in dir_.parties():
        raise InvalidInput(_DENIED_BY, field="denied_by", parties=dir_.parties())
    if not denied and denied_by is not None:
        raise InvalidInput(_NOT_DENIED, field="denied_by")
    if denied and holdings is not None:
        raise InvalidInput(_NO_HOLDINGS, field="holdings")
    text = _text(note, field="note", required=False)
    parsed = None
    if holdings is not None:
        parsed = _counted(db, actor, dir_, item, holdings, inspected_at=when, now=now)
    request = None
    if request_id is not None:
        request = get_inspection_request(db, actor, request_id)
        if request is None:
            raise InvalidInput(_NO_REQUEST, field="request")
        if (request.zone, request.side) != (item.zone, item.side):
            raise InvalidInput(_OTHER_ZONE, field="request")
        if when < request.requested_at:
            raise InvalidInput(_BEFORE_REQUEST, field="inspected_at")
    fields = (item.zone, item.side, when, outcome, request.id if request else None, text)
    shared = shared_release(dir_)
    before = (
        compliance(db, actor, at=now, source=SOURCE_CLASS[Source.INSPECTION])
        if parsed is not None
        else None
    )
    with atomic(db):
        earlier = find_own_inspection_report(db, actor.member_id, report_id)
        if earlier is not None:
            if not _same_report(db, earlier, dir_, fields, parsed, denied_by):
                raise IdempotencyConflict(report_id=str(report_id))
            incident = incidents_of_reports(db, [earlier.id]).get(earlier.id)
            stored = len(parsed.features) if parsed is not None else 0
            return Reported(earlier, incident, stored, [])
        if request is not None and report_carrying_out(db, request.id) is not None:
            raise Conflict(_CARRIED_OUT, field="request")
        batch_id = None
        batch_index = None
        candidates: list[dict[str, Any]] = []
        if parsed is not None and before is not None:
            ids = [f.id for f in parsed.features]
            recorded = find_own_observations(db, actor.member_id, ids)
            for index, feature_id in enumerate(ids):
                if feature_id in recorded:
                    raise IdempotencyConflict(
                        _HOLDING_RECORDED, field="holdings", feature=index, feature_id=feature_id
                    )
            written = write_observations(
                db, actor, dir_, parsed, released_to=shared, before=before, now=now
            )
            batch_id, batch_index = written.batch_id, written.log_index
            candidates = written.candidates
        object_id = report_id if not inspection_report_id_taken(db, report_id) else uuid.uuid4()
        own = dir_.by_id[actor.organisation_id].slug
        appended = record(
            db,
            author_of(actor),
            DeescalationEntry.INSPECTION_REPORTED,
            {
                "report": str(object_id),
                "organisation": own,
                "zone": item.zone,
                "side": item.side,
                "inspected_at": log_time(when),
                "outcome": outcome,
                "request": str(request.id) if request else None,
                "request_index": request.log_index if request else None,
                "denied_by": denied_by if denied else None,
                "note": text,
                "batch": str(batch_id) if batch_id else None,
                "batch_index": batch_index,
                "member": str(actor.member_id),
                "released_to": shared,
            },
            audience=audience(organisations=[dir_.by_slug[s].id for s in shared]),
            now=now,
        )
        report = InspectionReport(
            id=object_id,
            client_id=report_id,
            zone=item.zone,
            side=item.side,
            inspected_at=when,
            outcome=outcome,
            request_id=request.id if request else None,
            batch_id=batch_id,
            note=text,
            reported_by=actor.member_id,
            log_index=appended.index,
            reported_at=appended.logged_at,
        )
        db.add(report)
        db.flush()
        emit_deescalation(
            db,
            EventKind.INSPECTION,
            subject=str(object_id),
            log_index=appended.index,
            payload={"report": str(object_id), "step": "reported", "outcome": outcome},
            now=now,
        )
        incident = None
        if denied and denied_by is not None:
            incident = _record_denial(
                db, actor, dir_, report, denied_by=denied_by, shared=shared, now=now
            )
    return Reported(report, incident, len(parsed.features) if parsed else 0, candidates)


def _record_denial(
    db: Session,
    actor: Viewer,
    dir_: Directory,
    report: InspectionReport,
    *,
    denied_by: str,
    shared: Sequence[str],
    now: datetime,
) -> Incident:
    """R12: the denial as an incident of its own, attributed to the party that denied access,
    in the report's transaction."""
    incident_id = uuid.uuid4()
    appended = record(
        db,
        author_of(actor),
        DeescalationEntry.INCIDENT_RECORDED,
        {
            "incident": str(incident_id),
            "kind": IncidentKind.ACCESS_DENIED.value,
            "party": denied_by,
            "report": str(report.id),
            "report_index": report.log_index,
            "zone": report.zone,
            "side": report.side,
            "occurred_at": log_time(report.inspected_at),
            "request": str(report.request_id) if report.request_id else None,
            "member": str(actor.member_id),
            "released_to": list(shared),
        },
        audience=audience(organisations=[dir_.by_slug[s].id for s in shared]),
        now=now,
    )
    incident = Incident(
        id=incident_id,
        kind=IncidentKind.ACCESS_DENIED.value,
        party_id=dir_.by_slug[denied_by].id,
        report_id=report.id,
        zone=report.zone,
        side=report.side,
        occurred_at=report.inspected_at,
        recorded_by=actor.member_id,
        log_index=appended.index,
        recorded_at=appended.logged_at,
    )
    db.add(incident)
    emit_deescalation(
        db,
        EventKind.INCIDENT,
        subject=str(incident_id),
        log_index=appended.index,
        payload={"incident": str(incident_id), "kind": incident.kind, "party": denied_by},
        now=now,
    )
    return incident
