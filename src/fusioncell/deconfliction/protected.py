"""What notifications are checked against besides each other (R10): the protected places
(sites and communities) and the zones in force, each from a source that knows how to read
it now (for the cell's check) and how to follow it through the log (for ``fusioncell
verify``, which recomputes every check).

``SOURCES`` lists the protected places' sources: the geometry's protected sites, and the
registry's sites and communities in force (each with its own buffer, or the rules' for
sites). The zones come from the geometry in force.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from shapely.geometry import mapping
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deconfliction.conflicts import Protected, Zone
from fusioncell.deconfliction.entries import ProtectionEntry
from fusioncell.deconfliction.queries.registry import agreed_places_for_engine
from fusioncell.deconfliction.rules import DeconflictionRules
from fusioncell.geo.queries import list_sites, list_zones

GEO_DEFINED = "geo.feature.defined"
# A geometry version proposed, and each signatory's signature: the version is in force from
# the signature that completes its signatories (as ``fusioncell.geo`` follows them).
GEO_VERSION_PROPOSED = "geo.version.proposed"
GEO_VERSION_SIGNED = "geo.version.signed"
SITE_KIND = "protected_site"
ZONE_KINDS = frozenset({"separation", "limitation", "sector"})

# An entry's handler in a follower: (index, log time, body).
Handler = Callable[[int, datetime, Mapping[str, Any]], None]


class PlacesFollower(Protocol):
    """A source's places followed through the log, entry by entry."""

    @property
    def handlers(self) -> Mapping[str, Handler]:
        """The entry types it follows, and how."""
        ...

    def places(self, rules: DeconflictionRules) -> list[Protected]: ...


class PlacesSource(Protocol):
    def current(self, db: Session, reader: Viewer, rules: DeconflictionRules) -> list[Protected]:
        """The places in force now, as the cell's reader reads them."""
        ...

    def follower(self) -> PlacesFollower: ...


def _site(feature: Mapping[str, Any], rules: DeconflictionRules) -> Protected:
    properties = feature.get("properties") or {}
    identifier = str(properties.get("id") or feature.get("id"))
    return Protected(
        id=identifier,
        name=str(properties.get("name") or identifier),
        geometry=feature["geometry"],
        buffer_m=float(rules.site_buffer_m),
    )


def _zone(feature: Mapping[str, Any]) -> Zone:
    properties = feature.get("properties") or {}
    return Zone(
        id=str(properties.get("id") or feature.get("id")),
        kind=str(properties.get("kind")),
        geometry=feature["geometry"],
        name=str(properties.get("name") or properties.get("id") or feature.get("id")),
    )


class GeometryFollower:
    """The geometry in force followed through the log: the zones and protected sites of the
    ``geo.feature.defined`` entries (the last definition of each id), or, once a geometry
    version is in force, of that version's collection (as ``GET /api/v1/geo/zones`` and
    ``/sites`` serve them)."""

    def __init__(self) -> None:
        self._defined: dict[str, Mapping[str, Any]] = {}
        self._proposals: dict[str, Mapping[str, Any]] = {}
        self._signed: dict[str, set[str]] = {}
        self._in_force: Mapping[str, Any] | None = None
        self.handlers: dict[str, Handler] = {
            GEO_DEFINED: self._feature_defined,
            GEO_VERSION_PROPOSED: self._version_proposed,
            GEO_VERSION_SIGNED: self._version_signed,
        }

    def _feature_defined(self, index: int, at: datetime, body: Mapping[str, Any]) -> None:
        self._defined[str(body["id"])] = {
            "type": "Feature",
            "id": body["id"],
            "geometry": body["geometry"],
            "properties": {"id": body["id"], "kind": body["kind"], "name": body.get("name")},
        }

    def _version_proposed(self, index: int, at: datetime, body: Mapping[str, Any]) -> None:
        self._proposals[str(body["version"])] = body

    def _version_signed(self, index: int, at: datetime, body: Mapping[str, Any]) -> None:
        version = str(body["version"])
        proposal = self._proposals[version]
        needed = {str(s) for s in proposal["signatories"]}
        signed = self._signed.setdefault(version, set())
        complete_before = needed <= signed
        signed.add(str(body["organisation"]))
        if not complete_before and needed <= signed:
            self._in_force = proposal

    def _features(self) -> list[Mapping[str, Any]]:
        if self._in_force is not None:
            return list(self._in_force["collection"]["features"])
        return [self._defined[k] for k in sorted(self._defined)]

    def places(self, rules: DeconflictionRules) -> list[Protected]:
        return [
            _site(f, rules)
            for f in self._features()
            if (f.get("properties") or {}).get("kind") == SITE_KIND
        ]

    def zones(self) -> list[Zone]:
        return [
            _zone(f)
            for f in self._features()
            if (f.get("properties") or {}).get("kind") in ZONE_KINDS
        ]


class GeometrySites:
    """The protected sites of the geometry in force."""

    def current(self, db: Session, reader: Viewer, rules: DeconflictionRules) -> list[Protected]:
        return [_site(f, rules) for f in list_sites(db, reader)["features"]]

    def follower(self) -> PlacesFollower:
        return GeometryFollower()


class RegistryFollower:
    """The registry's places in force followed through the log: a place proposed
    (``deconfliction.place.proposed``) is in force from the signature that completes its
    signatories (``deconfliction.place.signed`` with ``agreed``)."""

    def __init__(self) -> None:
        self._proposed: dict[str, Mapping[str, Any]] = {}
        self._agreed: list[str] = []
        self.handlers: dict[str, Handler] = {
            ProtectionEntry.PLACE_PROPOSED.value: self._place_proposed,
            ProtectionEntry.PLACE_SIGNED.value: self._place_signed,
        }

    def _place_proposed(self, index: int, at: datetime, body: Mapping[str, Any]) -> None:
        self._proposed[str(body["place"])] = body

    def _place_signed(self, index: int, at: datetime, body: Mapping[str, Any]) -> None:
        place = str(body["place"])
        if body.get("agreed") and place not in self._agreed:
            self._agreed.append(place)

    def places(self, rules: DeconflictionRules) -> list[Protected]:
        return [
            _registry_place(
                place,
                str(self._proposed[place]["name"]),
                self._proposed[place]["geometry"],
                self._proposed[place].get("buffer_m"),
                rules,
            )
            for place in self._agreed
        ]


def _registry_place(
    place: str, name: str, geometry: Mapping[str, Any], buffer_m: Any, rules: DeconflictionRules
) -> Protected:
    """A registry place names its own buffer, or takes the rules' for sites."""
    buffer = float(buffer_m) if buffer_m is not None else float(rules.site_buffer_m)
    return Protected(id=place, name=name, geometry=geometry, buffer_m=buffer)


class RegistryPlaces:
    """The registry's protected sites and communities in force."""

    def current(self, db: Session, reader: Viewer, rules: DeconflictionRules) -> list[Protected]:
        return [
            _registry_place(p.id, p.name, mapping(p.geometry), p.buffer_m, rules)
            for p in agreed_places_for_engine(db)
        ]

    def follower(self) -> PlacesFollower:
        return RegistryFollower()


SOURCES: list[PlacesSource] = [GeometrySites(), RegistryPlaces()]


def current_zones(db: Session, reader: Viewer) -> list[Zone]:
    return [_zone(f) for f in list_zones(db, reader)["features"]]
