"""The compliance engine: a pure function of (the geometry in force, observations, baselines,
exceptions, rules) to the holdings and the violation candidates at a time.

Nothing here reads the database or the clock, so whoever holds the signed observations, the
geometry and the rules recomputes exactly the same candidates (``fusioncell verify`` does).
A candidate is not a finding: only the verification track turns one into a finding.

The rules, each party measured from its own line and only in its own bands:

- the holdings at T, per source class, are the latest observation of each unit at or before
  T (a unit is named by its reporter: the key is (reporter, party, unit)); a count of 0 has
  left; a holding is in every zone whose geometry intersects its point (a point on the
  boundary of two bands is in both);
- each ``Limit`` of the rules (R1-R4, C3): per party, zone and category, the sum of the
  counts above ``max_count``, or any holding above ``max_calibre_mm`` / ``max_range_km``;
- R5: a party's holding in the other side's bands, and a track of one unit (its positions in
  time order) with a step that crosses the other side's line (the edge of the area of
  separation that the other side's bands start from); such a candidate names the other
  side's innermost band;
- R6: per party, zone and category, the holdings above the party's baseline in force (a zone
  or category the baseline does not name has a baseline of 0);
- an exception in force for (party, zone, category) covers a count candidate whose value is
  at most its ``max_count``.

Vectorised: points are tested against each zone with shapely 2's prepared ``intersects_xy``
after a bounding-box cut, the latest observation per unit is found by one ``lexsort``, and
the sums per (party, zone, category) are one ``bincount``; only the candidates, a few dozen
at most, are assembled in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from fusioncell.deescalation.rules import DeescalationRules, Limit

# The sources an observation comes from, and the classes holdings are computed per: a
# party's declarations, the verifier's own counts (inspections and sensors), and the
# parties' reports about each other.
SOURCES = ("declaration", "inspection", "sensor", "report")
SOURCE_CLASSES: dict[str, tuple[str, ...]] = {
    "declaration": ("declaration",),
    "verification": ("inspection", "sensor"),
    "report": ("report",),
}
# How close to the area of separation's ring a band's edge must lie to be its line (degrees,
# about 0.2 m): the stored bands are rounded to 1e-6 degrees.
LINE_TOLERANCE = 2e-6


@dataclass(frozen=True)
class Zone:
    id: str
    kind: str  # separation | limitation | sector
    side: str | None
    band: str | None
    geometry: BaseGeometry


@dataclass(frozen=True)
class Geometry:
    """The geometry in force: its zones, and each side's line (derived from the zones)."""

    zones: tuple[Zone, ...]
    lines: Mapping[str, BaseGeometry]

    # Each zone's grid of cells known to lie wholly inside or outside it (see ``ZoneGrid``).
    grids: tuple[ZoneGrid, ...] = ()

    @classmethod
    def of(cls, zones: Iterable[Zone]) -> Geometry:
        zones = tuple(zones)
        for zone in zones:
            shapely.prepare(zone.geometry)
        return cls(
            zones=zones,
            lines=_lines(zones),
            grids=tuple(ZoneGrid.of(zone.geometry) for zone in zones),
        )

    @classmethod
    def from_features(cls, collection: Mapping[str, Any]) -> Geometry:
        """From an RFC 7946 FeatureCollection as ``GET /api/v1/geo/zones`` serves it."""
        return cls.of(
            Zone(
                id=str(feature["properties"]["id"]),
                kind=str(feature["properties"]["kind"]),
                side=feature["properties"].get("side"),
                band=feature["properties"].get("band"),
                geometry=shape(feature["geometry"]),
            )
            for feature in collection["features"]
        )

    def innermost_band(self, side: str) -> Zone | None:
        bands = [z for z in self.zones if z.kind == "limitation" and z.side == side]
        return min(bands, key=lambda z: _band_start(z.band), default=None)


# Cells per side of a zone's grid.
GRID_CELLS = 128
# How far a cell is grown before it is classified: a point that rounding puts in a
# neighbouring cell still lies in the grown cell, so its cell's verdict holds for it.
GRID_MARGIN = 1e-9
OUTSIDE, INSIDE, BOUNDARY = 0, 1, 2


@dataclass(frozen=True)
class ZoneGrid:
    """A zone's bounding box cut into cells, each wholly inside the zone (the zone covers the
    grown cell), wholly outside (disjoint from it) or on its boundary. Only points in
    boundary cells need shapely's exact test; the verdict is the same as that test's for
    every point, since a closed cell inside (outside) the zone holds only points inside
    (outside) it."""

    west: float
    south: float
    dx: float
    dy: float
    state: NDArray[np.uint8]  # GRID_CELLS x GRID_CELLS, [row (y), column (x)]

    @classmethod
    def of(cls, geometry: BaseGeometry) -> ZoneGrid:
        west, south, east, north = geometry.bounds
        dx = (east - west) / GRID_CELLS or 1.0
        dy = (north - south) / GRID_CELLS or 1.0
        columns, rows = np.meshgrid(np.arange(GRID_CELLS), np.arange(GRID_CELLS))
        x0 = west + columns.ravel() * dx - GRID_MARGIN
        y0 = south + rows.ravel() * dy - GRID_MARGIN
        cells = shapely.box(x0, y0, x0 + dx + 2 * GRID_MARGIN, y0 + dy + 2 * GRID_MARGIN)
        state = np.full(len(cells), BOUNDARY, dtype=np.uint8)
        state[~shapely.intersects(geometry, cells)] = OUTSIDE
        state[shapely.covers(geometry, cells)] = INSIDE
        return cls(west, south, dx, dy, state.reshape(GRID_CELLS, GRID_CELLS))

    def classify(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.uint8]:
        """Each point's cell's verdict (points are within the grid's bounds)."""
        column = np.clip(((x - self.west) / self.dx).astype(np.int64), 0, GRID_CELLS - 1)
        row = np.clip(((y - self.south) / self.dy).astype(np.int64), 0, GRID_CELLS - 1)
        return np.asarray(self.state[row, column], dtype=np.uint8)


def _band_start(band: str | None) -> float:
    try:
        return float(str(band).split("-", 1)[0])
    except ValueError:
        return float("inf")


def _lines(zones: Sequence[Zone]) -> dict[str, BaseGeometry]:
    separation = [z.geometry for z in zones if z.kind == "separation"]
    if not separation:
        return {}
    ring = shapely.boundary(shapely.union_all(separation))
    lines: dict[str, BaseGeometry] = {}
    sides = {z.side for z in zones if z.kind == "limitation" and z.side is not None}
    geometry = Geometry(zones=tuple(zones), lines={})
    for side in sorted(sides):
        inner = geometry.innermost_band(side)
        if inner is None:
            continue
        line = shapely.intersection(ring, shapely.buffer(inner.geometry, LINE_TOLERANCE))
        if not line.is_empty:
            shapely.prepare(line)
            lines[side] = line
    return lines


@dataclass(frozen=True)
class Observation:
    id: str
    unit: str
    party: str
    category: str
    count: int
    lon: float
    lat: float
    observed_at: datetime
    source: str
    reporter: str
    calibre_mm: float | None = None
    range_km: float | None = None


@dataclass
class Observations:
    """Observations as columns, so that the engine never loops over them in Python."""

    ids: NDArray[Any]  # object: the observation ids
    unit: NDArray[np.int64]  # codes of (reporter, party, unit)
    party: NDArray[np.int64]  # codes into ``parties``
    category: NDArray[np.int64]  # codes into the rules' categories; -1 for unknown
    count: NDArray[np.int64]
    calibre: NDArray[np.float64]  # NaN where not given
    range_km: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    t: NDArray[np.int64]  # microseconds since the epoch
    source: NDArray[np.int64]  # codes into SOURCES
    parties: tuple[str, ...]

    @classmethod
    def from_rows(cls, rows: Sequence[Observation], categories: Sequence[str]) -> Observations:
        parties = tuple(sorted({row.party for row in rows}))
        party_code = {p: i for i, p in enumerate(parties)}
        category_code = {c: i for i, c in enumerate(categories)}
        source_code = {s: i for i, s in enumerate(SOURCES)}
        units: dict[tuple[str, str, str], int] = {}
        n = len(rows)
        nan = float("nan")
        return cls(
            ids=np.array([row.id for row in rows], dtype=object),
            unit=np.fromiter(
                (units.setdefault((r.reporter, r.party, r.unit), len(units)) for r in rows),
                dtype=np.int64,
                count=n,
            ),
            party=np.fromiter((party_code[r.party] for r in rows), dtype=np.int64, count=n),
            category=np.fromiter(
                (category_code.get(r.category, -1) for r in rows), dtype=np.int64, count=n
            ),
            count=np.fromiter((r.count for r in rows), dtype=np.int64, count=n),
            calibre=np.fromiter(
                (nan if r.calibre_mm is None else r.calibre_mm for r in rows),
                dtype=np.float64,
                count=n,
            ),
            range_km=np.fromiter(
                (nan if r.range_km is None else r.range_km for r in rows),
                dtype=np.float64,
                count=n,
            ),
            x=np.fromiter((r.lon for r in rows), dtype=np.float64, count=n),
            y=np.fromiter((r.lat for r in rows), dtype=np.float64, count=n),
            t=np.fromiter((micros(r.observed_at) for r in rows), dtype=np.int64, count=n),
            source=np.fromiter((source_code[r.source] for r in rows), dtype=np.int64, count=n),
            parties=parties,
        )

    def take(self, index: NDArray[np.int64]) -> Observations:
        return Observations(
            ids=self.ids[index],
            unit=self.unit[index],
            party=self.party[index],
            category=self.category[index],
            count=self.count[index],
            calibre=self.calibre[index],
            range_km=self.range_km[index],
            x=self.x[index],
            y=self.y[index],
            t=self.t[index],
            source=self.source[index],
            parties=self.parties,
        )


def micros(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class Baseline:
    """A party's frozen holdings at ``at``, accepted by the supervisor: (zone, category) ->
    count."""

    id: str
    party: str
    at: datetime
    counts: Mapping[tuple[str, str], int]


@dataclass(frozen=True)
class AgreedException:
    """A mutual-consent exception, signed by both parties and the supervisor: ``party`` may
    hold up to ``max_count`` of ``category`` in ``zone`` from ``valid_from`` until
    ``valid_until``."""

    id: str
    party: str
    zone: str
    category: str
    max_count: int
    valid_from: datetime
    valid_until: datetime

    def in_force(self, at: datetime) -> bool:
        return self.valid_from <= at < self.valid_until


@dataclass(frozen=True)
class Holding:
    party: str
    zone: str
    category: str
    count: int


@dataclass(frozen=True)
class Candidate:
    rule: str
    party: str
    zone: str
    category: str
    # What was measured: the sum of counts, the largest calibre or range, or the number of
    # steps of tracks that cross the other side's line.
    measure: str
    limit: float
    value: float
    observations: tuple[str, ...]
    exception: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "party": self.party,
            "zone": self.zone,
            "category": self.category,
            "measure": self.measure,
            "limit": _number(self.limit),
            "value": _number(self.value),
            "observations": list(self.observations),
            "exception": self.exception,
        }


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


@dataclass(frozen=True)
class Compliance:
    holdings: tuple[Holding, ...]
    candidates: tuple[Candidate, ...]
    checks: int = field(default=0, compare=False)  # holding x zone tests made

    def as_dict(self) -> dict[str, Any]:
        return {
            "holdings": [h.__dict__ for h in self.holdings],
            "candidates": [c.as_dict() for c in self.candidates],
        }


def current_holdings(
    observations: Observations, *, at: datetime, source: str
) -> tuple[Observations, Observations]:
    """The latest observation of each unit at or before ``at`` in the source class, with a
    count above 0; and every observation of the class up to ``at`` (for tracks)."""
    codes = [SOURCES.index(s) for s in SOURCE_CLASSES[source]]
    mask = (observations.t <= micros(at)) & np.isin(observations.source, codes)
    upto = observations if mask.all() else observations.take(np.flatnonzero(mask))
    if len(upto.t) == 0:
        return upto, upto
    order = np.lexsort((np.arange(len(upto.t)), upto.t, upto.unit))
    last = np.ones(len(order), dtype=bool)
    last[:-1] = upto.unit[order][1:] != upto.unit[order][:-1]
    latest = order[last]
    latest = np.sort(latest[upto.count[latest] > 0])
    if len(latest) == len(upto.t):  # every observation is its unit's latest, and held
        return upto, upto
    return upto.take(latest), upto


def _memberships(
    geometry: Geometry, x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(holding index, zone index) for every holding in every zone it intersects."""
    holdings: list[NDArray[np.int64]] = []
    zones: list[NDArray[np.int64]] = []
    for z, zone in enumerate(geometry.zones):
        west, south, east, north = zone.geometry.bounds
        near = np.flatnonzero((x >= west) & (x <= east) & (y >= south) & (y <= north))
        if len(near) == 0:
            continue
        if geometry.grids:
            verdict = geometry.grids[z].classify(x[near], y[near])
            edge = near[verdict == BOUNDARY]
            exact = edge[shapely.intersects_xy(zone.geometry, x[edge], y[edge])]
            inside = np.sort(np.concatenate([near[verdict == INSIDE], exact]))
        else:
            inside = near[shapely.intersects_xy(zone.geometry, x[near], y[near])]
        holdings.append(inside)
        zones.append(np.full(len(inside), z, dtype=np.int64))
    if not holdings:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(holdings), np.concatenate(zones)


def compliance(
    geometry: Geometry,
    observations: Observations,
    baselines: Sequence[Baseline],
    exceptions: Sequence[AgreedException],
    rules: DeescalationRules,
    *,
    at: datetime,
    source: str,
) -> Compliance:
    held, upto = current_holdings(observations, at=at, source=source)
    parties = observations.parties
    categories = rules.categories
    n_zones, n_categories = len(geometry.zones), len(categories)
    h, z = _memberships(geometry, held.x, held.y)
    known = held.category[h] >= 0
    h, z = h[known], z[known]
    key = (held.party[h] * n_zones + z) * n_categories + held.category[h]
    size = max(len(parties), 1) * n_zones * n_categories
    sums = np.bincount(key, weights=held.count[h], minlength=size).astype(np.int64)
    # The holdings of each (party, zone, category), grouped once by sorting on the key.
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]

    def members(group: int) -> NDArray[np.int64]:
        lo, hi = np.searchsorted(sorted_key, [group, group + 1])
        return np.asarray(h[order[lo:hi]], dtype=np.int64)

    def group(party: int, zone: int, category: int) -> int:
        return (party * n_zones + zone) * n_categories + category

    zone_ids = [zone.id for zone in geometry.zones]
    category_code = {c: i for i, c in enumerate(categories)}
    found: list[Candidate] = []

    def ids(index: NDArray[np.int64]) -> tuple[str, ...]:
        # In the observations' order (the order they were given in).
        return tuple(held.ids[np.sort(index)].tolist())

    for limit in rules.limits:
        for p, party in enumerate(parties):
            for zi in _zones_of(geometry, limit, party):
                for category in limit.categories:
                    c = category_code[category]
                    g = group(p, zi, c)
                    candidate = _limit_candidate(
                        limit, party, zone_ids[zi], category, sums[g], members(g), held, ids
                    )
                    if candidate is not None:
                        found.append(candidate)

    for p, party in enumerate(parties):
        # R5: in the other side's bands.
        for zi, zone in enumerate(geometry.zones):
            if zone.kind != "limitation" or zone.side in (None, party):
                continue
            for c, category in enumerate(categories):
                g = group(p, zi, c)
                if sums[g] > 0:
                    found.append(
                        Candidate(
                            "R5",
                            party,
                            zone.id,
                            category,
                            "count",
                            0,
                            int(sums[g]),
                            ids(members(g)),
                        )
                    )
        # R6: the freeze.
        baseline = _baseline_in_force(baselines, party, at)
        if baseline is not None:
            for zi, zone_id in enumerate(zone_ids):
                for c, category in enumerate(categories):
                    g = group(p, zi, c)
                    allowed = baseline.counts.get((zone_id, category), 0)
                    if sums[g] > allowed:
                        found.append(
                            Candidate(
                                "R6",
                                party,
                                zone_id,
                                category,
                                "count",
                                allowed,
                                int(sums[g]),
                                ids(members(g)),
                            )
                        )
    found.extend(_crossings(geometry, upto, categories))
    covered = [_covered(c, exceptions, at) for c in found]
    holdings = tuple(
        Holding(
            parties[g // (n_zones * n_categories)],
            zone_ids[g // n_categories % n_zones],
            categories[g % n_categories],
            int(sums[g]),
        )
        for g in np.flatnonzero(sums > 0)
    )
    return Compliance(
        holdings=tuple(sorted(holdings, key=lambda x: (x.party, x.zone, x.category))),
        candidates=tuple(sorted(covered, key=_candidate_order)),
        checks=len(held.x) * n_zones,
    )


def _candidate_order(c: Candidate) -> tuple[str, str, str, str, str]:
    return (c.rule, c.party, c.zone, c.category, c.measure)


def _zones_of(geometry: Geometry, limit: Limit, party: str) -> list[int]:
    chosen = []
    for zi, zone in enumerate(geometry.zones):
        if limit.where == "separation":
            ok = zone.kind == "separation"
        elif limit.where == "own-bands":
            ok = zone.kind == "limitation" and zone.side == party and zone.band in limit.bands
        else:
            ok = zone.id == limit.zone and party == limit.party
        if ok:
            chosen.append(zi)
    return chosen


def _limit_candidate(
    limit: Limit,
    party: str,
    zone: str,
    category: str,
    total: int,
    index: NDArray[np.int64],
    held: Observations,
    ids: Any,
) -> Candidate | None:
    if limit.measure == "max_count":
        if total <= limit.value:
            return None
        return Candidate(
            limit.rule, party, zone, category, "count", limit.value, int(total), ids(index)
        )
    values = held.calibre if limit.measure == "max_calibre_mm" else held.range_km
    over = index[values[index] > limit.value]  # NaN compares False: not given, not over
    if len(over) == 0:
        return None
    measure = "calibre_mm" if limit.measure == "max_calibre_mm" else "range_km"
    return Candidate(
        limit.rule,
        party,
        zone,
        category,
        measure,
        limit.value,
        float(values[over].max()),
        ids(over),
    )


def _baseline_in_force(baselines: Sequence[Baseline], party: str, at: datetime) -> Baseline | None:
    chosen = [b for b in baselines if b.party == party and b.at <= at]
    return max(chosen, key=lambda b: (b.at, b.id), default=None)


def _crossings(
    geometry: Geometry, upto: Observations, categories: Sequence[str]
) -> list[Candidate]:
    """R5: steps of one unit's track, in time order, that cross the other side's line."""
    if len(upto.t) < 2 or not geometry.lines:
        return []
    # Steps exist only where a unit was seen more than once: look no further than those.
    units, seen = np.unique(upto.unit, return_counts=True)
    keep = np.isin(upto.unit, units[seen > 1]) & (upto.count > 0) & (upto.category >= 0)
    moving = upto.take(np.flatnonzero(keep))
    order = np.lexsort((np.arange(len(moving.t)), moving.t, moving.unit))
    same = moving.unit[order][1:] == moving.unit[order][:-1]
    start, end = order[:-1][same], order[1:][same]
    if len(start) == 0:
        return []
    steps = shapely.linestrings(
        np.stack([moving.x[start], moving.y[start], moving.x[end], moving.y[end]], axis=1).reshape(
            -1, 2, 2
        )
    )
    found: dict[tuple[str, str, str], set[str]] = {}
    counted: dict[tuple[str, str, str], int] = {}
    for side, line in sorted(geometry.lines.items()):
        inner = geometry.innermost_band(side)
        if inner is None:
            continue
        crossing = np.flatnonzero(
            shapely.intersects(line, steps) & (moving.party[start] != _code(moving, side))
        )
        for i in crossing:
            party = moving.parties[moving.party[start[i]]]
            category = categories[moving.category[start[i]]]
            key = (party, inner.id, category)
            found.setdefault(key, set()).update(
                (str(moving.ids[start[i]]), str(moving.ids[end[i]]))
            )
            counted[key] = counted.get(key, 0) + 1
    return [
        Candidate(
            "R5",
            party,
            zone,
            category,
            "crossings",
            0,
            counted[(party, zone, category)],
            tuple(sorted(found[(party, zone, category)])),
        )
        for party, zone, category in found
    ]


def _code(observations: Observations, party: str) -> int:
    return observations.parties.index(party) if party in observations.parties else -1


def _covered(
    candidate: Candidate, exceptions: Sequence[AgreedException], at: datetime
) -> Candidate:
    if candidate.measure != "count":
        return candidate
    for exception in sorted(exceptions, key=lambda e: e.id):
        if (
            exception.party == candidate.party
            and exception.zone == candidate.zone
            and exception.category == candidate.category
            and exception.in_force(at)
            and candidate.value <= exception.max_count
        ):
            return Candidate(
                candidate.rule,
                candidate.party,
                candidate.zone,
                candidate.category,
                candidate.measure,
                candidate.limit,
                candidate.value,
                candidate.observations,
                exception.id,
            )
    return candidate
