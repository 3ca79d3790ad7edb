"""The demo scenario's geometry, as data.

Illustrative only, not the 1974 map: every feature built from this module carries
``authoritative: false`` until the parties replace it with agreed lines.

Coordinates are (lon, lat) in WGS84, as in GeoJSON, except where a name says otherwise.

The area of separation's ring runs north to south down its west edge and back north up its
east edge. Its southern tip is a short east-west edge (35.862 -> 35.864 E at 32.720 N, about
190 m) and its northern end another (35.868 -> 35.845 E at 33.425 N, about 2.1 km); neither
end edge belongs to a line. So the ring is split at the southern tip: its first 8 points
(33.425 N down to 32.720 N) are demo line A, the remaining 7 are demo line B, kept in ring
order, so line B runs south to north and ``LINE_A + LINE_B + LINE_A[:1]`` is the closed ring.
"""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry import Polygon, box

LonLat = tuple[float, float]

ALPHA = "ALPHA"
BRAVO = "BRAVO"
WEST_SIDE = ALPHA  # west of line A
EAST_SIDE = BRAVO  # east of line B

SEPARATION_ID = "area-of-separation"
SEPARATION_NAME = "Area of separation"

SEPARATION_RING: tuple[LonLat, ...] = (
    (35.845, 33.425),
    (35.800, 33.330),
    (35.785, 33.270),
    (35.800, 33.200),
    (35.812, 33.125),
    (35.835, 33.030),
    (35.855, 32.900),
    (35.862, 32.720),
    (35.864, 32.720),
    (35.870, 32.900),
    (35.880, 33.030),
    (35.895, 33.125),
    (35.880, 33.200),
    (35.822, 33.270),
    (35.868, 33.425),
    (35.845, 33.425),
)

LINE_A: tuple[LonLat, ...] = SEPARATION_RING[:8]
LINE_B: tuple[LonLat, ...] = SEPARATION_RING[8:-1]
LINE_A_ID, LINE_A_NAME = "line-a", "Line A"
LINE_B_ID, LINE_B_NAME = "line-b", "Line B"

# The demo geometry's provenance, as geometry version 1 records it.
SOURCE = "Demo scenario (fusioncell DESIGN.md): illustrative lines, not the 1974 map."


@dataclass(frozen=True)
class Bounds:
    west: float
    south: float
    east: float
    north: float


SECTOR_S_ID = "sector-s"
SECTOR_S_NAME = "Sector S"
SECTOR_S_SIDE = BRAVO  # BRAVO's heavy-weapons-free commitment (C3)
SECTOR_S_BOUNDS = Bounds(west=35.87, south=32.60, east=36.30, north=33.35)


@dataclass(frozen=True)
class ProtectedSite:
    id: str
    name: str
    lat: float
    lon: float


PROTECTED_SITES: tuple[ProtectedSite, ...] = (
    ProtectedSite("un-post-hermon", "UN post Hermon", 33.4161, 35.8575),
    ProtectedSite("quneitra-crossing", "Quneitra crossing", 33.1256, 35.8239),
    ProtectedSite("majdal-shams", "Majdal Shams", 33.267, 35.767),
    ProtectedSite("hader", "Hader", 33.2794, 35.8303),
    ProtectedSite("madinat-al-baath-clinic", "Madinat al-Baath clinic", 33.17, 35.87),
    ProtectedSite("suwayda-hospital", "Suwayda hospital", 32.7125, 36.5667),
    ProtectedSite("daraa-warehouse", "Daraa warehouse", 32.617, 36.100),
)


def separation_area() -> Polygon:
    return Polygon(SEPARATION_RING)


def sector_s() -> Polygon:
    b = SECTOR_S_BOUNDS
    return box(b.west, b.south, b.east, b.north)
