"""The geometry track's entry types. Values are signed: never rename or reuse one."""

from __future__ import annotations

from enum import StrEnum

from fusioncell.cell.policy import Permission


class GeoEntry(StrEnum):
    GEO_FEATURE_DEFINED = "geo.feature.defined"


# The shared geometry: its audience (everyone) decides.
GEO_READ_PERMISSIONS: dict[StrEnum, Permission | None] = dict.fromkeys(GeoEntry)
