"""The de-escalation page: per party and zone, the holdings against their limits and the
party's baseline as bars on one scale for both parties, and the violation candidates with
their evidence (the observations that make each, the exception that covers it), at any time
since the freeze and for a source class. The page keeps itself live: the track's frames on
the page's one stream make ``deescalation.js`` fetch its sections again (``HX-Target``).

Every read goes through ``deescalation.queries`` (by ``deescalation.exports.situation``), so
the page shows exactly what ``GET /api/v1/deescalation/compliance`` gives the viewer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deescalation import engine, exports, queries
from fusioncell.deescalation.models import ObservationRow
from fusioncell.deescalation.policy import may_read, require
from fusioncell.deescalation.rules import DeescalationRules
from fusioncell.errors import InvalidInput
from fusioncell.i18n import translate
from fusioncell.text import N_, Text
from fusioncell.web.deps import AppClock, CurrentViewer, Db
from fusioncell.web.pages import page

router = APIRouter(include_in_schema=False)

PAGE_URL = "/deescalation"
INSPECTIONS_URL = "/deescalation/inspections"
# The element the page's script swaps; a request aimed at it gets that partial alone.
SECTIONS_ID = "deescalation-sections"

CATEGORY_LABELS = {
    "personnel": N_("Personnel"),
    "tank": N_("Tanks"),
    "artillery": N_("Artillery"),
    "sam": N_("Surface-to-air missile systems"),
    "ssm": N_("Surface-to-surface missile systems"),
    "aircraft": N_("Aircraft"),
    "uav": N_("Uncrewed aircraft"),
    "other": N_("Other"),
}
# The map's symbol for each category: a letter, the same in every language (the legend and
# the popups name the category in the page's language).
CATEGORY_SYMBOLS = {
    "personnel": "P",
    "tank": "T",
    "artillery": "A",
    "sam": "SA",
    "ssm": "SS",
    "aircraft": "F",
    "uav": "U",
    "other": "O",
}
SOURCE_CLASS_LABELS = {
    "declaration": N_("Declarations (each party about itself)"),
    "verification": N_("Verification (inspections and sensors)"),
    "report": N_("Reports (each party about the other)"),
}
SOURCE_LABELS = {
    "declaration": N_("Declaration"),
    "inspection": N_("Inspection"),
    "sensor": N_("Sensor"),
    "report": N_("Report"),
}
RULE_LABELS = {
    "R1": N_("No military holding in the area of separation"),
    "R2": N_("Limits in the party's 0-10 km band"),
    "R3": N_("Artillery limits in the 0-10 and 10-20 km bands"),
    "R4": N_("No surface-to-air or surface-to-surface missiles within 25 km"),
    "R5": N_("Across the line, in the other side's bands"),
    "R6": N_("The freeze: above the party's baseline"),
    "C3": N_("No heavy weapons of BRAVO in sector S"),
}
MEASURE_LABELS = {
    "count": N_("Count"),
    "calibre_mm": N_("Calibre (mm)"),
    "range_km": N_("Range (km)"),
    "crossings": N_("Crossings of the line"),
}
AFFILIATION_LABELS = {
    "own": N_("Own party"),
    "other": N_("Other party"),
    "neutral": N_("A party"),
}
# The texts of the map layer and its time slider (sent with the layer, see ``map_labels``).
MAP_TEXTS = {
    "layer": N_("Holdings"),
    "party": N_("Party"),
    "unit": N_("Unit"),
    "count": N_("Count"),
    "source": N_("Source"),
    "observed": N_("Observed"),
    "candidate": N_("Violation candidate"),
    "covered": N_("Covered by an exception"),
    "calibre": N_("Calibre (mm)"),
    "range": N_("Range (km)"),
    "time": N_("Situation at"),
    "now": N_("Now"),
    "time_help": N_("Drag to see the holdings at any time since the freeze."),
    "page": N_("Compliance"),
}
SCRIPT_LABELS = (N_("Updated with new observations."),)


def map_labels(language: str) -> dict[str, str]:
    """The map layer's texts in ``language``: keyed ``category.<c>``, ``symbol.<c>``,
    ``affiliation.<a>``, ``source.<s>``, ``rule.<r>`` and the ``MAP_TEXTS`` keys."""
    labels = {key: translate(language, text) for key, text in MAP_TEXTS.items()}
    for prefix, table in (
        ("category", CATEGORY_LABELS),
        ("affiliation", AFFILIATION_LABELS),
        ("source", SOURCE_LABELS),
        ("rule", RULE_LABELS),
    ):
        labels.update({f"{prefix}.{key}": translate(language, text) for key, text in table.items()})
    labels.update({f"symbol.{key}": symbol for key, symbol in CATEGORY_SYMBOLS.items()})
    return labels


# -- the bars --------------------------------------------------------------------------------


@dataclass
class Bar:
    """One party's holdings of a category in a zone, against its limit and its baseline, on
    the row's scale (shared by both parties)."""

    party: str
    zone: str | None
    value: int
    limit: float | None
    baseline: int | None
    scale: float
    rules: list[str] = field(default_factory=list)  # candidates not covered
    covered: list[str] = field(default_factory=list)  # exceptions covering candidates

    def percent(self, amount: float | None) -> str:
        share = 0.0 if amount is None or self.scale <= 0 else min(amount / self.scale, 1.0)
        return f"{share * 100:.2f}%"

    @property
    def state(self) -> str:
        if self.rules:
            return "candidate"
        if self.covered:
            return "covered"
        if self.baseline is not None and self.value > self.baseline:
            return "above-baseline"
        return "within"


@dataclass
class BoardRow:
    key: str
    label: str
    category: str
    scale: float
    bars: list[Bar]


def _number(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _row_key(zone: engine.Zone, party: str) -> tuple[int, float, str, str]:
    """Rows pair each party's zone with the other's mirror: the own bands of both parties
    share a row, as do the other side's bands; the area of separation and sectors are one
    zone for both."""
    if zone.kind == "limitation":
        start = engine._band_start(zone.band)
        if zone.side == party:
            return (1, start, "own", str(zone.band))
        return (3, start, "other", str(zone.band))
    if zone.kind == "separation":
        return (0, 0.0, "zone", zone.id)
    return (2, 0.0, "zone", zone.id)


def _row_label(kind: str, name: str, names: dict[str, str]) -> str:
    if kind == "own":
        return N_("Own area of limitation, %(band)s km", band=name)
    if kind == "other":
        return N_("The other side's area of limitation, %(band)s km", band=name)
    return names.get(name, name)


def count_limits(
    geometry: engine.Geometry, rules: DeescalationRules, parties: list[str]
) -> dict[tuple[str, str, str], float]:
    """The least ``max_count`` that applies to each (party, zone, category)."""
    limits: dict[tuple[str, str, str], float] = {}
    for limit in rules.limits:
        if limit.measure != "max_count":
            continue
        for party in parties:
            for zi in engine._zones_of(geometry, limit, party):
                zone = geometry.zones[zi].id
                for category in limit.categories:
                    key = (party, zone, category)
                    limits[key] = min(limits.get(key, limit.value), limit.value)
    return limits


def board(found: exports.Situation, parties: list[str], source: str) -> list[BoardRow]:
    """The rows of bars: each (zone pair, category) where either party holds anything, has a
    baseline or a limit above zero. The scale of a row is the largest of both parties'
    limits, baselines and holdings there."""
    inputs = found.inputs
    geometry = inputs.geometry
    categories = inputs.rules.categories
    limits = count_limits(geometry, inputs.rules, parties)
    sums = {(h.party, h.zone, h.category): h.count for s, h in found.holdings if s == source}
    candidates = [c for s, c in found.candidates if s == source and c.measure == "count"]
    baselines = {
        party: engine._baseline_in_force(inputs.baselines, party, found.at) for party in parties
    }
    names = {
        str(f["properties"]["id"]): str(f["properties"].get("name") or f["properties"]["id"])
        for f in found.zones["features"]
    }
    # (order, zone pair kind, name) -> party -> zone
    pairs: dict[tuple[int, float, str, str], dict[str, engine.Zone]] = {}
    for zone in geometry.zones:
        for party in parties:
            pairs.setdefault(_row_key(zone, party), {})[party] = zone
    rows: list[BoardRow] = []
    for key in sorted(pairs):
        _order, _start, kind, name = key
        for category in categories:
            bars = []
            for party in parties:
                found_zone = pairs[key].get(party)
                if found_zone is None:
                    bars.append(Bar(party, None, 0, None, None, 0))
                    continue
                zone = found_zone
                baseline = baselines[party]
                limit = limits.get((party, zone.id, category))
                if kind == "other":
                    limit = 0.0  # R5: nothing in the other side's bands
                here = [
                    c
                    for c in candidates
                    if (c.party, c.zone, c.category) == (party, zone.id, category)
                ]
                bars.append(
                    Bar(
                        party=party,
                        zone=zone.id,
                        value=sums.get((party, zone.id, category), 0),
                        limit=limit,
                        baseline=(
                            None
                            if baseline is None
                            else baseline.counts.get((zone.id, category), 0)
                        ),
                        scale=0,
                        rules=sorted({c.rule for c in here if c.exception is None}),
                        covered=sorted({c.exception for c in here if c.exception is not None}),
                    )
                )
            if not any(b.value > 0 or (b.baseline or 0) > 0 or (b.limit or 0) > 0 for b in bars):
                continue
            scale = max(max(b.value, b.limit or 0, b.baseline or 0) for b in bars) or 1
            for bar in bars:
                bar.scale = float(scale)
            rows.append(
                BoardRow(
                    key=f"{kind}:{name}:{category}",
                    label=_row_label(kind, name, names),
                    category=category,
                    scale=float(scale),
                    bars=bars,
                )
            )
    return rows


# -- the candidates --------------------------------------------------------------------------


@dataclass
class Evidence:
    id: str
    unit: str
    source: str
    reporter: str
    count: int
    observed_at: datetime
    lon: float
    lat: float
    calibre_mm: float | None
    range_km: float | None


@dataclass
class ExceptionView:
    id: str
    text: str  # a ``Text``: the page says it in its language
    note: str


@dataclass
class CandidateView:
    id: str
    rule: str
    party: str
    zone: str
    category: str
    measure: str
    limit: int | float | None
    value: int | float | None
    evidence: list[Evidence]
    exception: ExceptionView | None
    # Observations of the candidate the viewer does not read (never listed, only counted).
    unseen: int


def _evidence(row: ObservationRow, slugs: Any) -> Evidence:
    return Evidence(
        id=str(row.id),
        unit=row.unit,
        source=row.source,
        reporter=slugs[row.reporter_id],
        count=row.count,
        observed_at=row.observed_at,
        lon=row.lon,
        lat=row.lat,
        calibre_mm=row.calibre_mm,
        range_km=row.range_km,
    )


def _exceptions(db: Session, viewer: Viewer, slugs: Any) -> dict[str, ExceptionView]:
    return {
        str(e.id): ExceptionView(
            id=str(e.id),
            text=N_(
                "%(party)s may hold up to %(count)s (%(category)s) in %(zone)s until %(until)s",
                party=slugs[e.party_id],
                count=e.max_count,
                # A Text, so that the page says the category in its language too.
                category=Text(CATEGORY_LABELS.get(e.category, e.category), {}),
                zone=e.zone,
                until=e.valid_until.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            ),
            note=e.note,
        )
        for e in queries.list_exceptions(db, viewer)
    }


def candidate_id(candidate: engine.Candidate) -> str:
    """The candidate's element id on the page: its rule, party, zone, category, measure."""
    parts = (candidate.rule, candidate.party, candidate.zone, candidate.category)
    return "-".join(("candidate", *parts, candidate.measure))


def candidate_views(
    db: Session, viewer: Viewer, found: exports.Situation, source: str
) -> list[CandidateView]:
    exceptions = _exceptions(db, viewer, found.slugs)
    views: list[CandidateView] = []
    for candidate in (c for s, c in found.candidates if s == source):
        seen = [found.observations[i] for i in candidate.observations if i in found.observations]
        views.append(
            CandidateView(
                id=candidate_id(candidate),
                rule=candidate.rule,
                party=candidate.party,
                zone=candidate.zone,
                category=candidate.category,
                measure=candidate.measure,
                limit=_number(candidate.limit),
                value=_number(candidate.value),
                evidence=[_evidence(row, found.slugs) for row in seen],
                exception=(
                    None if candidate.exception is None else exceptions.get(candidate.exception)
                ),
                unseen=len(candidate.observations) - len(seen),
            )
        )
    return views


# -- the page --------------------------------------------------------------------------------


def parse_at(value: str) -> datetime | None:
    """The page's time: an ``<input type="datetime-local">`` value (UTC, as its label says)
    or an RFC 3339 time with its offset; empty is now."""
    text = value.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(N_("Give the time as a date and a time."), field="at") from None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(N_("Give the time as a date and a time."), field="at") from None


def _labels(viewer: Viewer) -> str:
    return json.dumps(
        {label: translate(viewer.language, label) for label in SCRIPT_LABELS}, ensure_ascii=False
    )


def _export_links(at: datetime | None, source: str) -> list[tuple[str, str]]:
    links = []
    for format_, label in (("geojson", "GeoJSON"), ("kml", "KML"), ("csv", "CSV")):
        query: dict[str, str] = {"format": format_, "source": source}
        if at is not None:
            query["at"] = at.isoformat().replace("+00:00", "Z")
        links.append((f"/api/v1/deescalation/export?{urlencode(query)}", label))
    return links


@router.get(PAGE_URL)
def deescalation_page(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    require(viewer, may_read(viewer), "this needs the permission to read the cell's traffic")
    args = request.query_params
    form = {"at": args.get("at", ""), "source": args.get("source", "") or "verification"}
    now = clock.now()
    error = None
    try:
        at = parse_at(form["at"])
        exports.source_classes(form["source"])
    except InvalidInput as problem:
        error, at = problem.detail, None
        form["source"] = (
            form["source"] if form["source"] in engine.SOURCE_CLASSES else "verification"
        )
    when = at or now
    source = form["source"]
    found = exports.situation(db, viewer, at=when, sources=(source,))
    parties = queries.directory(db, viewer).parties()
    context: dict[str, Any] = {
        "sections_id": SECTIONS_ID,
        "at": when,
        "live": at is None,
        "source": source,
        "parties": parties,
        "rows": board(found, parties, source),
        "candidates": candidate_views(db, viewer, found, source),
        "category_labels": CATEGORY_LABELS,
        "source_labels": SOURCE_LABELS,
        "rule_labels": RULE_LABELS,
        "measure_labels": MEASURE_LABELS,
        "viewer_party": found.viewer_party,
        "freeze_at": found.freeze_at,
    }
    headers = {"Vary": "HX-Target"}
    if request.headers.get("hx-target") == SECTIONS_ID and error is None:
        return page(request, viewer, "deescalation/sections.html", headers=headers, **context)
    return page(
        request,
        viewer,
        "deescalation/page.html",
        status_code=422 if error else 200,
        headers=headers,
        form=form,
        error=error,
        at_value=when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"),
        at_min=found.freeze_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"),
        source_class_labels=SOURCE_CLASS_LABELS,
        exports=_export_links(at, source),
        inspections_url=INSPECTIONS_URL,
        script_labels=_labels(viewer),
        **context,
    )
