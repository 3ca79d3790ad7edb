"""Areas of limitation derived from the area of separation, and their GeoJSON.

Distances are measured in a transverse Mercator projection centred on the area of
separation (scale factor 1 at the centre), not in UTM 36N: the demo area lies about 2.8
degrees east of UTM 36N's central meridian, where UTM lengths are about 0.04 % long (4 m
in 10 km), while the local projection stays within a few parts per million over the 25 km
buffer.

Which side a point of a band belongs to: beside the area of separation, the side of the line
it faces (west of line A, east of line B). Beyond the area's northern and southern end edges,
which belong to neither line, the band is split by the perpendicular bisector of that end
edge, i.e. each point goes to the side whose line end is nearer. That keeps the split
symmetric and leaves no strip between the two lines' extensions unassigned.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import shapely
from pyproj import CRS, Transformer
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiPolygon,
    Point,
    Polygon,
)
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from fusioncell.geo.kinds import FeatureKind
from fusioncell.scenario import geometry as demo

LonLat = tuple[float, float]

COORDINATE_DECIMALS = 6
# Segments per quarter circle in buffers: the chord between two buffer vertices sags
# d * (1 - cos(pi / 128)), i.e. 0.3 m at 10 km and 0.75 m at 25 km.
BUFFER_QUAD_SEGS = 64


@dataclass(frozen=True)
class DerivedZone:
    kind: FeatureKind
    band: str
    side: str
    geometry: Polygon | MultiPolygon

    @property
    def id(self) -> str:
        return f"{self.kind.value}-{self.side.lower()}-{self.band}"


@dataclass(frozen=True)
class MetricFrame:
    """A local transverse Mercator frame in metres, and the way back to lon/lat.

    ``shapely.transform`` rather than ``shapely.ops.transform``: shapely 2.2 deprecates the
    latter, and the test suite turns warnings into errors.
    """

    crs: CRS
    _forward: Transformer
    _inverse: Transformer

    def to_metric(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, self._forward.transform, interleaved=False)

    def to_lonlat(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, self._inverse.transform, interleaved=False)


def metric_frame(around: BaseGeometry) -> MetricFrame:
    # The centre is rounded so that the frame, and so every derived coordinate, does not
    # move with floating-point noise in the input.
    centre = around.centroid
    crs = CRS.from_proj4(
        f"+proj=tmerc +lat_0={centre.y:.3f} +lon_0={centre.x:.3f} +k=1 "
        "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    )
    wgs84 = CRS.from_epsg(4326)
    return MetricFrame(
        crs=crs,
        _forward=Transformer.from_crs(wgs84, crs, always_xy=True),
        _inverse=Transformer.from_crs(crs, wgs84, always_xy=True),
    )


def band_label(inner_km: float, outer_km: float) -> str:
    return f"{inner_km:g}-{outer_km:g}"


def derive_limitation_areas(
    separation: Polygon,
    *,
    west_line: Sequence[LonLat],
    east_line: Sequence[LonLat],
    bands_km: Sequence[float] = (10, 20, 25),
    west_side: str = demo.WEST_SIDE,
    east_side: str = demo.EAST_SIDE,
) -> list[DerivedZone]:
    """Bands between successive distances from the area of separation, split west / east.

    ``west_line`` and ``east_line`` must be the area's west and east edges, with the very
    coordinates of its ring (in either direction); the split follows them exactly. Zones come
    back band by band, west before east, in lon/lat rounded to ``COORDINATE_DECIMALS``.
    """
    if not separation.is_valid or separation.is_empty:
        raise ValueError("the area of separation must be a valid, non-empty polygon")
    if len(west_line) < 2 or len(east_line) < 2:
        raise ValueError("each line needs at least two points")
    if not bands_km or any(d <= 0 for d in bands_km):
        raise ValueError("band distances must be positive")
    if any(b <= a for a, b in itertools.pairwise(bands_km)):
        raise ValueError("band distances must increase")

    frame = metric_frame(separation)
    area = frame.to_metric(separation)
    reach = 4 * 1000 * max(bands_km) + math.hypot(
        area.bounds[2] - area.bounds[0], area.bounds[3] - area.bounds[1]
    )
    west_region = _west_region(frame, west_line, east_line, reach=reach)

    zones: list[DerivedZone] = []
    inner_km: float = 0
    inner = area
    for outer_km in bands_km:
        outer = area.buffer(outer_km * 1000, quad_segs=BUFFER_QUAD_SEGS)
        band = outer.difference(inner)
        label = band_label(inner_km, outer_km)
        for side, part in (
            (west_side, band.intersection(west_region)),
            (east_side, band.difference(west_region)),
        ):
            zones.append(
                DerivedZone(
                    kind=FeatureKind.LIMITATION,
                    band=label,
                    side=side,
                    geometry=_rounded_lonlat(frame, _polygonal(part)),
                )
            )
        inner_km, inner = outer_km, outer
    return zones


def _west_region(
    frame: MetricFrame,
    west_line: Sequence[LonLat],
    east_line: Sequence[LonLat],
    *,
    reach: float,
) -> Polygon:
    """Everything west of line A and of the end edges' bisectors, in metres."""
    a = _north_to_south(_metric_points(frame, west_line))
    b = _north_to_south(_metric_points(frame, east_line))
    north_mid, north_out = _bisector(a[0], b[0], outward=1)
    south_mid, south_out = _bisector(a[-1], b[-1], outward=-1)
    north_far = (north_mid[0] + reach * north_out[0], north_mid[1] + reach * north_out[1])
    south_far = (south_mid[0] + reach * south_out[0], south_mid[1] + reach * south_out[1])
    far_west = min(x for x, _ in (*a, *b, north_far, south_far)) - reach
    region = Polygon(
        [
            north_far,
            north_mid,
            *a,
            south_mid,
            south_far,
            (far_west, south_far[1]),
            (far_west, north_far[1]),
        ]
    )
    if not region.is_valid:
        raise ValueError("the lines do not bound the area of separation west and east")
    return region


def _metric_points(frame: MetricFrame, line: Sequence[LonLat]) -> list[LonLat]:
    return [(p.x, p.y) for p in (frame.to_metric(Point(lon, lat)) for lon, lat in line)]


def _north_to_south(points: list[LonLat]) -> list[LonLat]:
    return points if points[0][1] >= points[-1][1] else points[::-1]


def _bisector(west_end: LonLat, east_end: LonLat, *, outward: int) -> tuple[LonLat, LonLat]:
    """Midpoint of an end edge and the unit normal pointing away from the area."""
    mid = ((west_end[0] + east_end[0]) / 2, (west_end[1] + east_end[1]) / 2)
    ex, ey = east_end[0] - west_end[0], east_end[1] - west_end[1]
    length = math.hypot(ex, ey)
    if length == 0:  # the lines meet: go due north or south
        return mid, (0.0, float(outward))
    # Left of a west-to-east edge is north; right is south.
    return mid, (-ey * outward / length, ex * outward / length)


def _polygonal(geometry: BaseGeometry) -> Polygon | MultiPolygon:
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    parts: list[Polygon] = []
    for part in getattr(geometry, "geoms", ()):
        if isinstance(part, Polygon):
            parts.append(part)
        elif isinstance(part, MultiPolygon):
            parts.extend(part.geoms)
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _rounded_lonlat(frame: MetricFrame, geometry: BaseGeometry) -> Polygon | MultiPolygon:
    lonlat = frame.to_lonlat(geometry)
    return _polygonal(shapely.set_precision(lonlat, 10.0**-COORDINATE_DECIMALS))


@cache
def demo_limitation_areas() -> tuple[DerivedZone, ...]:
    return tuple(
        derive_limitation_areas(
            demo.separation_area(), west_line=demo.LINE_A, east_line=demo.LINE_B
        )
    )


# GeoJSON (RFC 7946)


def feature(geometry: BaseGeometry, properties: Mapping[str, Any]) -> dict[str, Any]:
    props = dict(properties)
    out: dict[str, Any] = {"type": "Feature"}
    if "id" in props:
        out["id"] = props["id"]
    out["geometry"] = _geojson_geometry(geometry)
    out["properties"] = props
    return out


def feature_collection(features: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [dict(f) for f in features]}


def _geojson_geometry(geometry: BaseGeometry) -> dict[str, Any]:
    if isinstance(geometry, GeometryCollection):
        return {
            "type": "GeometryCollection",
            "geometries": [_geojson_geometry(g) for g in geometry.geoms],
        }
    interface = _rfc7946_oriented(geometry).__geo_interface__
    return {"type": interface["type"], "coordinates": _rounded(interface["coordinates"])}


def _rfc7946_oriented(geometry: BaseGeometry) -> BaseGeometry:
    # RFC 7946 section 3.1.6: exterior rings counter-clockwise, holes clockwise.
    if isinstance(geometry, Polygon):
        return orient(geometry, sign=1.0)
    if isinstance(geometry, MultiPolygon):
        return MultiPolygon([orient(p, sign=1.0) for p in geometry.geoms])
    return geometry


def _rounded(coordinates: Any) -> Any:
    if isinstance(coordinates, float | int):
        return round(float(coordinates), COORDINATE_DECIMALS)
    return [_rounded(c) for c in coordinates]


def _properties(
    id: str, kind: FeatureKind, side: str | None, name: str, *, band: str | None = None
) -> dict[str, Any]:
    # Every feature has the same keys, so a consumer never has to ask whether "band" exists.
    return {
        "id": id,
        "kind": kind.value,
        "side": side,
        "band": band,
        "name": name,
        "authoritative": False,
    }


def demo_zone_features() -> list[dict[str, Any]]:
    features = [
        feature(
            demo.separation_area(),
            _properties(demo.SEPARATION_ID, FeatureKind.SEPARATION, None, demo.SEPARATION_NAME),
        )
    ]
    for zone in demo_limitation_areas():
        name = f"Area of limitation {zone.band} km ({zone.side})"
        features.append(
            feature(
                zone.geometry,
                _properties(zone.id, zone.kind, zone.side, name, band=zone.band),
            )
        )
    features.append(
        feature(
            demo.sector_s(),
            _properties(
                demo.SECTOR_S_ID, FeatureKind.SECTOR, demo.SECTOR_S_SIDE, demo.SECTOR_S_NAME
            ),
        )
    )
    return features


def demo_geometry_proposal() -> dict[str, Any]:
    """The demo geometry as a proposer sends it (geometry version 1): the area of
    separation, lines A and B, sector S and the protected sites; the limitation areas are
    derived when it is proposed."""
    lines = [
        feature(
            LineString(demo.LINE_A),
            _properties(demo.LINE_A_ID, FeatureKind.LINE, demo.WEST_SIDE, demo.LINE_A_NAME),
        ),
        feature(
            LineString(demo.LINE_B),
            _properties(demo.LINE_B_ID, FeatureKind.LINE, demo.EAST_SIDE, demo.LINE_B_NAME),
        ),
    ]
    zones = [f for f in demo_zone_features() if f["properties"]["kind"] != FeatureKind.LIMITATION]
    return feature_collection([*zones, *lines, *demo_site_features()])


def demo_site_features() -> list[dict[str, Any]]:
    return [
        feature(
            Point(site.lon, site.lat),
            _properties(site.id, FeatureKind.PROTECTED_SITE, None, site.name),
        )
        for site in demo.PROTECTED_SITES
    ]
