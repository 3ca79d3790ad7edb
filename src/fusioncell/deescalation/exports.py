"""The situation at a time as the viewer may read it (zones, holdings, candidates), for the
map layer and the exports: RFC 7946 GeoJSON, KML 2.2 (``fastkml``) and CSV.

Everything comes from ``deescalation.queries`` with the viewer first: the observations
released to the viewer's organisation, the baselines and exceptions it reads, the zones in
force; the candidates are the engine's over exactly those, per source class. Nothing here is
released more widely than ``GET /api/v1/deescalation/compliance`` would be.

How a holding looks to the viewer (``affiliation``: ``own``, ``other`` or ``neutral``) is
computed per request from the viewer's organisation and never stored.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import shapely
from pygeoif.factories import shape as kml_shape
from shapely.geometry import shape
from sqlalchemy.orm import Session

from fusioncell.cell.models import OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.deescalation import engine, queries
from fusioncell.deescalation.models import ObservationRow
from fusioncell.deescalation.policy import may_read, require
from fusioncell.errors import InvalidInput
from fusioncell.ledger.entries import log_time
from fusioncell.text import N_

if TYPE_CHECKING:  # fastkml takes a third of a second to import: a KML export imports it
    from fastkml import data, features, kml

FORMATS = ("geojson", "kml", "csv")
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
    "csv": "text/csv; charset=utf-8",
}
AFFILIATIONS = ("own", "other", "neutral")
_BAD_SOURCE = N_("The source class is declaration, verification or report.")


@dataclass(frozen=True)
class Held:
    """A unit's holding at the time (its latest observation in a source class), with the
    rules of the candidates it makes and the exceptions that cover some of them."""

    row: ObservationRow
    party: str
    reporter: str
    source_class: str
    rules: tuple[str, ...]
    covered_by: tuple[str, ...]

    @property
    def candidate(self) -> bool:
        return bool(self.rules)


@dataclass(frozen=True)
class Situation:
    at: datetime
    freeze_at: datetime
    sources: tuple[str, ...]
    zones: dict[str, Any]  # the FeatureCollection ``GET /api/v1/geo/zones`` serves
    held: tuple[Held, ...]
    # (source class, holding): the sums per party, zone and category.
    holdings: tuple[tuple[str, engine.Holding], ...]
    # (source class, candidate), per class in the engine's order.
    candidates: tuple[tuple[str, engine.Candidate], ...]
    # Every observation the viewer reads up to ``at``, by id: the candidates' evidence.
    observations: Mapping[str, ObservationRow]
    slugs: Mapping[Any, str]
    viewer_party: str | None
    inputs: queries.Inputs

    def affiliation(self, party: str) -> str:
        """``own`` for the viewer's party, ``other`` for another party, ``neutral`` for
        whoever is no party (the supervisor, the verifier, observers)."""
        if self.viewer_party is None:
            return "neutral"
        return "own" if party == self.viewer_party else "other"


def source_classes(source: str | None) -> tuple[str, ...]:
    """The classes asked for: one, or every class when none is named."""
    if source is None or source == "":
        return tuple(engine.SOURCE_CLASSES)
    if source not in engine.SOURCE_CLASSES:
        raise InvalidInput(_BAD_SOURCE, field="source", sources=list(engine.SOURCE_CLASSES))
    return (source,)


def situation(db: Session, viewer: Viewer, *, at: datetime, sources: Sequence[str]) -> Situation:
    """The situation at ``at`` from what the viewer may read, for each source class."""
    require(viewer, may_read(viewer), "this needs the permission to read the cell's traffic")
    for source in sources:
        source_classes(source)
    inputs = queries.engine_inputs(db, viewer, until=at)
    rows = {str(row.id): row for row in queries.list_observations(db, viewer, until=at)}
    dir_ = queries.directory(db, viewer)
    slugs = {o.id: o.slug for o in dir_.by_id.values()}
    own = dir_.by_id.get(viewer.organisation_id)
    viewer_party = own.slug if own is not None and own.kind == OrganisationKind.PARTY else None
    held: list[Held] = []
    found: list[tuple[str, engine.Candidate]] = []
    sums: list[tuple[str, engine.Holding]] = []
    for source in sources:
        current, _ = engine.current_holdings(inputs.observations, at=at, source=source)
        result = engine.compliance(
            inputs.geometry,
            inputs.observations,
            inputs.baselines,
            inputs.exceptions,
            inputs.rules,
            at=at,
            source=source,
        )
        found.extend((source, candidate) for candidate in result.candidates)
        sums.extend((source, holding) for holding in result.holdings)
        rules: dict[str, set[str]] = {}
        covered: dict[str, set[str]] = {}
        for candidate in result.candidates:
            for observation in candidate.observations:
                if candidate.exception is None:
                    rules.setdefault(observation, set()).add(candidate.rule)
                else:
                    covered.setdefault(observation, set()).add(candidate.exception)
        for observation_id in current.ids.tolist():
            row = rows.get(str(observation_id))
            if row is None:  # read between the two queries: left for the next request
                continue
            held.append(
                Held(
                    row=row,
                    party=slugs[row.party_id],
                    reporter=slugs[row.reporter_id],
                    source_class=source,
                    rules=tuple(sorted(rules.get(str(observation_id), ()))),
                    covered_by=tuple(sorted(covered.get(str(observation_id), ()))),
                )
            )
    return Situation(
        at=at,
        freeze_at=inputs.rules.freeze_at,
        sources=tuple(sources),
        zones=queries.zones_in_force(db, viewer, at=at),
        held=tuple(held),
        holdings=tuple(sums),
        candidates=tuple(found),
        observations=rows,
        slugs=slugs,
        viewer_party=viewer_party,
        inputs=inputs,
    )


# -- features -------------------------------------------------------------------------------


def _point(row: ObservationRow) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [row.lon, row.lat]}


def holding_properties(held: Held) -> dict[str, Any]:
    row = held.row
    return {
        "category": row.category,
        "count": row.count,
        "party": held.party,
        "unit": row.unit,
        "source": row.source,
        "source_class": held.source_class,
        "reporter": held.reporter,
        "observed_at": log_time(row.observed_at),
        "calibre_mm": row.calibre_mm,
        "range_km": row.range_km,
        "candidate": held.candidate,
        "rules": list(held.rules),
        "covered_by": list(held.covered_by),
    }


def candidate_properties(source: str, candidate: engine.Candidate) -> dict[str, Any]:
    return {"source_class": source, **candidate.as_dict()}


def _candidate_geometry(
    candidate: engine.Candidate, observations: Mapping[str, ObservationRow]
) -> dict[str, Any] | None:
    """Where its evidence was seen (the observations the viewer reads), or none."""
    points = [
        [observations[i].lon, observations[i].lat]
        for i in candidate.observations
        if i in observations
    ]
    if not points:
        return None
    unique = [list(p) for p in dict.fromkeys(tuple(p) for p in points)]
    return {"type": "MultiPoint", "coordinates": unique}


# A unit's track on the map: its last positions up to the time shown, at most this many.
TRACK_POINTS = 20
_CLASS_OF = {source: cls for cls, sources in engine.SOURCE_CLASSES.items() for source in sources}


def unit_tracks(found: Situation) -> list[dict[str, Any]]:
    """Each unit's track: its positions in a source class in time order (the observations
    the viewer reads up to the time shown), as a LineString where it has moved, with the
    unit's ``party`` and the ``affiliation`` for this viewer (never stored)."""
    held = {(h.source_class, h.party, h.row.unit) for h in found.held}
    positions: dict[tuple[str, str, str], list[ObservationRow]] = {}
    for row in sorted(found.observations.values(), key=lambda r: (r.observed_at, str(r.id))):
        key = (_CLASS_OF[row.source], found.slugs[row.party_id], row.unit)
        if key in held:
            positions.setdefault(key, []).append(row)
    tracks = []
    for (source_class, party, unit), rows in sorted(positions.items()):
        kept = rows[-TRACK_POINTS:]
        points = [[row.lon, row.lat] for row in kept]
        moved = [p for n, p in enumerate(points) if n == 0 or p != points[n - 1]]
        if len(moved) < 2:
            continue
        tracks.append(
            {
                "type": "Feature",
                "id": f"track:{source_class}:{party}:{unit}",
                "geometry": {"type": "LineString", "coordinates": moved},
                "properties": {
                    "kind": "track",
                    "party": party,
                    "unit": unit,
                    "source_class": source_class,
                    "affiliation": found.affiliation(party),
                    "from": log_time(kept[0].observed_at),
                    "until": log_time(kept[-1].observed_at),
                },
            }
        )
    return tracks


def map_collection(found: Situation, *, now: datetime, labels: Mapping[str, str]) -> dict[str, Any]:
    """The map layer: the holdings as points, each with its ``affiliation`` for this viewer
    and whether it makes a candidate, and each moving unit's track (``unit_tracks``: the
    features whose ``kind`` is ``track``). Foreign members (RFC 7946 section 6.1):
    ``timeline`` (the freeze's date, now, and the time shown: the map's time slider reloads a
    layer that has one with ``at``) and ``labels`` (the layer's texts in the viewer's
    language)."""
    holdings = [
        {
            "type": "Feature",
            "id": f"{held.source_class}:{held.row.id}",
            "geometry": _point(held.row),
            "properties": {
                **holding_properties(held),
                "affiliation": found.affiliation(held.party),
            },
        }
        for held in found.held
    ]
    return {
        "type": "FeatureCollection",
        "features": [*unit_tracks(found), *holdings],
        "timeline": {
            "start": log_time(found.freeze_at),
            "end": log_time(now),
            "at": log_time(found.at),
        },
        "labels": dict(labels),
    }


def geojson_collection(found: Situation) -> dict[str, Any]:
    """Zones, holdings and candidates in one FeatureCollection; ``layer`` says which."""
    zones = [
        {**feature, "properties": {"layer": "zone", **feature["properties"]}}
        for feature in found.zones["features"]
    ]
    holdings = [
        {
            "type": "Feature",
            "id": f"holding:{held.source_class}:{held.row.id}",
            "geometry": _point(held.row),
            "properties": {"layer": "holding", "id": str(held.row.id), **holding_properties(held)},
        }
        for held in found.held
    ]
    candidates = [
        {
            "type": "Feature",
            "id": f"candidate:{n}",
            "geometry": _candidate_geometry(candidate, found.observations),
            "properties": {"layer": "candidate", **candidate_properties(source, candidate)},
        }
        for n, (source, candidate) in enumerate(found.candidates, start=1)
    ]
    return {
        "type": "FeatureCollection",
        "at": log_time(found.at),
        "features": [*zones, *holdings, *candidates],
    }


def as_geojson(found: Situation) -> str:
    return json.dumps(geojson_collection(found), ensure_ascii=False)


# -- KML ------------------------------------------------------------------------------------


def _extended(values: Mapping[str, Any]) -> data.ExtendedData:
    from fastkml import data

    return data.ExtendedData(
        elements=[
            data.Data(name=name, value=_text(value))
            for name, value in values.items()
            if value is not None
        ]
    )


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _placemark(
    name: str, geometry: dict[str, Any] | None, values: Mapping[str, Any], *, id_: str
) -> features.Placemark:
    from fastkml import features

    return features.Placemark(
        id=id_,
        name=name,
        geometry=kml_shape(shape(geometry)) if geometry is not None else None,
        extended_data=_extended(values),
    )


def kml_document(found: Situation) -> kml.KML:
    from fastkml import containers, kml

    zones = [
        _placemark(
            str(feature["properties"].get("name") or feature["properties"]["id"]),
            feature["geometry"],
            feature["properties"],
            id_=f"zone-{feature['properties']['id']}",
        )
        for feature in found.zones["features"]
    ]
    holdings = [
        _placemark(
            f"{held.party} {held.row.category} {held.row.count} ({held.row.unit})",
            _point(held.row),
            {"id": str(held.row.id), **holding_properties(held)},
            id_=f"holding-{held.source_class}-{held.row.id}",
        )
        for held in found.held
    ]
    candidates = [
        _placemark(
            f"{candidate.rule} {candidate.party} {candidate.zone} {candidate.category}",
            _candidate_geometry(candidate, found.observations),
            candidate_properties(source, candidate),
            id_=f"candidate-{n}",
        )
        for n, (source, candidate) in enumerate(found.candidates, start=1)
    ]
    document = containers.Document(
        id="deescalation",
        name=f"fusioncell de-escalation at {log_time(found.at)}",
        features=[
            containers.Folder(id="zones", name="Zones", features=zones),
            containers.Folder(id="holdings", name="Holdings", features=holdings),
            containers.Folder(id="candidates", name="Candidates", features=candidates),
        ],
    )
    return kml.KML(features=[document])


def as_kml(found: Situation) -> str:
    text: str = kml_document(found).to_string(prettyprint=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text


# -- CSV ------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "layer",
    "id",
    "party",
    "zone",
    "category",
    "count",
    "unit",
    "source",
    "source_class",
    "reporter",
    "observed_at",
    "calibre_mm",
    "range_km",
    "rule",
    "measure",
    "limit",
    "value",
    "observations",
    "exception",
    "candidate_rules",
    "lon",
    "lat",
    "wkt",
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
    text = _text(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_rows(found: Situation) -> Iterable[dict[str, Any]]:
    for feature in found.zones["features"]:
        p = feature["properties"]
        yield {
            "layer": "zone",
            "id": p["id"],
            "party": p.get("side"),
            "zone": p["id"],
            "wkt": shapely.to_wkt(shape(feature["geometry"]), rounding_precision=6),
        }
    for held in found.held:
        row = held.row
        yield {
            "layer": "holding",
            "id": str(row.id),
            "party": held.party,
            "category": row.category,
            "count": row.count,
            "unit": row.unit,
            "source": row.source,
            "source_class": held.source_class,
            "reporter": held.reporter,
            "observed_at": log_time(row.observed_at),
            "calibre_mm": row.calibre_mm,
            "range_km": row.range_km,
            "candidate_rules": held.rules,
            "lon": row.lon,
            "lat": row.lat,
        }
    for source, candidate in found.candidates:
        values = candidate.as_dict()
        yield {
            "layer": "candidate",
            "party": candidate.party,
            "zone": candidate.zone,
            "category": candidate.category,
            "source_class": source,
            "rule": candidate.rule,
            "measure": candidate.measure,
            "limit": values["limit"],
            "value": values["value"],
            "observations": candidate.observations,
            "exception": candidate.exception,
        }


def as_csv(found: Situation) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in csv_rows(found):
        writer.writerow({name: _cell(row.get(name)) for name in CSV_COLUMNS})
    return out.getvalue()


def render(found: Situation, format_: str) -> str:
    if format_ == "kml":
        return as_kml(found)
    if format_ == "csv":
        return as_csv(found)
    return as_geojson(found)


def filename(found: Situation, format_: str) -> str:
    stamp = found.at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"deescalation-{stamp}.{format_}"
