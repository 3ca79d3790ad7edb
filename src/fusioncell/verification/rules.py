"""The verification rules (DESIGN R11-R13): the triage, site-visit, comment-window and
access-answer deadlines, the escalation ladder of an overdue deadline, the evidence files'
size and types, read from TOML.

The file named by ``FUSIONCELL_VERIFICATION_RULES`` (default: the one shipped beside this
module) becomes the ``verification`` section of the log's rules document, so its hash is
bound into every entry and a change is logged as a new adoption; ``fusioncell verify``
recomputes every deadline under the rules that were in force.
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
from fusioncell.hotline.rules import RECIPIENTS, Rung
from fusioncell.ledger.entries import canonical
from fusioncell.ledger.rules import RulesSection

DEFAULT_RULES = Path(__file__).with_name("rules.toml")
ENVIRONMENT = "FUSIONCELL_VERIFICATION_RULES"


class RulesError(Exception):
    """The verification rules file is missing or malformed."""


@dataclass(frozen=True)
class VerificationRules:
    document: dict[str, Any]
    triage: timedelta
    on_site: timedelta
    comment_window: timedelta
    access_answer: timedelta
    ladder: tuple[Rung, ...]  # after the deadline
    max_evidence_bytes: int
    evidence_types: tuple[str, ...]
    max_text_chars: int
    max_reason_chars: int
    max_links: int
    max_evidence: int
    max_rule_chars: int

    @property
    def hash(self) -> str:
        return hashlib.sha256(canonical(self.document)).hexdigest()

    def ladder_terms(self) -> list[dict[str, Any]]:
        """The ladder as an entry binds it (seconds after the deadline)."""
        return [
            {"after_seconds": int(r.after.total_seconds()), "notify": list(r.notify)}
            for r in self.ladder
        ]


def _whole(value: Any, where: str, *, least: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise RulesError(f"{where} must be a whole number, at least {least}")
    return value


def parse_rules(document: dict[str, Any]) -> VerificationRules:
    try:
        deadlines = document["deadlines"]
        evidence = document["evidence"]
        limits = document["limits"]
        ladder = []
        for i, rung in enumerate(document["escalation"]["ladder"]):
            notify = tuple(rung["notify"])
            if not notify or not set(notify) <= RECIPIENTS:
                raise RulesError(f"escalation rung {i + 1}: notify one of {sorted(RECIPIENTS)}")
            after = _whole(rung["after_seconds"], f"escalation rung {i + 1}")
            ladder.append(Rung(timedelta(seconds=after), notify))
        if not ladder:
            raise RulesError("the escalation ladder needs at least one rung")
        types = tuple(str(t) for t in evidence["types"])
        if not types:
            raise RulesError("evidence.types names at least one type")

        def hours(name: str) -> timedelta:
            return timedelta(hours=_whole(deadlines[name], f"deadlines.{name}", least=1))

        return VerificationRules(
            document=document,
            triage=hours("triage_hours"),
            on_site=hours("on_site_hours"),
            comment_window=hours("comment_hours"),
            access_answer=hours("access_answer_hours"),
            ladder=tuple(sorted(ladder, key=lambda r: r.after)),
            max_evidence_bytes=_whole(evidence["max_bytes"], "evidence.max_bytes", least=1),
            evidence_types=types,
            max_text_chars=_whole(limits["max_text_chars"], "limits", least=1),
            max_reason_chars=_whole(limits["max_reason_chars"], "limits", least=1),
            max_links=_whole(limits["max_links"], "limits"),
            max_evidence=_whole(limits["max_evidence"], "limits"),
            max_rule_chars=_whole(limits["max_rule_chars"], "limits", least=1),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RulesError(f"the verification rules are incomplete: {exc!r}") from None


@cache
def load_rules(path: Path = DEFAULT_RULES) -> VerificationRules:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise RulesError(f"cannot read the verification rules {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path} is not valid TOML: {exc}") from None
    return parse_rules(document)


def _load(settings: Settings) -> VerificationRules:
    given = os.environ.get(ENVIRONMENT)
    return load_rules(Path(given) if given else DEFAULT_RULES)


def _document(rules: VerificationRules) -> dict[str, Any]:
    return rules.document


VERIFICATION_RULES: RulesSection[VerificationRules] = RulesSection(
    name="verification", load=_load, parse=parse_rules, document=_document
)
