"""A no-strike list as a party's staff load it: RFC 7946 GeoJSON, KML 2.2 (``fastkml``) and
CSV (with WKT for a community's polygon), each built from the list's content as it was sent
(or from the places in force, for a preview), so every format of one list says the same and
the list's SHA-256 names what was sent.

A list carries no content a party may not read: only the places in force, which every
organisation of the cell reads.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import shapely
from pygeoif.factories import shape as kml_shape
from shapely.geometry import shape

from fusioncell.errors import InvalidInput
from fusioncell.ledger.entries import log_time
from fusioncell.text import N_

if TYPE_CHECKING:  # fastkml takes a third of a second to import: a KML export imports it
    from fastkml import features

FORMATS = ("geojson", "kml", "csv")
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
    "csv": "text/csv; charset=utf-8",
}
_BAD_FORMAT = N_("The format is geojson, kml or csv.")


@dataclass(frozen=True)
class Listing:
    """What an export says about the list beside its places."""

    title: str
    party: str | None
    period: str | None
    digest: str | None
    sent_at: datetime | None
    content: Mapping[str, Any]  # the FeatureCollection of places

    def header(self) -> dict[str, Any]:
        return {
            "party": self.party,
            "period": self.period,
            "sha256": self.digest,
            "sent_at": log_time(self.sent_at) if self.sent_at else None,
        }


def checked_format(format_: str | None) -> str:
    chosen = (format_ or "geojson").lower()
    if chosen not in FORMATS:
        raise InvalidInput(_BAD_FORMAT, field="format", formats=list(FORMATS))
    return chosen


def as_geojson(listing: Listing) -> str:
    # The list's own fields are foreign members (RFC 7946 section 6.1).
    document = {
        "type": "FeatureCollection",
        "no_strike_list": listing.header(),
        "features": list(listing.content["features"]),
    }
    return json.dumps(document, ensure_ascii=False)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _placemark(feature: Mapping[str, Any]) -> features.Placemark:
    from fastkml import data, features

    properties = feature["properties"]
    return features.Placemark(
        id=f"place-{properties['id']}",
        name=str(properties["name"]),
        geometry=kml_shape(shape(feature["geometry"])),
        extended_data=data.ExtendedData(
            elements=[
                data.Data(name=name, value=_text(value))
                for name, value in properties.items()
                if value is not None
            ]
        ),
    )


def as_kml(listing: Listing) -> str:
    from fastkml import containers, data, kml

    header = [
        data.Data(name=name, value=_text(value))
        for name, value in listing.header().items()
        if value is not None
    ]
    document = containers.Document(
        id="no-strike-list",
        name=listing.title,
        extended_data=data.ExtendedData(elements=header) if header else None,
        features=[_placemark(feature) for feature in listing.content["features"]],
    )
    text: str = kml.KML(features=[document]).to_string(prettyprint=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text


CSV_COLUMNS = (
    "id",
    "name",
    "kind",
    "population",
    "source",
    "agreed_log_index",
    "lon",
    "lat",
    "wkt",
    "party",
    "period",
    "sha256",
)
# A cell a spreadsheet would read as a formula starts with one of these: such text is
# written after an apostrophe (OWASP's advice for CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_rows(listing: Listing) -> Iterable[dict[str, Any]]:
    header = listing.header()
    for feature in listing.content["features"]:
        properties = feature["properties"]
        geometry = shape(feature["geometry"])
        # A site is its point; a community is placed at a point inside it.
        where = geometry if geometry.geom_type == "Point" else geometry.representative_point()
        yield {
            **{name: properties.get(name) for name in CSV_COLUMNS[:6]},
            "lon": round(where.x, 6),
            "lat": round(where.y, 6),
            "wkt": shapely.to_wkt(geometry, rounding_precision=6),
            "party": header["party"],
            "period": header["period"],
            "sha256": header["sha256"],
        }


def as_csv(listing: Listing) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in csv_rows(listing):
        writer.writerow({name: _cell(row.get(name)) for name in CSV_COLUMNS})
    return out.getvalue()


def render(listing: Listing, format_: str) -> str:
    if format_ == "kml":
        return as_kml(listing)
    if format_ == "csv":
        return as_csv(listing)
    return as_geojson(listing)


def filename(listing: Listing, format_: str) -> str:
    parts = ["no-strike-list", listing.party or "current", listing.period or ""]
    stem = "-".join(p for p in parts if p).replace("/", "-")
    return f"{stem}.{format_}"
