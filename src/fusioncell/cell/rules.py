"""The cell's section of the rules in force: login back-off and credential lifetimes."""

from __future__ import annotations

from typing import Any

from fusioncell.config import Settings
from fusioncell.ledger.rules import RulesSection

FIELDS = (
    "login_backoff_threshold",
    "login_backoff_base_seconds",
    "login_backoff_max_seconds",
    "token_ttl_seconds",
    "session_ttl_seconds",
)


def load_rules(settings: Settings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in FIELDS}


def parse_rules(document: dict[str, Any]) -> dict[str, Any]:
    return {name: document[name] for name in FIELDS}


CELL_RULES: RulesSection[dict[str, Any]] = RulesSection(
    name="cell", load=load_rules, parse=parse_rules, document=dict
)
