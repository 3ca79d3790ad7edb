"""The kinds of geographic feature: a closed vocabulary shared by tables and derivation."""

from __future__ import annotations

from enum import StrEnum


class FeatureKind(StrEnum):
    SEPARATION = "separation"
    LIMITATION = "limitation"
    SECTOR = "sector"
    PROTECTED_SITE = "protected_site"
    # A party's line: one edge of the area of separation (a geometry version's lines).
    LINE = "line"


ZONE_KINDS = frozenset({FeatureKind.SEPARATION, FeatureKind.LIMITATION, FeatureKind.SECTOR})
