"""The de-escalation rules: the limits per zone and category (DESIGN R1-R6, commitment C3),
read from TOML.

The file named by ``FUSIONCELL_DEESCALATION_RULES`` (default: the one shipped beside this
module) becomes the ``deescalation`` section of the log's rules document, so its hash is bound
into every entry and a change is logged as a new adoption. The compliance engine takes the
parsed rules as an input: whoever holds the log recomputes the candidates under the rules
that were in force.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from fusioncell.config import Settings
from fusioncell.ledger.entries import canonical
from fusioncell.ledger.rules import RulesSection

DEFAULT_RULES = Path(__file__).with_name("rules.toml")
ENVIRONMENT = "FUSIONCELL_DEESCALATION_RULES"
CATEGORIES = ("personnel", "tank", "artillery", "sam", "ssm", "aircraft", "uav", "other")
WHERE = ("separation", "own-bands", "zone")
MEASURES = ("max_count", "max_calibre_mm", "max_range_km")
# R7's defaults (DESIGN), for a rules document adopted before it named them.
INSPECTION_INTERVAL_DAYS = 15
INSPECTION_REQUEST_HOURS = 48


class RulesError(Exception):
    """The de-escalation rules file is missing or malformed."""


@dataclass(frozen=True)
class Limit:
    rule: str
    where: str
    categories: tuple[str, ...]
    measure: str  # one of MEASURES
    value: float
    bands: tuple[str, ...] = ()
    zone: str | None = None
    party: str | None = None


@dataclass(frozen=True)
class DeescalationRules:
    document: dict[str, Any]
    freeze_at: datetime
    categories: tuple[str, ...]
    limits: tuple[Limit, ...]
    # R7: how long a zone and side may go without an inspection, and how long the verifier
    # has to carry out an inspection a party requests.
    inspection_interval: timedelta = timedelta(days=INSPECTION_INTERVAL_DAYS)
    request_deadline: timedelta = timedelta(hours=INSPECTION_REQUEST_HOURS)

    @property
    def hash(self) -> str:
        return hashlib.sha256(canonical(self.document)).hexdigest()


def _limit(raw: dict[str, Any], where_: str, categories: tuple[str, ...]) -> Limit:
    rule = raw["rule"]
    if not isinstance(rule, str) or not rule:
        raise RulesError(f"{where_}: a limit names its rule")
    where = raw["where"]
    if where not in WHERE:
        raise RulesError(f"{where_}: where is one of {', '.join(WHERE)}")
    named = tuple(raw["categories"])
    if not named or not set(named) <= set(categories):
        raise RulesError(f"{where_}: categories must be among {', '.join(categories)}")
    measures = [m for m in MEASURES if m in raw]
    if len(measures) != 1:
        raise RulesError(f"{where_}: give exactly one of {', '.join(MEASURES)}")
    value = raw[measures[0]]
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise RulesError(f"{where_}: {measures[0]} must be a number, at least 0")
    bands = tuple(raw.get("bands", ()))
    if where == "own-bands" and not bands:
        raise RulesError(f"{where_}: own-bands needs bands")
    zone, party = raw.get("zone"), raw.get("party")
    if where == "zone" and not (isinstance(zone, str) and isinstance(party, str)):
        raise RulesError(f"{where_}: a zone limit names its zone and its party")
    return Limit(
        rule=rule,
        where=where,
        categories=named,
        measure=measures[0],
        value=float(value),
        bands=bands,
        zone=zone if where == "zone" else None,
        party=party if where == "zone" else None,
    )


def _positive(document: dict[str, Any], name: str, default: int) -> float:
    value = document.get(name, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 10_000:
        raise RulesError(f"{name} must be a number above 0")
    return float(value)


def parse_rules(document: dict[str, Any]) -> DeescalationRules:
    try:
        freeze = datetime.fromisoformat(str(document["freeze_at"]).replace("Z", "+00:00"))
        if freeze.tzinfo is None:
            raise RulesError("freeze_at needs its time zone")
        categories = tuple(document["categories"])
        if not categories or len(set(categories)) != len(categories):
            raise RulesError("categories must be distinct and at least one")
        limits = tuple(
            _limit(raw, f"limit {i + 1}", categories) for i, raw in enumerate(document["limits"])
        )
        return DeescalationRules(
            document=document,
            freeze_at=freeze.astimezone(UTC),
            categories=categories,
            limits=limits,
            inspection_interval=timedelta(
                days=_positive(document, "inspection_interval_days", INSPECTION_INTERVAL_DAYS)
            ),
            request_deadline=timedelta(
                hours=_positive(document, "inspection_request_hours", INSPECTION_REQUEST_HOURS)
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RulesError(f"the de-escalation rules are incomplete: {exc}") from None


@cache
def load_rules(path: Path = DEFAULT_RULES) -> DeescalationRules:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise RulesError(f"cannot read the de-escalation rules {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path} is not valid TOML: {exc}") from None
    return parse_rules(document)


def _load(settings: Settings) -> DeescalationRules:
    given = os.environ.get(ENVIRONMENT)
    return load_rules(Path(given) if given else DEFAULT_RULES)


def _document(rules: DeescalationRules) -> dict[str, Any]:
    return rules.document


DEESCALATION_RULES: RulesSection[DeescalationRules] = RulesSection(
    name="deescalation", load=_load, parse=parse_rules, document=_document
)
