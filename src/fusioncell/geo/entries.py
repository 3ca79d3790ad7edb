"""The geometry track's entry types. Values are signed: never rename or reuse one."""

from __future__ import annotations

from enum import StrEnum

from fusioncell.cell.policy import Permission


class GeoEntry(StrEnum):
    # One feature at a time, before geometry was versioned: still verified in old logs, no
    # longer written.
    GEO_FEATURE_DEFINED = "geo.feature.defined"
    # A geometry version: its whole FeatureCollection (the limitation areas derived), its
    # content hash and the organisations whose signatures put it in force.
    GEO_VERSION_PROPOSED = "geo.version.proposed"
    # One signatory's signature over a version's content hash.
    GEO_VERSION_SIGNED = "geo.version.signed"


# The shared geometry: its audience (everyone) decides.
GEO_READ_PERMISSIONS: dict[StrEnum, Permission | None] = dict.fromkeys(GeoEntry)
