"""The CoT gateway's rules: size and time limits, stale times, and how CoT types map to the
de-escalation categories, read from TOML.

The file named by ``FUSIONCELL_COT_RULES`` (default: the one shipped beside this module)
becomes the ``cot`` section of the log's rules document, so the mapping that turned a
position into an observation is bound into that observation's entry.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fusioncell.config import Settings
from fusioncell.ledger.rules import RulesSection

DEFAULT_RULES = Path(__file__).with_name("rules.toml")
ENVIRONMENT = "FUSIONCELL_COT_RULES"


class RulesError(Exception):
    """The CoT rules file is missing or malformed."""


@dataclass(frozen=True)
class CotRules:
    document: dict[str, Any]
    max_event_bytes: int
    idle_seconds: float
    queue_events: int
    clock_skew_seconds: int
    shapes_seconds: int
    positions_seconds: int
    alerts_seconds: int
    refresh_seconds: int
    # (prefix parts, category), longest prefix first.
    categories: tuple[tuple[tuple[str, ...], str], ...]
    outbound: dict[str, str]

    def category_of(self, cot_type: str) -> str:
        """The category of a position's CoT type (``a-f-G-U-C-I`` -> ``personnel``)."""
        parts = tuple(cot_type.split("-")[2:])
        for prefix, category in self.categories:
            if parts[: len(prefix)] == prefix:
                return category
        return "other"


def _whole(value: Any, where: str, *, least: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise RulesError(f"{where} must be a whole number, at least {least}")
    return value


def parse_rules(document: dict[str, Any]) -> CotRules:
    try:
        limits = document["limits"]
        stale = document["stale"]
        mapping = {str(k): str(v) for k, v in document["categories"].items()}
        outbound = {str(k): str(v) for k, v in document["outbound"].items()}
        categories = tuple(
            sorted(
                ((tuple(prefix.split("-")), category) for prefix, category in mapping.items()),
                key=lambda item: -len(item[0]),
            )
        )
        return CotRules(
            document=document,
            max_event_bytes=_whole(limits["max_event_bytes"], "limits.max_event_bytes"),
            idle_seconds=_whole(limits["idle_seconds"], "limits.idle_seconds"),
            queue_events=_whole(limits["queue_events"], "limits.queue_events"),
            clock_skew_seconds=_whole(
                limits["clock_skew_seconds"], "limits.clock_skew_seconds", least=0
            ),
            shapes_seconds=_whole(stale["shapes_seconds"], "stale.shapes_seconds"),
            positions_seconds=_whole(stale["positions_seconds"], "stale.positions_seconds"),
            alerts_seconds=_whole(stale["alerts_seconds"], "stale.alerts_seconds"),
            refresh_seconds=_whole(stale["refresh_seconds"], "stale.refresh_seconds"),
            categories=categories,
            outbound=outbound,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RulesError(f"the CoT rules are incomplete: {exc!r}") from None


@cache
def load_rules(path: Path = DEFAULT_RULES) -> CotRules:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise RulesError(f"cannot read the CoT rules {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path} is not valid TOML: {exc}") from None
    return parse_rules(document)


def _load(settings: Settings) -> CotRules:
    given = os.environ.get(ENVIRONMENT)
    return load_rules(Path(given) if given else DEFAULT_RULES)


def _document(rules: CotRules) -> dict[str, Any]:
    return rules.document


COT_RULES: RulesSection[CotRules] = RulesSection(
    name="cot", load=_load, parse=parse_rules, document=_document
)
