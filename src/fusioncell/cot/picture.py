"""The picture a member's TAK client receives, as CoT: what the member may see on the web,
read through the same queries with the member's viewer.

- the zones in force as drawn shapes (``u-d-f``, a closed ring of ``link`` points) and the
  protected sites (points as ``b-m-p-s-m`` spot markers, areas as shapes);
- the holdings (each unit's latest observation per source class), with the affiliation
  computed for this viewer and never stored: the viewer's own party ``a-f``, the other party
  ``a-u``, anyone who is no party (supervisor, verifier) sees both as ``a-n``;
- the violation candidates as geofence-breach alerts (``b-a-g``) where their evidence was
  seen, and FLASH hotline messages of the last ``alerts_seconds`` as ``b-a-o-tbl`` alerts.

Each item has a stable uid; ``Item.key`` is its content without times, so a client is sent
only what changed, and a ``t-x-d-d`` delete for an item that left its picture.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shapely.geometry import shape
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.cot.rules import CotRules
from fusioncell.deescalation import exports
from fusioncell.deescalation.policy import may_read
from fusioncell.geo.queries import list_sites, list_zones
from fusioncell.hotline.queries import list_messages

UNKNOWN = "9999999.0"
AFFILIATION = {"own": "f", "other": "u", "neutral": "n"}
# ATAK's colours are signed ARGB integers.
ZONE_STROKE = {"separation": "-65536", "limitation": "-256", "sector": "-23296"}
DEFAULT_STROKE = "-16776961"
SITE_STROKE = "-16711936"


@dataclass(frozen=True)
class Item:
    uid: str
    type: str
    lat: float
    lon: float
    stale_seconds: int
    detail: tuple[ET.Element, ...]
    how: str = "h-e"

    @property
    def key(self) -> bytes:
        """The content without its times: an item whose key is unchanged is not sent again."""
        parts = [self.type.encode(), f"{self.lat:.7f},{self.lon:.7f}".encode()]
        parts.extend(ET.tostring(element) for element in self.detail)
        return hashlib.sha256(b"\x00".join(parts)).digest()

    def document(self, now: datetime) -> bytes:
        return event_document(
            uid=self.uid,
            cot_type=self.type,
            how=self.how,
            lat=self.lat,
            lon=self.lon,
            now=now,
            stale=now + timedelta(seconds=self.stale_seconds),
            detail=self.detail,
        )


def cot_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def event_document(
    *,
    uid: str,
    cot_type: str,
    how: str,
    lat: float,
    lon: float,
    now: datetime,
    stale: datetime,
    detail: Iterable[ET.Element] = (),
) -> bytes:
    event = ET.Element(
        "event",
        {
            "version": "2.0",
            "uid": uid,
            "type": cot_type,
            "how": how,
            "time": cot_time(now),
            "start": cot_time(now),
            "stale": cot_time(stale),
        },
    )
    ET.SubElement(
        event,
        "point",
        {"lat": f"{lat:.7f}", "lon": f"{lon:.7f}", "hae": UNKNOWN, "ce": UNKNOWN, "le": UNKNOWN},
    )
    holder = ET.SubElement(event, "detail")
    holder.extend(detail)
    return ET.tostring(event)


def delete_document(uid: str, *, now: datetime) -> bytes:
    """TAK's delete of an item the client holds (``t-x-d-d``, forced)."""
    link = ET.Element("link", {"uid": uid, "relation": "none", "type": "none"})
    forced = ET.Element("__forcedelete")
    return event_document(
        uid=f"{uid}.delete",
        cot_type="t-x-d-d",
        how="h-g-i-g-o",
        lat=0.0,
        lon=0.0,
        now=now,
        stale=now + timedelta(seconds=20),
        detail=(link, forced),
    )


def _element(
    tag: str, attributes: Mapping[str, str] | None = None, text: str | None = None
) -> ET.Element:
    element = ET.Element(tag, dict(attributes or {}))
    if text is not None:
        element.text = text
    return element


def _rings(geometry: Mapping[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry["type"] == "MultiPolygon":
        return [polygon[0] for polygon in geometry["coordinates"]]
    return []


def _shapes(feature: Mapping[str, Any], *, prefix: str, stroke: str, rules: CotRules) -> list[Item]:
    props = feature["properties"]
    rings = _rings(feature["geometry"])
    items = []
    for n, ring in enumerate(rings):
        centre = shape({"type": "Polygon", "coordinates": [ring]}).representative_point()
        links = [_element("link", {"point": f"{lat:.7f},{lon:.7f}"}) for lon, lat, *_ in ring]
        suffix = f".{n}" if len(rings) > 1 else ""
        remarks = ", ".join(
            str(props[k]) for k in ("kind", "side", "band") if props.get(k) is not None
        )
        items.append(
            Item(
                uid=f"fusioncell.{prefix}.{props['id']}{suffix}",
                type="u-d-f",
                lat=centre.y,
                lon=centre.x,
                stale_seconds=rules.shapes_seconds,
                detail=(
                    _element("contact", {"callsign": str(props.get("name") or props["id"])}),
                    *links,
                    _element("strokeColor", {"value": stroke}),
                    _element("strokeWeight", {"value": "3.0"}),
                    _element("fillColor", {"value": "0"}),
                    _element("labels_on", {"value": "true"}),
                    _element("remarks", None, remarks),
                ),
            )
        )
    return items


def _site(feature: Mapping[str, Any], rules: CotRules) -> list[Item]:
    geometry = feature["geometry"]
    props = feature["properties"]
    if geometry["type"] != "Point":
        return _shapes(feature, prefix="site", stroke=SITE_STROKE, rules=rules)
    lon, lat = geometry["coordinates"][:2]
    return [
        Item(
            uid=f"fusioncell.site.{props['id']}",
            type="b-m-p-s-m",
            lat=lat,
            lon=lon,
            stale_seconds=rules.shapes_seconds,
            detail=(
                _element("contact", {"callsign": str(props.get("name") or props["id"])}),
                _element("remarks", None, "protected site"),
            ),
        )
    ]


def _holdings(found: exports.Situation, rules: CotRules) -> list[Item]:
    items = []
    for held in found.held:
        row = held.row
        affiliation = AFFILIATION[found.affiliation(held.party)]
        function = rules.outbound.get(row.category, "G")
        remarks = (
            f"{held.party} {row.category} x{row.count} ({row.source}, reported by "
            f"{held.reporter}, {cot_time(row.observed_at)})"
        )
        if held.rules:
            remarks += "; candidate: " + ", ".join(held.rules)
        items.append(
            Item(
                uid=row.unit
                if held.source_class == "declaration"
                else f"{row.unit}.{held.source_class}",
                type=f"a-{affiliation}-{function}",
                lat=row.lat,
                lon=row.lon,
                stale_seconds=rules.positions_seconds,
                detail=(
                    _element("contact", {"callsign": row.unit}),
                    _element("remarks", None, remarks),
                ),
            )
        )
    return items


def _candidates(found: exports.Situation, rules: CotRules) -> list[Item]:
    items = []
    for source, candidate in found.candidates:
        if candidate.exception is not None:
            continue
        points = [found.observations[i] for i in candidate.observations if i in found.observations]
        if not points:
            continue
        name = f"{candidate.rule} {candidate.party} {candidate.category} in {candidate.zone}"
        digest = hashlib.sha256(
            f"{source}|{candidate.rule}|{candidate.party}|{candidate.zone}|"
            f"{candidate.category}|{candidate.measure}".encode()
        ).hexdigest()[:24]
        items.append(
            Item(
                uid=f"fusioncell.candidate.{digest}",
                type="b-a-g",
                lat=points[0].lat,
                lon=points[0].lon,
                stale_seconds=rules.alerts_seconds,
                detail=(
                    _element("contact", {"callsign": name}),
                    _element(
                        "remarks",
                        None,
                        f"Candidate ({source}): {candidate.measure} {candidate.value:g} "
                        f"against a limit of {candidate.limit:g}",
                    ),
                ),
            )
        )
    return items


def _centre(zones: Mapping[str, Any]) -> tuple[float, float] | None:
    boxes = [shape(f["geometry"]).bounds for f in zones["features"]]
    if not boxes:
        return None
    return (
        (min(b[1] for b in boxes) + max(b[3] for b in boxes)) / 2,
        (min(b[0] for b in boxes) + max(b[2] for b in boxes)) / 2,
    )


def _flash(
    db: Session, viewer: Viewer, centre: tuple[float, float] | None, rules: CotRules, now: datetime
) -> list[Item]:
    if centre is None:
        return []
    since = now - timedelta(seconds=rules.alerts_seconds)
    items = []
    for message in list_messages(db, viewer, precedence="FLASH", limit=50):
        if message.sent_at < since:
            continue
        text = message.text or message.form
        items.append(
            Item(
                uid=f"fusioncell.flash.{message.id}",
                type="b-a-o-tbl",
                lat=centre[0],
                lon=centre[1],
                stale_seconds=rules.alerts_seconds,
                detail=(
                    _element("contact", {"callsign": "FLASH"}),
                    _element("remarks", None, f"FLASH: {text[:500]}"),
                ),
            )
        )
    return items


def picture(db: Session, viewer: Viewer, *, rules: CotRules, now: datetime) -> dict[str, Item]:
    """Every item the viewer may see now, by uid."""
    zones = list_zones(db, viewer)
    items: list[Item] = []
    for feature in zones["features"]:
        stroke = ZONE_STROKE.get(feature["properties"].get("kind"), DEFAULT_STROKE)
        items.extend(_shapes(feature, prefix="zone", stroke=stroke, rules=rules))
    for feature in list_sites(db, viewer)["features"]:
        items.extend(_site(feature, rules))
    if may_read(viewer):
        found = exports.situation(db, viewer, at=now, sources=exports.source_classes(None))
        items.extend(_holdings(found, rules))
        items.extend(_candidates(found, rules))
    items.extend(_flash(db, viewer, _centre(zones), rules, now))
    return {item.uid: item for item in items}
