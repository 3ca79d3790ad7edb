"""Compliance recomputed from the log: ``fusioncell verify`` replays every
``deescalation.compliance.computed`` entry and compares (``fusioncell.ledger.verify.replay``).

Compliance is a pure function of signed bodies, so a verifier holding them recomputes what
the cell stated after each batch of observations:

    geometry      the zones of the geometry version in force before it (the last whose
                  ``geo.version.signed`` entries completed its signatories), as
                  ``GET /api/v1/geo/zones`` serves them; in older logs, the zones of the
                  ``geo.feature.defined`` entries (the last definition of each id)
    rules         the ``deescalation`` section of the rules adopted last before it
    observations  the features of the ``deescalation.observations.recorded`` entries before
                  it whose ``released_to`` names the poster's organisation (what it saw)
    baselines     ``deescalation.baseline.declared`` ones accepted before it
    exceptions    ``deescalation.exception.proposed`` ones signed before it by every party
                  and the supervisor (``cell.organisation.created`` says who they are)

and compares the candidates at the entry's ``at`` for its source class with those it
records (each without its evidence). A source that withholds any of these bodies gets no
verdict rather than a wrong one.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from shapely.geometry import shape

from fusioncell.cell.entries import CellEntry
from fusioncell.deescalation import engine
from fusioncell.deescalation.entries import DeescalationEntry
from fusioncell.deescalation.rules import DeescalationRules, RulesError, parse_rules
from fusioncell.geo import in_force
from fusioncell.ledger.entries import LedgerEntry, parse_log_time

GEO_DEFINED = "geo.feature.defined"
ZONE_KINDS = frozenset({"separation", "limitation", "sector"})


class ComplianceReplay:
    def __init__(self) -> None:
        self.complete = True
        self._problems: list[tuple[int, str]] = []
        self._zones: dict[str, engine.Zone] = {}
        self._geometry: engine.Geometry | None = None
        self._rules: DeescalationRules | None = None
        self._kinds: dict[str, str] = {}  # organisation slug -> kind
        self._batches: list[tuple[list[str], list[engine.Observation]]] = []
        self._baselines: dict[str, engine.Baseline] = {}
        self._declared: dict[str, dict[str, Any]] = {}
        self._exceptions: dict[str, engine.AgreedException] = {}
        self._signed: dict[str, set[str]] = {}
        self._versions = in_force.VersionsInForce()
        self._handlers = {
            CellEntry.ORGANISATION_CREATED.value: self._organisation,
            GEO_DEFINED: self._zone,
            in_force.PROPOSED: self._geometry_proposed,
            in_force.SIGNED: self._geometry_signed,
            LedgerEntry.POLICY_ADOPTED.value: self._policy,
            DeescalationEntry.OBSERVATIONS_RECORDED.value: self._observations,
            DeescalationEntry.BASELINE_DECLARED.value: self._declared_baseline,
            DeescalationEntry.BASELINE_ACCEPTED.value: self._accepted_baseline,
            DeescalationEntry.EXCEPTION_PROPOSED.value: self._proposed,
            DeescalationEntry.EXCEPTION_SIGNED.value: self._signature,
            DeescalationEntry.COMPLIANCE_COMPUTED.value: self._computed,
        }

    def observe(self, index: int, entry_type: str, logged_at: datetime, body: str | None) -> None:
        handler = self._handlers.get(entry_type)
        if handler is None:
            return
        if body is None:
            self.complete = False
            return
        try:
            value = json.loads(body)
            if not isinstance(value, dict):
                raise TypeError("not an object")
            handler(index, value)
        except (KeyError, TypeError, ValueError, AttributeError, RulesError) as exc:
            if entry_type.startswith("deescalation."):
                reason = f"the {entry_type} body cannot be replayed for compliance: {exc!r}"
                self._problems.append((index, reason))

    def first_problem(self) -> tuple[int, str] | None:
        if not self.complete or not self._problems:
            return None
        return min(self._problems)

    # -- the log, entry by entry ----------------------------------------------------------

    def _organisation(self, index: int, body: dict[str, Any]) -> None:
        self._kinds[str(body["slug"])] = str(body["kind"])

    def _zone(self, index: int, body: dict[str, Any]) -> None:
        if body.get("kind") not in ZONE_KINDS:
            return
        self._zones[str(body["id"])] = engine.Zone(
            id=str(body["id"]),
            kind=str(body["kind"]),
            side=body.get("side"),
            band=body.get("band"),
            geometry=shape(body["geometry"]),
        )
        self._geometry = None

    def _geometry_proposed(self, index: int, body: dict[str, Any]) -> None:
        self._versions.proposed(body)

    def _geometry_signed(self, index: int, body: dict[str, Any]) -> None:
        if not self._versions.signed(body):
            return
        self._zones = {}
        self._geometry = None
        for feature in self._versions.zones():
            self._zone(index, {**feature["properties"], "geometry": feature["geometry"]})

    def _policy(self, index: int, body: dict[str, Any]) -> None:
        section = body["policy"].get("deescalation")
        self._rules = parse_rules(section) if section is not None else None

    def _observations(self, index: int, body: dict[str, Any]) -> None:
        reporter = str(body["organisation"])
        found = []
        for feature in body["features"]:
            props = feature["properties"]
            lon, lat = feature["geometry"]["coordinates"][:2]
            found.append(
                engine.Observation(
                    id=str(props["observation"]),
                    unit=str(props["unit"]),
                    party=str(props["party"]),
                    category=str(props["category"]),
                    count=int(props["count"]),
                    lon=float(lon),
                    lat=float(lat),
                    observed_at=parse_log_time(props["observed_at"]),
                    source=str(body["source"]),
                    reporter=reporter,
                    calibre_mm=props.get("calibre_mm"),
                    range_km=props.get("range_km"),
                )
            )
        self._batches.append(([str(s) for s in body["released_to"]], found))

    def _declared_baseline(self, index: int, body: dict[str, Any]) -> None:
        self._declared[str(body["baseline"])] = body

    def _accepted_baseline(self, index: int, body: dict[str, Any]) -> None:
        declared = self._declared[str(body["baseline"])]
        self._baselines[str(body["baseline"])] = engine.Baseline(
            id=str(body["baseline"]),
            party=str(declared["party"]),
            at=parse_log_time(declared["at"]),
            counts={(h["zone"], h["category"]): int(h["count"]) for h in declared["holdings"]},
        )

    def _proposed(self, index: int, body: dict[str, Any]) -> None:
        self._exceptions[str(body["exception"])] = engine.AgreedException(
            id=str(body["exception"]),
            party=str(body["party"]),
            zone=str(body["zone"]),
            category=str(body["category"]),
            max_count=int(body["max_count"]),
            valid_from=parse_log_time(body["valid_from"]),
            valid_until=parse_log_time(body["valid_until"]),
        )

    def _signature(self, index: int, body: dict[str, Any]) -> None:
        self._signed.setdefault(str(body["exception"]), set()).add(str(body["organisation"]))

    def _computed(self, index: int, body: dict[str, Any]) -> None:
        if self._rules is None:
            self._problems.append((index, "no de-escalation rules were adopted before it"))
            return
        if self._geometry is None:
            self._geometry = engine.Geometry.of(self._zones.values())
        organisation = str(body["organisation"])
        rows = [o for released, batch in self._batches if organisation in released for o in batch]
        signatories = {s for s, kind in self._kinds.items() if kind in ("party", "supervisor")}
        result = engine.compliance(
            self._geometry,
            engine.Observations.from_rows(rows, self._rules.categories),
            list(self._baselines.values()),
            [e for e in self._exceptions.values() if signatories <= self._signed.get(e.id, set())],
            self._rules,
            at=parse_log_time(body["at"]),
            source=str(body["source"]),
        )
        recomputed = [
            {k: v for k, v in c.as_dict().items() if k != "observations"} for c in result.candidates
        ]
        if recomputed != body["candidates"]:
            self._problems.append(
                (
                    index,
                    f"the candidates recorded after batch {body['batch']} differ from those "
                    f"recomputed from the log ({len(body['candidates'])} recorded, "
                    f"{len(recomputed)} recomputed)",
                )
            )
