"""The geometry track's entry types. Values are signed: never rename or reuse one."""

from __future__ import annotations

from enum import StrEnum


class GeoEntry(StrEnum):
    GEO_FEATURE_DEFINED = "geo.feature.defined"
