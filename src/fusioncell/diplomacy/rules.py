"""The diplomatic track's rules: the comment window on a milestone put to verification and
the limits of what a version, an assessment and a meeting hold, read from TOML.

The file named by ``FUSIONCELL_DIPLOMACY_RULES`` (default: the one shipped beside this
module) becomes the ``diplomacy`` section of the log's rules document, so its hash is bound
into every entry; ``fusioncell verify`` recomputes every window under the rules in force.
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
from fusioncell.hotline.rules import RECIPIENTS, Rung
from fusioncell.ledger.rules import RulesSection

DEFAULT_RULES = Path(__file__).with_name("rules.toml")
ENVIRONMENT = "FUSIONCELL_DIPLOMACY_RULES"


class RulesError(Exception):
    """The diplomacy rules file is missing or malformed."""


@dataclass(frozen=True)
class DiplomacyRules:
    document: dict[str, Any]
    comment_window: timedelta
    ladder: tuple[Rung, ...]  # after a deadline
    max_title_chars: int
    max_text_chars: int
    max_comment_chars: int
    max_commitments: int
    max_milestones: int
    max_evidence: int
    max_agenda_items: int


def _whole(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise RulesError(f"{where} must be a whole number, at least 1")
    return value


def parse_rules(document: dict[str, Any]) -> DiplomacyRules:
    try:
        limits = document["limits"]
        hours = _whole(document["deadlines"]["comment_hours"], "deadlines.comment_hours")
        ladder = []
        for i, rung in enumerate(document["escalation"]["ladder"]):
            notify = tuple(rung["notify"])
            if not notify or not set(notify) <= RECIPIENTS:
                raise RulesError(f"escalation rung {i + 1}: notify one of {sorted(RECIPIENTS)}")
            after = rung["after_seconds"]
            if not isinstance(after, int) or isinstance(after, bool) or after < 0:
                raise RulesError(f"escalation rung {i + 1}: after_seconds is a whole number")
            ladder.append(Rung(timedelta(seconds=after), notify))
        if not ladder:
            raise RulesError("the escalation ladder needs at least one rung")
        return DiplomacyRules(
            document=document,
            comment_window=timedelta(hours=hours),
            ladder=tuple(sorted(ladder, key=lambda r: r.after)),
            **{
                name: _whole(limits[name], f"limits.{name}")
                for name in (
                    "max_title_chars",
                    "max_text_chars",
                    "max_comment_chars",
                    "max_commitments",
                    "max_milestones",
                    "max_evidence",
                    "max_agenda_items",
                )
            },
        )
    except (KeyError, TypeError) as exc:
        raise RulesError(f"the diplomacy rules are incomplete: {exc!r}") from None


@cache
def load_rules(path: Path = DEFAULT_RULES) -> DiplomacyRules:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise RulesError(f"cannot read the diplomacy rules {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path} is not valid TOML: {exc}") from None
    return parse_rules(document)


def _load(settings: Settings) -> DiplomacyRules:
    given = os.environ.get(ENVIRONMENT)
    return load_rules(Path(given) if given else DEFAULT_RULES)


def _document(rules: DiplomacyRules) -> dict[str, Any]:
    return rules.document


DIPLOMACY_RULES: RulesSection[DiplomacyRules] = RulesSection(
    name="diplomacy", load=_load, parse=parse_rules, document=_document
)
