"""The commercial rules: the shipments' lead time, the evidence files' size and types, and
the limits of what a project holds, read from TOML.

The file named by ``FUSIONCELL_COMMERCIAL_RULES`` (default: the one shipped beside this
module) becomes the ``commercial`` section of the log's rules document, so its hash is bound
into every entry; ``fusioncell verify`` recomputes every lead-time verdict under the rules
that were in force.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from fusioncell.config import Settings
from fusioncell.ledger.rules import RulesSection

DEFAULT_RULES = Path(__file__).with_name("rules.toml")
ENVIRONMENT = "FUSIONCELL_COMMERCIAL_RULES"


class RulesError(Exception):
    """The commercial rules file is missing or malformed."""


@dataclass(frozen=True)
class CommercialRules:
    document: dict[str, Any]
    lead: timedelta
    max_evidence_bytes: int
    evidence_types: tuple[str, ...]
    max_name_chars: int
    max_text_chars: int
    max_sponsors: int
    max_locations: int
    max_vertices: int
    max_evidence: int


def _whole(value: Any, where: str, *, least: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise RulesError(f"{where} must be a whole number, at least {least}")
    return value


def parse_rules(document: dict[str, Any]) -> CommercialRules:
    try:
        shipments = document["shipments"]
        evidence = document["evidence"]
        limits = document["limits"]
        types = tuple(str(t) for t in evidence["types"])
        if not types:
            raise RulesError("evidence.types names at least one type")

        def limit(name: str, least: int = 1) -> int:
            return _whole(limits[name], f"limits.{name}", least=least)

        return CommercialRules(
            document=document,
            lead=timedelta(hours=_whole(shipments["lead_hours"], "shipments.lead_hours")),
            max_evidence_bytes=_whole(evidence["max_bytes"], "evidence.max_bytes", least=1),
            evidence_types=types,
            max_name_chars=limit("max_name_chars"),
            max_text_chars=limit("max_text_chars"),
            max_sponsors=limit("max_sponsors", 0),
            max_locations=limit("max_locations", 0),
            max_vertices=limit("max_vertices", 4),
            max_evidence=limit("max_evidence"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RulesError(f"the commercial rules are incomplete: {exc!r}") from None


@cache
def load_rules(path: Path = DEFAULT_RULES) -> CommercialRules:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise RulesError(f"cannot read the commercial rules {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path} is not valid TOML: {exc}") from None
    return parse_rules(document)


def _load(settings: Settings) -> CommercialRules:
    given = os.environ.get(ENVIRONMENT)
    return load_rules(Path(given) if given else DEFAULT_RULES)


def _document(rules: CommercialRules) -> dict[str, Any]:
    return rules.document


COMMERCIAL_RULES: RulesSection[CommercialRules] = RulesSection(
    name="commercial", load=_load, parse=parse_rules, document=_document
)
