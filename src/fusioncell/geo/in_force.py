"""The geometry version in force, followed through the log's bodies: for replays that
recompute from the log what the cell computed with the zones it served then (the
de-escalation track's compliance)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fusioncell.geo.collection import zones_of
from fusioncell.geo.entries import GeoEntry

PROPOSED = GeoEntry.GEO_VERSION_PROPOSED.value
SIGNED = GeoEntry.GEO_VERSION_SIGNED.value


class VersionsInForce:
    """Feed it the ``geo.version.proposed`` and ``geo.version.signed`` bodies in log order;
    a version comes into force with the signature that completes its signatories."""

    def __init__(self) -> None:
        self._proposals: dict[str, Mapping[str, Any]] = {}
        self._signed: dict[str, set[str]] = {}
        self.in_force: Mapping[str, Any] | None = None

    def proposed(self, body: Mapping[str, Any]) -> None:
        self._proposals[str(body["version"])] = body

    def signed(self, body: Mapping[str, Any]) -> bool:
        """Whether this signature put its version in force."""
        version = str(body["version"])
        proposal = self._proposals[version]
        signed = self._signed.setdefault(version, set())
        complete_before = set(proposal["signatories"]) <= signed
        signed.add(str(body["organisation"]))
        if complete_before or not set(proposal["signatories"]) <= signed:
            return False
        self.in_force = proposal
        return True

    def zones(self) -> list[dict[str, Any]]:
        """The zones of the version in force, as ``GET /api/v1/geo/zones`` serves them."""
        return [] if self.in_force is None else zones_of(self.in_force["collection"])
