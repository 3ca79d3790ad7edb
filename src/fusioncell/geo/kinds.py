"""The kinds of geographic feature: a closed vocabulary shared by tables and derivation."""

from __future__ import annotations

from enum import StrEnum


class FeatureKind(StrEnum):
    SEPARATION = "separation"
    LIMITATION = "limitation"
    SECTOR = "sector"
    PROTECTED_SITE = "protected_site"


ZONE_KINDS = frozenset({FeatureKind.SEPARATION, FeatureKind.LIMITATION, FeatureKind.SECTOR})
