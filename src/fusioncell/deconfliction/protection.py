"""What the registry, the no-strike lists, incidents and early warning share: who may do what
(what a member may *see* is in the SQL of ``queries.registry`` and ``queries.incidents``),
their part of the deconfliction rules, and measuring in metres.

The rules are the ``[protection]`` table of the deconfliction rules document
(``rules.toml``): bound into every entry with the rest, the same for every party (R13).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shapely.errors import ShapelyError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from fusioncell.cell.models import OrganisationKind, Role
from fusioncell.cell.policy import COUNTERSIGNING_ROLE, Permission, Viewer, can
from fusioncell.deconfliction.conflicts import Frame
from fusioncell.deconfliction.rules import DECONFLICTION_RULES, DeconflictionRules
from fusioncell.errors import Forbidden, InvalidInput, NotAuthenticated
from fusioncell.hotline.rules import PRECEDENCES
from fusioncell.ledger.context import ledger_context
from fusioncell.text import N_

# -- who may do what ------------------------------------------------------------------------


def may_read(viewer: Viewer | None) -> bool:
    """The same rule as reading the bodies of the track's entries, so every path agrees:
    whoever reads the cell's traffic (never the operator or the auditor)."""
    return can(viewer, Permission.MESSAGE_READ)


def speaks_for_organisation(viewer: Viewer) -> bool:
    """The member holds its organisation's lead role (a party's liaison officer, the
    supervisor, the verifier, a host or humanitarian organisation's observer): it proposes
    places for its organisation."""
    return (
        not viewer.is_console
        and may_read(viewer)
        and COUNTERSIGNING_ROLE[viewer.organisation_kind] in viewer.roles
    )


def is_party_officer(viewer: Viewer) -> bool:
    """A party's liaison officer: it signs for the party and is its focal point."""
    return viewer.organisation_kind == OrganisationKind.PARTY and Role.LIAISON in viewer.roles


def is_supervisor(viewer: Viewer) -> bool:
    return (
        viewer.organisation_kind == OrganisationKind.SUPERVISOR and Role.SUPERVISOR in viewer.roles
    )


def may_sign_places(viewer: Viewer) -> bool:
    """The signatories: each party's liaison officer and the supervisor."""
    return not viewer.is_console and (is_party_officer(viewer) or is_supervisor(viewer))


def may_report_incidents(viewer: Viewer) -> bool:
    """The humanitarian organisation's observers, the verifier and a party's liaison officer."""
    if viewer.is_console:
        return False
    return (
        (
            viewer.organisation_kind == OrganisationKind.HUMANITARIAN
            and Role.OBSERVER in viewer.roles
        )
        or (viewer.organisation_kind == OrganisationKind.VERIFIER and Role.VERIFIER in viewer.roles)
        or is_party_officer(viewer)
    )


def may_acknowledge_alerts(viewer: Viewer) -> bool:
    """Who answers for a recipient organisation: a party's liaison or duty officer, the
    supervisor's chair or duty officer, a humanitarian organisation's observer."""
    if viewer.is_console or not may_read(viewer):
        return False
    kind = viewer.organisation_kind
    if kind == OrganisationKind.PARTY:
        return bool({Role.LIAISON, Role.DUTY_OFFICER} & viewer.roles)
    if kind == OrganisationKind.SUPERVISOR:
        return bool({Role.SUPERVISOR, Role.DUTY_OFFICER} & viewer.roles)
    return kind == OrganisationKind.HUMANITARIAN and Role.OBSERVER in viewer.roles


def require(viewer: Viewer | None, allowed: bool, what: str) -> Viewer:
    if viewer is None:
        raise NotAuthenticated()
    if not allowed:
        raise Forbidden(what)
    return viewer


# -- the rules ------------------------------------------------------------------------------


class ProtectionRulesError(ValueError):
    """The ``[protection]`` table of the deconfliction rules is malformed."""


@dataclass(frozen=True)
class ProtectionRules:
    # Early warning: how near a protected community an incident, an observation or a
    # notification raises an alert, and the hotline precedence the alert goes out at.
    early_warning_m: float
    alert_precedence: str
    # The weekly no-strike list: the ISO weekday and UTC hour it is sent, and how long the
    # party's focal point has to acknowledge it.
    no_strike_weekday: int
    no_strike_hour: int
    no_strike_ack: timedelta
    # Limits on what a proposal or a report may hold.
    max_name_chars: int
    max_note_chars: int
    max_description_chars: int
    max_vertices: int
    max_community_km2: float
    max_evidence: int
    max_incident_age: timedelta


DEFAULTS: dict[str, Any] = {
    "early_warning_m": 5000,
    "alert_precedence": "IMMEDIATE",
    "no_strike_weekday": 1,
    "no_strike_hour": 6,
    "no_strike_ack_hours": 24,
    "max_name_chars": 200,
    "max_note_chars": 500,
    "max_description_chars": 2000,
    "max_vertices": 5000,
    "max_community_km2": 2000,
    "max_evidence": 20,
    "max_incident_age_days": 366,
}


def _whole(table: dict[str, Any], name: str, low: int, high: int) -> int:
    value = table[name]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ProtectionRulesError(f"protection.{name} is a whole number from {low} to {high}")
    return value


def parse_protection(table: dict[str, Any]) -> ProtectionRules:
    """The ``[protection]`` table, each value the default where it names none."""
    if not isinstance(table, dict):
        raise ProtectionRulesError("protection is a table")
    unknown = set(table) - set(DEFAULTS)
    if unknown:
        raise ProtectionRulesError(f"protection has no {', '.join(sorted(unknown))}")
    merged = {**DEFAULTS, **table}
    precedence = merged["alert_precedence"]
    if precedence not in PRECEDENCES:
        raise ProtectionRulesError(f"protection.alert_precedence is one of {PRECEDENCES}")
    return ProtectionRules(
        early_warning_m=_whole(merged, "early_warning_m", 0, 100_000),
        alert_precedence=precedence,
        no_strike_weekday=_whole(merged, "no_strike_weekday", 1, 7),
        no_strike_hour=_whole(merged, "no_strike_hour", 0, 23),
        no_strike_ack=timedelta(hours=_whole(merged, "no_strike_ack_hours", 1, 24 * 14)),
        max_name_chars=_whole(merged, "max_name_chars", 1, 1000),
        max_note_chars=_whole(merged, "max_note_chars", 0, 10_000),
        max_description_chars=_whole(merged, "max_description_chars", 1, 20_000),
        max_vertices=_whole(merged, "max_vertices", 4, 100_000),
        max_community_km2=_whole(merged, "max_community_km2", 1, 100_000),
        max_evidence=_whole(merged, "max_evidence", 0, 1000),
        max_incident_age=timedelta(days=_whole(merged, "max_incident_age_days", 1, 3660)),
    )


# Parsed once per rules document (by its hash): a few documents in a process's life.
_PARSED: dict[str, ProtectionRules] = {}


def _parsed(rules: DeconflictionRules) -> ProtectionRules:
    found = _PARSED.get(rules.hash)
    if found is None:
        found = _PARSED[rules.hash] = parse_protection(rules.document.get("protection", {}))
    return found


def deconfliction_rules(db: Session) -> DeconflictionRules:
    return ledger_context(db).rules(DECONFLICTION_RULES)


def protection_rules(db: Session) -> ProtectionRules:
    """The protection rules in force (the log's rules document)."""
    return _parsed(deconfliction_rules(db))


# -- geometry -------------------------------------------------------------------------------

_BAD_GEOMETRY = N_("The geometry is not a valid GeoJSON %(kinds)s.")
_OUT_OF_RANGE = N_("Positions are longitude, latitude in degrees.")
_TOO_MANY = N_("The geometry has more than %(limit)s positions.")


def _positions(coordinates: Any) -> int:
    """How many RFC 7946 positions (two or three finite numbers) ``coordinates`` nests;
    raises ValueError on anything else."""
    if not isinstance(coordinates, list) or not coordinates:
        raise ValueError
    if all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates):
        if not 2 <= len(coordinates) <= 3 or not all(math.isfinite(c) for c in coordinates):
            raise ValueError
        return 1
    return sum(_positions(c) for c in coordinates)


def _rings_closed(geometry: dict[str, Any]) -> bool:
    polygons = {"Polygon": [geometry["coordinates"]], "MultiPolygon": geometry["coordinates"]}
    for polygon in polygons.get(geometry["type"], []):
        for ring in polygon:
            if len(ring) < 4 or ring[0] != ring[-1]:
                return False
    return True


def checked_geometry(
    value: Any, kinds: tuple[str, ...], *, field: str, max_vertices: int
) -> BaseGeometry:
    """An RFC 7946 geometry of one of ``kinds``: valid, closed, in range; raises InvalidInput
    naming the field."""
    names = " or ".join(kinds)
    try:
        if not isinstance(value, dict) or value.get("type") not in kinds:
            raise ValueError
        count = _positions(value.get("coordinates"))
        if set(value) - {"type", "coordinates", "bbox"}:
            raise ValueError
    except ValueError:
        raise InvalidInput(N_(_BAD_GEOMETRY, kinds=names), field=field) from None
    if count > max_vertices:
        raise InvalidInput(N_(_TOO_MANY, limit=max_vertices), field=field, limit=max_vertices)
    if not _rings_closed(value):
        raise InvalidInput(N_(_BAD_GEOMETRY, kinds=names), field=field)
    try:
        parsed = shape(value)
    except (KeyError, TypeError, ValueError, AttributeError, ShapelyError):
        raise InvalidInput(N_(_BAD_GEOMETRY, kinds=names), field=field) from None
    if parsed.is_empty or not parsed.is_valid:
        raise InvalidInput(N_(_BAD_GEOMETRY, kinds=names), field=field)
    minx, miny, maxx, maxy = parsed.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidInput(_OUT_OF_RANGE, field=field)
    return parsed


@dataclass(frozen=True)
class Metric:
    """Lengths in metres in the rules' transverse Mercator projection (the conflict check's
    ``Frame``), so early warning and the conflict check measure alike."""

    frame: Frame

    def project(self, geometry: BaseGeometry) -> BaseGeometry:
        projected: BaseGeometry = self.frame.to_metric([geometry])[0]
        return projected

    def distance_m(self, a: BaseGeometry, b: BaseGeometry) -> float:
        return float(self.project(a).distance(self.project(b)))

    def area_km2(self, geometry: BaseGeometry) -> float:
        return float(self.project(geometry).area) / 1e6


def metric(db: Session) -> Metric:
    return Metric(Frame.of(deconfliction_rules(db)))
