"""What the registry and incidents pages show, read through the track's queries with the
viewer first and labelled in the member's language."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fusioncell.cell.policy import Viewer
from fusioncell.deconfliction import exports
from fusioncell.deconfliction.models.incidents import Alert, Incident
from fusioncell.deconfliction.models.registry import NoStrikeList, PlaceKind, ProtectedPlace
from fusioncell.deconfliction.protection import (
    is_party_officer,
    is_supervisor,
    may_acknowledge_alerts,
    may_report_incidents,
    may_sign_places,
    speaks_for_organisation,
)
from fusioncell.deconfliction.queries import incidents as incident_queries
from fusioncell.deconfliction.queries import notifications as notification_queries
from fusioncell.deconfliction.queries import registry as registry_queries
from fusioncell.deconfliction.view_rows import (
    AFFECTS_LABELS,
    DENIED_LABELS,
    INCIDENT_LABELS,
    PLACE_LABELS,
    TRIGGER_LABELS,
    script_json,
)
from fusioncell.geo.queries import list_sites
from fusioncell.i18n import translate

_FORMAT_NAMES = {"geojson": "GeoJSON", "kml": "KML", "csv": "CSV"}


def _state(data: FormData | None, names: tuple[str, ...]) -> dict[str, str]:
    state = {n: str(data.get(n, "")).strip() if data is not None else "" for n in names}
    given = str(data.get("id", "")) if data is not None else ""
    try:
        state["id"] = str(uuid.UUID(given))
    except ValueError:
        state["id"] = str(uuid.uuid4())
    return state


# -- the registry ----------------------------------------------------------------------------


@dataclass
class PlaceRow:
    place: ProtectedPlace
    kind_label: str
    proposed_by: str
    signed_by: list[str]
    awaiting: list[str]
    agreed: bool
    may_sign: bool


@dataclass
class ListRow:
    sent: NoStrikeList
    party: str
    overdue: bool
    may_ack: bool
    exports: list[tuple[str, str]]


def registry_context(
    db: Session, viewer: Viewer, *, now: datetime, data: FormData | None
) -> dict[str, Any]:
    language = viewer.language
    dir_ = registry_queries.directory(db, viewer)
    places = list(registry_queries.list_places(db, viewer))
    signed = registry_queries.signatures_of(db, viewer, [p.id for p in places])
    needed = dir_.signatories()
    signs = may_sign_places(viewer)
    rows = []
    for place in places:
        have = {s.organisation_id for s in signed.get(place.id, [])}
        rows.append(
            PlaceRow(
                place=place,
                kind_label=translate(language, PLACE_LABELS.get(place.kind, place.kind)),
                proposed_by=dir_.slug(place.organisation_id) or "",
                signed_by=[dir_.slug(s.organisation_id) or "" for s in signed.get(place.id, [])],
                awaiting=sorted(dir_.slug(o) or "" for o in needed - have),
                agreed=place.agreed_log_index is not None,
                may_sign=signs and viewer.organisation_id not in have,
            )
        )
    lists = []
    focal = is_party_officer(viewer)
    for sent in registry_queries.list_no_strike_lists(db, viewer, limit=20):
        base = f"/api/v1/no-strike-lists/{sent.id}/export"
        lists.append(
            ListRow(
                sent=sent,
                party=dir_.slug(sent.party_id) or "",
                overdue=sent.ack_log_index is None and now >= sent.ack_due_at,
                may_ack=focal
                and sent.party_id == viewer.organisation_id
                and sent.ack_log_index is None,
                exports=[(_FORMAT_NAMES[f], f"{base}?format={f}") for f in exports.FORMATS],
            )
        )
    features = [
        {
            "type": "Feature",
            "geometry": p.geometry,
            "properties": {
                "id": str(p.id),
                "role": "place",
                "kind": p.kind,
                "agreed": p.agreed_log_index is not None,
                "title": p.name,
                "detail": translate(language, PLACE_LABELS.get(p.kind, p.kind)),
                "url": f"#place-{p.id}",
            },
        }
        for p in places
    ]
    return {
        "places": rows,
        "lists": lists,
        "may_propose": speaks_for_organisation(viewer),
        "may_send": is_supervisor(viewer),
        "place_kinds": [(k.value, translate(language, PLACE_LABELS[k.value])) for k in PlaceKind],
        "form": _state(data, ("kind", "name", "population", "geometry", "buffer_m", "note")),
        "current_exports": [
            (_FORMAT_NAMES[f], f"/api/v1/no-strike-list?format={f}") for f in exports.FORMATS
        ],
        "map_data": script_json({"type": "FeatureCollection", "features": features}),
        "send_id": str(uuid.uuid4()),
        "now": now,
    }


# -- incidents and alerts ------------------------------------------------------------------------


@dataclass
class IncidentRow:
    incident: Incident
    kind_label: str
    affects_label: str
    reporter: str
    attributed_to: str | None
    denied_label: str | None


@dataclass
class RecipientState:
    organisation: str
    party: bool
    acknowledged_at: datetime | None
    # Where the receipt was given: "alert" (here), "hotline" (the carrying message); or None.
    through: str | None = None


@dataclass
class AlertRow:
    alert: Alert
    trigger_label: str
    community: str
    recipients: list[RecipientState]
    overdue: bool
    may_ack: bool


def _targets(db: Session, viewer: Viewer, now: datetime) -> list[tuple[str, str, str]]:
    """What an incident may be reported against: (affects, id, label)."""
    language = viewer.language
    found = []
    for place in registry_queries.list_places(db, viewer):
        affects = "community" if place.kind == PlaceKind.COMMUNITY else "site"
        kind = translate(language, PLACE_LABELS.get(place.kind, place.kind))
        found.append((affects, str(place.id), f"{place.name} ({kind})"))
    site = translate(language, PLACE_LABELS["protected_site"])
    for feature in list_sites(db, viewer)["features"]:
        name = str(feature["properties"].get("name") or feature["id"])
        found.append(("site", str(feature["id"]), f"{name} ({site})"))
    movement = translate(language, AFFECTS_LABELS["movement"])
    for n in notification_queries.list_notifications(
        db, viewer, kind="movement", ending_after=now - timedelta(days=7), limit=50
    ):
        summary = " ".join(n.description.split())[:60]
        found.append(("movement", str(n.id), f"{summary} ({movement})"))
    return found


def incidents_context(
    db: Session, viewer: Viewer, *, now: datetime, data: FormData | None
) -> dict[str, Any]:
    language = viewer.language
    dir_ = registry_queries.directory(db, viewer)
    rows = [
        IncidentRow(
            incident=i,
            kind_label=translate(language, INCIDENT_LABELS.get(i.kind, i.kind)),
            affects_label=translate(language, AFFECTS_LABELS.get(i.affects, i.affects)),
            reporter=dir_.slug(i.organisation_id) or "",
            attributed_to=dir_.slug(i.attributed_to),
            denied_label=translate(language, DENIED_LABELS[i.denied])
            if i.denied in DENIED_LABELS
            else None,
        )
        for i in incident_queries.list_incidents(db, viewer, limit=100)
    ]
    alerts = list(incident_queries.list_alerts(db, viewer, limit=50))
    ids = [a.id for a in alerts]
    recipients = incident_queries.recipients_of(db, viewer, ids)
    acks = incident_queries.acks_of(db, viewer, ids)
    names = {p.id: p.name for p in registry_queries.list_places(db, viewer, kind="community")}
    acknowledges = may_acknowledge_alerts(viewer)
    alert_rows = []
    for alert in alerts:
        got = acks.get(alert.id, {})
        states = [
            RecipientState(
                organisation=dir_.slug(r.organisation_id) or "",
                party=r.party,
                acknowledged_at=got[r.organisation_id].acked_at
                if r.organisation_id in got
                else None,
                through=got[r.organisation_id].through if r.organisation_id in got else None,
            )
            for r in sorted(
                recipients.get(alert.id, []), key=lambda r: dir_.slug(r.organisation_id) or ""
            )
        ]
        alert_rows.append(
            AlertRow(
                alert=alert,
                trigger_label=translate(language, TRIGGER_LABELS.get(alert.trigger, alert.trigger)),
                community=names.get(alert.community_id, ""),
                recipients=states,
                overdue=any(s.acknowledged_at is None for s in states)
                and now >= alert.ack_deadline,
                may_ack=acknowledges and viewer.organisation_id not in got,
            )
        )
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r.incident.lon, r.incident.lat]},
            "properties": {
                "id": str(r.incident.id),
                "role": "incident",
                "kind": r.incident.kind,
                "title": f"{r.kind_label}: {r.incident.target_name}",
                "detail": r.attributed_to or "",
                "url": f"#incident-{r.incident.id}",
            },
        }
        for r in rows
    ] + [
        {
            "type": "Feature",
            "geometry": p.geometry,
            "properties": {
                "id": str(p.id),
                "role": "place",
                "kind": p.kind,
                "agreed": p.agreed_log_index is not None,
                "title": p.name,
                "detail": translate(language, PLACE_LABELS.get(p.kind, p.kind)),
            },
        }
        for p in registry_queries.list_places(db, viewer, kind="community")
    ]
    return {
        "incidents": rows,
        "alerts": alert_rows,
        "may_report": may_report_incidents(viewer),
        "incident_kinds": [(k, translate(language, v)) for k, v in INCIDENT_LABELS.items()],
        "affects_choices": [(k, translate(language, v)) for k, v in AFFECTS_LABELS.items()],
        "denied_choices": [(k, translate(language, v)) for k, v in DENIED_LABELS.items()],
        "parties": [p.slug for p in dir_.parties()],
        "targets": _targets(db, viewer, now),
        "form": _state(
            data,
            (
                "kind",
                "affects",
                "target",
                "occurred_at",
                "description",
                "location",
                "evidence",
                "attributed_to",
                "denied",
            ),
        ),
        "map_data": script_json({"type": "FeatureCollection", "features": features}),
        "now": now,
    }
