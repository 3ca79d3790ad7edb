"""The deconfliction rules (DESIGN R8-R10): lead times, buffers, what conflicts with what,
acknowledgement precedences and the FLASH justification's ladder, read from TOML.

The file named by ``FUSIONCELL_DECONFLICTION_RULES`` (default: the one shipped beside this
module) becomes the ``deconfliction`` section of the log's rules document, so its hash is
bound into every entry and a change is logged as a new adoption. The lead-time verdicts and
the conflict check take the parsed rules as an input: whoever holds the log recomputes them
under the rules that were in force.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from fusioncell.config import Settings
from fusioncell.deconfliction.models import NotificationKind
from fusioncell.hotline.rules import PRECEDENCES, RECIPIENTS, PrecedenceRule, Rung
from fusioncell.ledger.entries import canonical
from fusioncell.ledger.rules import RulesSection

DEFAULT_RULES = Path(__file__).with_name("rules.toml")
ENVIRONMENT = "FUSIONCELL_DECONFLICTION_RULES"
KINDS = tuple(kind.value for kind in NotificationKind)
ZONE_KINDS = ("separation", "limitation", "sector")


class RulesError(Exception):
    """The deconfliction rules file is missing or malformed."""


@dataclass(frozen=True)
class Forbidden:
    kind: str
    zone_kinds: tuple[str, ...]


@dataclass(frozen=True)
class DeconflictionRules:
    document: dict[str, Any]
    lat_0: float
    lon_0: float
    near_line_m: float
    lead_hours: dict[str, int]  # kind -> hours; "activity" is the near-line figure
    activity_elsewhere_hours: int
    flash_justification: timedelta
    default_buffer_m: int
    max_buffer_m: int
    site_buffer_m: int
    site_kinds: frozenset[str]
    pairs: frozenset[frozenset[str]]
    forbidden: tuple[Forbidden, ...]
    precedence: dict[str, str]  # kind (or "flash") -> hotline precedence
    justification_ladder: tuple[Rung, ...]
    max_description_chars: int
    max_participants: int
    max_participant_chars: int
    max_vertices: int
    max_window: timedelta
    max_detail_chars: int

    @property
    def hash(self) -> str:
        return hashlib.sha256(canonical(self.document)).hexdigest()

    def required_lead(self, kind: str, *, near_line: bool) -> timedelta:
        if kind == NotificationKind.ACTIVITY and not near_line:
            return timedelta(hours=self.activity_elsewhere_hours)
        return timedelta(hours=self.lead_hours[kind])

    def conflicts_pair(self, a: str, b: str) -> bool:
        return frozenset((a, b)) in self.pairs

    def precedence_of(self, kind: str, *, flash: bool) -> str:
        return self.precedence["flash" if flash else kind]

    def justification_rule(self) -> PrecedenceRule:
        """The justification's deadline and ladder, in the hotline's terms: it is 'delivered'
        at once, and 'acknowledged' when the justification is logged."""
        return PrecedenceRule(
            name="JUSTIFICATION",
            delivered=timedelta(0),
            ack=self.flash_justification,
            ladder=self.justification_ladder,
            repeat=None,
        )


def _whole(value: Any, where: str, *, least: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise RulesError(f"{where} must be a whole number, at least {least}")
    return value


def _number(value: Any, where: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise RulesError(f"{where} must be a number")
    return float(value)


def _kinds(values: Any, where: str) -> tuple[str, ...]:
    found = tuple(values)
    if not set(found) <= set(KINDS):
        raise RulesError(f"{where}: kinds are among {', '.join(KINDS)}")
    return found


def parse_rules(document: dict[str, Any]) -> DeconflictionRules:
    try:
        lead = document["lead_time"]
        buffer = document["buffer"]
        conflicts = document["conflicts"]
        limits = document["limits"]
        lead_hours = {
            NotificationKind.ACTIVITY.value: _whole(lead["activity_near_line_hours"], "lead"),
            NotificationKind.MOVEMENT.value: _whole(lead["movement_hours"], "lead"),
            NotificationKind.SITE.value: _whole(lead["site_hours"], "lead"),
            NotificationKind.EMERGENCY.value: _whole(lead["emergency_hours"], "lead"),
        }
        pairs = set()
        for pair in conflicts["pairs"]:
            kinds = _kinds(pair, "conflicts.pairs")
            if len(kinds) != 2:
                raise RulesError("conflicts.pairs: each pair names two kinds")
            pairs.add(frozenset(kinds))
        forbidden = []
        for i, raw in enumerate(conflicts.get("forbidden", [])):
            zone_kinds = tuple(raw["zone_kinds"])
            if not zone_kinds or not set(zone_kinds) <= set(ZONE_KINDS):
                raise RulesError(f"forbidden {i + 1}: zone kinds among {', '.join(ZONE_KINDS)}")
            forbidden.append(Forbidden(_kinds([raw["kind"]], "forbidden")[0], zone_kinds))
        precedence = {}
        for key in (*KINDS, "flash"):
            name = document["acknowledgement"][key]
            if name not in PRECEDENCES:
                raise RulesError(f"acknowledgement.{key} is one of {', '.join(PRECEDENCES)}")
            precedence[key] = name
        ladder = []
        for i, rung in enumerate(document["justification"]["ladder"]):
            notify = tuple(rung["notify"])
            if not notify or not set(notify) <= RECIPIENTS:
                raise RulesError(f"justification rung {i + 1}: notify one of {sorted(RECIPIENTS)}")
            after = _whole(rung["after_seconds"], f"justification rung {i + 1}")
            ladder.append(Rung(timedelta(seconds=after), notify))
        if not ladder:
            raise RulesError("the justification's ladder needs at least one rung")
        justification = timedelta(hours=_whole(lead["flash_justification_hours"], "lead", least=1))
        rules = DeconflictionRules(
            document=document,
            lat_0=_number(document["projection"]["lat_0"], "projection.lat_0"),
            lon_0=_number(document["projection"]["lon_0"], "projection.lon_0"),
            near_line_m=_number(lead["near_line_km"], "lead_time.near_line_km") * 1000,
            lead_hours=lead_hours,
            activity_elsewhere_hours=_whole(lead["activity_elsewhere_hours"], "lead"),
            flash_justification=justification,
            default_buffer_m=_whole(buffer["default_m"], "buffer.default_m"),
            max_buffer_m=_whole(buffer["max_m"], "buffer.max_m"),
            site_buffer_m=_whole(buffer["site_m"], "buffer.site_m"),
            site_kinds=frozenset(_kinds(conflicts["sites"], "conflicts.sites")),
            pairs=frozenset(pairs),
            forbidden=tuple(forbidden),
            precedence=precedence,
            justification_ladder=tuple(sorted(ladder, key=lambda r: r.after)),
            max_description_chars=_whole(limits["max_description_chars"], "limits", least=1),
            max_participants=_whole(limits["max_participants"], "limits"),
            max_participant_chars=_whole(limits["max_participant_chars"], "limits", least=1),
            max_vertices=_whole(limits["max_vertices"], "limits", least=2),
            max_window=timedelta(days=_whole(limits["max_window_days"], "limits", least=1)),
            max_detail_chars=_whole(limits["max_detail_chars"], "limits", least=1),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RulesError(f"the deconfliction rules are incomplete: {exc!r}") from None
    if rules.default_buffer_m > rules.max_buffer_m:
        raise RulesError("buffer.default_m may not exceed buffer.max_m")
    # The registry's and early warning's table, checked with the rest (imported here: it
    # reads these rules in force).
    from fusioncell.deconfliction.protection import ProtectionRulesError, parse_protection

    try:
        parse_protection(document.get("protection", {}))
    except ProtectionRulesError as exc:
        raise RulesError(str(exc)) from None
    return rules


@cache
def load_rules(path: Path = DEFAULT_RULES) -> DeconflictionRules:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise RulesError(f"cannot read the deconfliction rules {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path} is not valid TOML: {exc}") from None
    return parse_rules(document)


def _load(settings: Settings) -> DeconflictionRules:
    given = os.environ.get(ENVIRONMENT)
    return load_rules(Path(given) if given else DEFAULT_RULES)


def _document(rules: DeconflictionRules) -> dict[str, Any]:
    return rules.document


DECONFLICTION_RULES: RulesSection[DeconflictionRules] = RulesSection(
    name="deconfliction", load=_load, parse=parse_rules, document=_document
)
