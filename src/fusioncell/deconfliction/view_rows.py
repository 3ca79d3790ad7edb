"""What the deconfliction pages show, built from the reads (``queries``) and the API's own
serialisation of notifications (``api.notifications.notifications_out``), so a page and the
API never disagree: labels in the member's language, each notification's buffer drawn as an
area, the timeline's bars, and the map's features.

Nothing here reads a table: every row comes through a query with the viewer first.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import shapely
from pyproj import CRS, Transformer
from shapely.geometry import mapping, shape
from sqlalchemy.orm import Session

from fusioncell.cell.models import OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.deconfliction.api.notification_schemas import NotificationOut
from fusioncell.deconfliction.api.notifications import notifications_out
from fusioncell.deconfliction.conflicts import Frame
from fusioncell.deconfliction.policy import may_acknowledge
from fusioncell.deconfliction.queries import notifications as notification_queries
from fusioncell.deconfliction.queries.registry import directory, list_places
from fusioncell.i18n import translate
from fusioncell.ledger.entries import log_time
from fusioncell.text import N_

RECEIPT = N_("An acknowledgement is receipt, never approval.")

KIND_LABELS = {
    "activity": N_("Planned military activity"),
    "movement": N_("Humanitarian movement"),
    "site": N_("Humanitarian static site"),
    "emergency": N_("Emergency"),
}
CATEGORY_LABELS = {
    "training": N_("Training"),
    "live_fire": N_("Live-fire training"),
    "engineering": N_("Engineering works"),
    "movement": N_("Troop movement"),
    "convoy": N_("Convoy"),
    "team": N_("Team"),
    "evacuation": N_("Evacuation"),
    "warehouse": N_("Warehouse"),
    "clinic": N_("Clinic"),
    "shelter": N_("Shelter"),
    "distribution": N_("Distribution point"),
    "office": N_("Office"),
    "medevac": N_("Medical evacuation"),
    "search_and_rescue": N_("Search and rescue"),
    "other": N_("Other"),
}
STATE_LABELS = {
    "distributed": N_("Distributed"),
    "ack_overdue": N_("Acknowledgement overdue"),
    "clear": N_("No conflict"),
    "conflict_flagged": N_("Conflict flagged"),
    "noted": N_("Conflicts noted"),
    "amended": N_("Amended"),
    "active": N_("Active"),
    "completed": N_("Completed"),
    "expired": N_("Expired"),
    "withdrawn": N_("Withdrawn"),
    "cancelled": N_("Cancelled"),
}
LEAD_LABELS = {"on_time": N_("On time"), "late": N_("Late")}
CONFLICT_LABELS = {
    "site": N_("Protected place"),
    "notification": N_("Notification"),
    "zone": N_("Forbidden zone"),
}
PLACE_LABELS = {
    "hospital": N_("Hospital"),
    "school": N_("School"),
    "place_of_worship": N_("Place of worship"),
    "crossing": N_("Crossing"),
    "un_post": N_("UN post"),
    "warehouse": N_("Warehouse"),
    "community": N_("Community"),
    "protected_site": N_("Protected site"),
}
INCIDENT_LABELS = {
    "access_denied": N_("Access denied"),
    "attack": N_("Attack"),
    "threat": N_("Threat"),
    "damage": N_("Damage"),
}
AFFECTS_LABELS = {
    "site": N_("Protected site"),
    "community": N_("Protected community"),
    "movement": N_("Movement"),
}
DENIED_LABELS = {"convoy": N_("a convoy"), "verifier": N_("the verifier")}
TRIGGER_LABELS = {
    "incident": N_("Incident"),
    "observation": N_("Military holdings observed"),
    "notification": N_("Notified military activity"),
}
DETAIL_LABELS = {
    "vehicles": N_("Vehicles"),
    "markings": N_("Markings"),
    "contact": N_("Contact"),
    "cargo": N_("Cargo"),
    "units": N_("Units"),
    "patients": N_("Patients"),
    "staff": N_("Staff"),
}
# What the page's script says in the member's language.
SCRIPT_LABELS = (
    N_("Updated."),
    N_("due in %(time)s"),
    N_("overdue by %(time)s"),
    RECEIPT,
)


def script_json(value: Any) -> str:
    """JSON to place inside a page's <script type="application/json">: no "<" can close it."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def labels_json(language: str, *texts: str) -> str:
    return json.dumps({t: translate(language, t) for t in texts}, ensure_ascii=False)


# -- buffers -------------------------------------------------------------------------------


@cache
def _inverse(lat_0: float, lon_0: float) -> Transformer:
    crs = CRS.from_proj4(
        f"+proj=tmerc +lat_0={lat_0} +lon_0={lon_0} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 "
        "+units=m +no_defs"
    )
    return Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)


def buffered(geometry: dict[str, Any], buffer_m: float, frame: Frame) -> dict[str, Any]:
    """The area a notification keeps clear: its geometry grown by its buffer, measured in the
    rules' frame and drawn back in longitude and latitude."""
    metric = frame.to_metric([shape(geometry)])[0].buffer(max(buffer_m, 1.0), quad_segs=8)
    back = shapely.transform(
        metric, _inverse(frame.lat_0, frame.lon_0).transform, interleaved=False
    )
    return dict(mapping(shapely.set_precision(back, 1e-6)))


# -- notifications -----------------------------------------------------------------------------


@dataclass
class RecipientRow:
    party: str
    acknowledged: bool
    acknowledged_at: datetime | None
    overdue: bool


@dataclass
class NotificationRow:
    out: NotificationOut
    kind_label: str
    category_label: str
    state_label: str
    lead_label: str
    recipients: list[RecipientRow]
    deadline: datetime
    conflicts: list[tuple[str, str, Any]]  # (label, name, ConflictOut)
    # What the viewer may do with it.
    may_ack: bool
    mine: bool
    open: bool
    # Its bar on the timeline (per cent of the timeline's width).
    left: float = 0.0
    width: float = 0.0

    @property
    def id(self) -> uuid.UUID:
        return self.out.id


@dataclass
class Timeline:
    start: datetime
    end: datetime
    now_at: float
    ticks: list[tuple[float, datetime]] = field(default_factory=list)


def notification_rows(
    db: Session, viewer: Viewer, *, now: datetime, limit: int = 100
) -> tuple[list[NotificationRow], Timeline]:
    """The notifications the viewer reads whose window has not long ended, the soonest
    first, and the timeline they are drawn on."""
    language = viewer.language
    found = list(
        notification_queries.list_notifications(
            db, viewer, ending_after=now - timedelta(days=2), limit=limit
        )
    )
    outs = notifications_out(db, viewer, found, now=now)
    outs.sort(key=lambda n: (n.starts_at, n.log_index))
    acknowledges = may_acknowledge(viewer)
    own = directory(db, viewer).slug(viewer.organisation_id)
    rows = []
    for out in outs:
        recipients = [
            RecipientRow(r.party, r.acknowledged, r.acknowledged_at, r.overdue)
            for r in out.acknowledgements.recipients
        ]
        owes = any(r.party == own and not r.acknowledged for r in recipients)
        is_open = out.closed is None and out.ends_at > now
        rows.append(
            NotificationRow(
                out=out,
                kind_label=translate(language, KIND_LABELS.get(out.kind, out.kind)),
                category_label=translate(language, CATEGORY_LABELS[out.category])
                if out.category in CATEGORY_LABELS
                else "",
                state_label=translate(language, STATE_LABELS.get(out.state, out.state)),
                lead_label=translate(language, LEAD_LABELS.get(out.lead_time, out.lead_time)),
                recipients=recipients,
                deadline=out.acknowledgements.deadline,
                conflicts=[
                    (translate(language, CONFLICT_LABELS.get(c.with_, c.with_)), c.name or "", c)
                    for c in out.conflicts
                ],
                may_ack=acknowledges and owes and is_open,
                mine=out.sender == own,
                open=is_open,
            )
        )
    return rows, _timeline(rows, now)


def _timeline(rows: list[NotificationRow], now: datetime) -> Timeline:
    start = min([now - timedelta(hours=12), *(r.out.starts_at for r in rows)])
    end = max([now + timedelta(days=3), *(r.out.ends_at for r in rows)])
    start = max(start, now - timedelta(days=2))
    end = min(end, now + timedelta(days=14))
    span = (end - start).total_seconds()

    def at(moment: datetime) -> float:
        return max(0.0, min(100.0, (moment - start).total_seconds() / span * 100))

    for row in rows:
        row.left = round(at(row.out.starts_at), 2)
        row.width = round(max(0.6, at(row.out.ends_at) - row.left), 2)
    day = start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    ticks = []
    while day < end:
        ticks.append((round(at(day), 2), day))
        day += timedelta(days=1)
    return Timeline(start, end, round(at(now), 2), ticks)


def map_features(
    db: Session, viewer: Viewer, rows: Sequence[NotificationRow], *, frame: Frame
) -> dict[str, Any]:
    """The map's own layer: each notification's buffer and geometry (a convoy's route), its
    verdict, and the registry's places (a community's area), as the viewer reads them."""
    language = viewer.language
    features = notification_features(rows, frame=frame, page="")
    for place in list_places(db, viewer):
        features.append(
            {
                "type": "Feature",
                "geometry": place.geometry,
                "properties": {
                    "id": str(place.id),
                    "role": "place",
                    "kind": place.kind,
                    "agreed": place.agreed_log_index is not None,
                    "title": place.name,
                    "detail": translate(language, PLACE_LABELS.get(place.kind, place.kind)),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def notification_features(
    rows: Sequence[NotificationRow], *, frame: Frame, page: str
) -> list[dict[str, Any]]:
    """Each notification's buffer and its geometry (a convoy's route) as features, with its
    kind, sender (also as ``party``), state, window, whether a conflict is flagged, a title
    and a link to it on ``page`` (the notifications page's path, or "" on that page)."""
    features: list[dict[str, Any]] = []
    for row in rows:
        out = row.out
        common = {
            "id": str(out.id),
            "kind": out.kind,
            "sender": out.sender,
            "party": out.sender,
            "state": out.state,
            "starts_at": log_time(out.starts_at),
            "ends_at": log_time(out.ends_at),
            "conflict": out.conflict_status == "flagged",
            "title": f"{row.kind_label} · {out.sender}",
            "detail": row.state_label,
            "url": f"{page}#notification-{out.id}",
        }
        features.append(
            {
                "type": "Feature",
                "geometry": buffered(out.geometry, out.buffer_m, frame),
                "properties": {**common, "role": "buffer"},
            }
        )
        features.append(
            {"type": "Feature", "geometry": out.geometry, "properties": {**common, "role": "shape"}}
        )
    return features


def parties_and_sender(db: Session, viewer: Viewer) -> tuple[list[str], str | None]:
    """The parties' slugs, and the viewer's own organisation's if it is a party."""
    dir_ = directory(db, viewer)
    own = dir_.by_id.get(viewer.organisation_id)
    party = own.slug if own is not None and own.kind == OrganisationKind.PARTY else None
    return [p.slug for p in dir_.parties()], party
