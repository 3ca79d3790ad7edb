"""The conflict check (DESIGN R10), vectorised: each notification's geometry, buffered, over
its time window, against protected sites and communities, against the other notifications
that overlap it in space and time, and against the zones where its kind is forbidden.

A pure function of its inputs (the notifications as the log states them, the protected
places and zones in force, the rules), so ``fusioncell verify`` recomputes every conflict
the cell stated (``replay.py``).

Distances are in metres, measured in the rules' transverse Mercator projection (``Frame``;
the same kind of local frame the geometry track derives its bands in): every geometry is
projected once, and a distance is the planar distance between two projected geometries,
rounded to the decimetre. Two things conflict when that distance is at most the clearance
their buffers ask for together (``required_m``): the two buffers for a protected place or
another notification, nothing for a forbidden zone (touching it is a conflict).

Candidates come from shapely 2's STRtree (protected places: ``dwithin`` queries with each
geometry's own reach; other notifications: envelopes grown by the largest clearance, then the
kinds and the time windows compared as arrays before any exact distance), and every candidate
pair is decided by arrays (numpy), never by a Python loop over pairs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from fusioncell.deconfliction.models import ConflictWith
from fusioncell.deconfliction.rules import DeconflictionRules
from fusioncell.ledger.entries import log_time

# Distances are stated to the decimetre: enough for a buffer in metres, and the same on
# every machine that recomputes them.
DECIMALS = 1
ROUNDING = 0.1


@dataclass(frozen=True)
class Frame:
    """The rules' metric frame: a transverse Mercator projection centred on (lat_0, lon_0)."""

    lat_0: float
    lon_0: float

    @property
    def _forward(self) -> Transformer:
        return _transformer(self.lat_0, self.lon_0)

    def to_metric(self, geometries: Sequence[BaseGeometry]) -> NDArray[Any]:
        """All geometries in one projection call (their coordinates concatenated)."""
        array = np.asarray(geometries, dtype=object)
        if array.size == 0:
            return array
        projected: NDArray[Any] = shapely.transform(
            array, self._forward.transform, interleaved=False
        )
        return projected

    def parse(self, geometries: Sequence[Mapping[str, Any]]) -> NDArray[Any]:
        """RFC 7946 geometries, parsed in one call and projected in another."""
        if not geometries:
            return np.asarray([], dtype=object)
        parsed = shapely.from_geojson([json.dumps(g) for g in geometries])
        return self.to_metric(list(parsed))

    @classmethod
    def of(cls, rules: DeconflictionRules) -> Frame:
        return cls(rules.lat_0, rules.lon_0)


@cache
def _transformer(lat_0: float, lon_0: float) -> Transformer:
    crs = CRS.from_proj4(
        f"+proj=tmerc +lat_0={lat_0} +lon_0={lon_0} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 "
        "+units=m +no_defs"
    )
    return Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True)


@dataclass(frozen=True)
class Subject:
    """A notification as the check sees it."""

    id: str
    kind: str
    geometry: Mapping[str, Any]  # RFC 7946, lon/lat
    buffer_m: float
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Protected:
    """A protected site or community: its id as conflicts name it, and its own buffer."""

    id: str
    name: str
    geometry: Mapping[str, Any]
    buffer_m: float


@dataclass(frozen=True)
class Zone:
    id: str
    kind: str  # separation, limitation, sector
    geometry: Mapping[str, Any]
    name: str = ""


@dataclass(frozen=True)
class Conflict:
    with_: str  # ConflictWith
    id: str
    distance_m: float
    required_m: float
    overlap_from: datetime
    overlap_until: datetime

    @property
    def key(self) -> tuple[str, str]:
        return (self.with_, self.id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "with": str(self.with_),
            "id": self.id,
            "distance_m": self.distance_m,
            "required_m": self.required_m,
            "from": log_time(self.overlap_from),
            "until": log_time(self.overlap_until),
        }


def _seconds(moment: datetime) -> float:
    return moment.timestamp()


def _round(values: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.round(values, DECIMALS)


@dataclass
class _Places:
    """Protected places or zones as arrays, with their tree."""

    ids: list[str]
    geometries: NDArray[Any]
    buffers: NDArray[np.float64]
    tree: shapely.STRtree = field(init=False)

    def __post_init__(self) -> None:
        self.tree = shapely.STRtree(self.geometries)

    @property
    def reach(self) -> float:
        return float(self.buffers.max()) if self.buffers.size else 0.0


class ConflictIndex:
    """The notifications, protected places and zones, projected and indexed once; asked for
    the conflicts of every notification (``check_all``) or of some (``check``)."""

    def __init__(
        self,
        subjects: Sequence[Subject],
        protected: Sequence[Protected],
        zones: Sequence[Zone],
        rules: DeconflictionRules,
        *,
        metric: Mapping[str, BaseGeometry] | None = None,
    ) -> None:
        self.rules = rules
        self.frame = Frame.of(rules)
        self.subjects = list(subjects)
        self.position = {s.id: i for i, s in enumerate(self.subjects)}
        self.kinds = np.array([s.kind for s in self.subjects], dtype=object)
        self.buffers = np.array([float(s.buffer_m) for s in self.subjects], dtype=np.float64)
        self.starts = np.array([_seconds(s.starts_at) for s in self.subjects], dtype=np.float64)
        self.ends = np.array([_seconds(s.ends_at) for s in self.subjects], dtype=np.float64)
        known = metric or {}
        missing = [s for s in self.subjects if s.id not in known]
        projected = dict(
            zip(
                (s.id for s in missing),
                self.frame.parse([s.geometry for s in missing]),
                strict=True,
            )
        )
        self.geometries = np.array(
            [known[s.id] if s.id in known else projected[s.id] for s in self.subjects],
            dtype=object,
        )
        self.tree = shapely.STRtree(self.geometries)
        self.reach = float(self.buffers.max()) if self.buffers.size else 0.0
        self.protected = _Places(
            [p.id for p in protected],
            self.frame.parse([p.geometry for p in protected]),
            np.array([float(p.buffer_m) for p in protected], dtype=np.float64),
        )
        self.zones: list[tuple[frozenset[str], _Places]] = []
        for rule in rules.forbidden:
            chosen = [z for z in zones if z.kind in rule.zone_kinds]
            self.zones.append(
                (
                    frozenset({rule.kind}),
                    _Places(
                        [z.id for z in chosen],
                        self.frame.parse([z.geometry for z in chosen]),
                        np.zeros(len(chosen), dtype=np.float64),
                    ),
                )
            )
        # Which kinds conflict with which: a boolean matrix over the kinds present.
        self._kind_names = sorted(set(self.kinds.tolist()) | {k for p in rules.pairs for k in p})
        code = {k: i for i, k in enumerate(self._kind_names)}
        self.kind_codes = np.array([code[k] for k in self.kinds.tolist()], dtype=np.int64)
        self.pair_allowed = np.zeros((len(code), len(code)), dtype=bool)
        for pair in rules.pairs:
            a, b = sorted(pair) if len(pair) == 2 else (next(iter(pair)),) * 2
            self.pair_allowed[code[a], code[b]] = self.pair_allowed[code[b], code[a]] = True
        self.site_kind = np.array([k in rules.site_kinds for k in self.kinds.tolist()], dtype=bool)

    def metric(self) -> dict[str, BaseGeometry]:
        """Each notification's projected geometry, to build the next index without
        projecting again."""
        return {s.id: g for s, g in zip(self.subjects, self.geometries, strict=True)}

    # -- the check ------------------------------------------------------------------------

    def check_all(self) -> dict[str, list[Conflict]]:
        return self.check(np.arange(len(self.subjects), dtype=np.int64))

    def check_ids(self, ids: Iterable[str]) -> dict[str, list[Conflict]]:
        chosen = np.array([self.position[i] for i in ids], dtype=np.int64)
        return self.check(chosen)

    def check(self, chosen: NDArray[np.int64]) -> dict[str, list[Conflict]]:
        """The conflicts of the notifications at positions ``chosen``, each list sorted by
        what it conflicts with (sites, notifications, zones) and then by id."""
        found: dict[str, list[Conflict]] = {self.subjects[i].id: [] for i in chosen.tolist()}
        if chosen.size == 0:
            return found
        self._against_places(chosen, found)
        self._against_notifications(chosen, found)
        self._against_zones(chosen, found)
        for conflicts in found.values():
            conflicts.sort(key=lambda c: (ORDER[c.with_], c.id))
        return found

    def _against_places(self, chosen: NDArray[np.int64], found: dict[str, list[Conflict]]) -> None:
        places = self.protected
        mine = chosen[self.site_kind[chosen]]
        if mine.size == 0 or not places.ids:
            return
        # A little more than the clearance: a distance that rounds down to it conflicts.
        reach = self.buffers[mine] + places.reach + ROUNDING
        pairs = places.tree.query(self.geometries[mine], predicate="dwithin", distance=reach)
        subject, place = mine[pairs[0]], pairs[1]
        distance = _round(shapely.distance(self.geometries[subject], places.geometries[place]))
        required = self.buffers[subject] + places.buffers[place]
        keep = distance <= required
        for i, p, d, r in zip(
            subject[keep].tolist(),
            place[keep].tolist(),
            distance[keep].tolist(),
            required[keep].tolist(),
            strict=True,
        ):
            s = self.subjects[i]
            found[s.id].append(
                Conflict(ConflictWith.SITE, places.ids[p], d, r, s.starts_at, s.ends_at)
            )

    def _against_notifications(
        self, chosen: NDArray[np.int64], found: dict[str, list[Conflict]]
    ) -> None:
        """Candidates by their envelopes grown by the largest clearance they could need
        (no exact distance yet); then the kinds and the time windows, as arrays; then the
        exact distance, only for the pairs left."""
        reach = self.buffers[chosen] + self.reach
        bounds = shapely.bounds(self.geometries[chosen])
        boxes = shapely.box(
            bounds[:, 0] - reach, bounds[:, 1] - reach, bounds[:, 2] + reach, bounds[:, 3] + reach
        )
        pairs = self.tree.query(boxes)
        a, b = chosen[pairs[0]], pairs[1]
        keep = a != b
        keep &= self.pair_allowed[self.kind_codes[a], self.kind_codes[b]]
        keep &= (self.starts[a] < self.ends[b]) & (self.starts[b] < self.ends[a])
        a, b = a[keep], b[keep]
        distance = _round(shapely.distance(self.geometries[a], self.geometries[b]))
        required = self.buffers[a] + self.buffers[b]
        keep = distance <= required
        a, b, distance, required = a[keep], b[keep], distance[keep], required[keep]
        # The overlap begins with the later start and ends with the earlier end.
        since = np.where(self.starts[a] >= self.starts[b], a, b)
        until = np.where(self.ends[a] <= self.ends[b], a, b)
        subjects = self.subjects
        for i, j, d, r, f, u in zip(
            a.tolist(),
            b.tolist(),
            distance.tolist(),
            required.tolist(),
            since.tolist(),
            until.tolist(),
            strict=True,
        ):
            found[subjects[i].id].append(
                Conflict(
                    ConflictWith.NOTIFICATION,
                    subjects[j].id,
                    d,
                    r,
                    subjects[f].starts_at,
                    subjects[u].ends_at,
                )
            )

    def _against_zones(self, chosen: NDArray[np.int64], found: dict[str, list[Conflict]]) -> None:
        for kinds, zones in self.zones:
            mine = chosen[np.isin(self.kinds[chosen], list(kinds))]
            if mine.size == 0 or not zones.ids:
                continue
            pairs = zones.tree.query(self.geometries[mine], predicate="intersects")
            for i, z in zip(mine[pairs[0]].tolist(), pairs[1].tolist(), strict=True):
                s = self.subjects[i]
                found[s.id].append(
                    Conflict(ConflictWith.ZONE, zones.ids[z], 0.0, 0.0, s.starts_at, s.ends_at)
                )


ORDER: dict[str, int] = {ConflictWith.SITE: 0, ConflictWith.NOTIFICATION: 1, ConflictWith.ZONE: 2}


def conflicts_of(
    subjects: Sequence[Subject],
    protected: Sequence[Protected],
    zones: Sequence[Zone],
    rules: DeconflictionRules,
    *,
    ids: Iterable[str] | None = None,
) -> dict[str, list[Conflict]]:
    """The conflicts of the notifications named (default: all)."""
    index = ConflictIndex(subjects, protected, zones, rules)
    return index.check_all() if ids is None else index.check_ids(ids)


def status_of(conflicts: Sequence[Conflict], noted: Iterable[tuple[str, str]]) -> str:
    """clear, noted (every conflict noted by the sender) or flagged."""
    if not conflicts:
        return "clear"
    seen = set(noted)
    return "noted" if all(c.key in seen for c in conflicts) else "flagged"


def near_line(
    geometry: Mapping[str, Any], separation: Sequence[Mapping[str, Any]], rules: DeconflictionRules
) -> bool:
    """R8: whether a geometry lies within the rules' distance of a line, i.e. of the area of
    separation whose edges the lines are (inside it counts)."""
    if not separation:
        return False
    frame = Frame.of(rules)
    projected = frame.parse([geometry, *separation])
    distance = shapely.distance(projected[0], projected[1:])
    return bool(np.min(_round(np.asarray(distance, dtype=np.float64))) <= rules.near_line_m)
