"""The hotline's rules: deadlines and escalation ladders per precedence, read from TOML.

The file named by ``FUSIONCELL_HOTLINE_POLICY`` (default: the one shipped beside this module)
becomes the ``hotline`` section of the log's rules document, so its hash is bound into every entry and a change
is logged as a new adoption. ("Policy" is the access policy, ``cell/policy.py``.)
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from fusioncell.config import Settings
from fusioncell.ledger.entries import canonical
from fusioncell.ledger.rules import RulesSection

DEFAULT_RULES = Path(__file__).with_name("rules.toml")
PRECEDENCES = ("FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE")
RECIPIENTS = frozenset({"party_duty_officer", "party_liaison", "supervisor_duty_officer"})


class RulesError(Exception):
    """The hotline rules file is missing or malformed."""


@dataclass(frozen=True)
class Rung:
    after: timedelta
    notify: tuple[str, ...]


@dataclass(frozen=True)
class PrecedenceRule:
    name: str
    delivered: timedelta
    ack: timedelta
    ladder: tuple[Rung, ...]
    repeat: timedelta | None


@dataclass(frozen=True)
class HotlineRules:
    document: dict[str, Any]
    precedences: dict[str, PrecedenceRule]
    link_test_every: timedelta
    link_test_precedence: str
    max_text_chars: int
    max_attachment_bytes: int
    max_attachments: int

    @property
    def hash(self) -> str:
        return hashlib.sha256(canonical(self.document)).hexdigest()

    def rule(self, precedence: str) -> PrecedenceRule:
        return self.precedences[precedence]


def _seconds(value: Any, where: str) -> timedelta:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RulesError(f"{where} must be a whole number of seconds")
    return timedelta(seconds=value)


def parse_rules(document: dict[str, Any]) -> HotlineRules:
    try:
        rules = {}
        for name in PRECEDENCES:
            raw = document["precedence"][name]
            ladder = []
            for i, rung in enumerate(raw["ladder"]):
                notify = tuple(rung["notify"])
                if not notify or not set(notify) <= RECIPIENTS:
                    raise RulesError(f"{name} rung {i + 1}: notify one of {sorted(RECIPIENTS)}")
                ladder.append(Rung(_seconds(rung["after_seconds"], f"{name} rung {i + 1}"), notify))
            if not ladder:
                raise RulesError(f"{name}: the ladder needs at least one rung")
            repeat = _seconds(raw.get("repeat_seconds", 0), f"{name}.repeat_seconds")
            rules[name] = PrecedenceRule(
                name=name,
                delivered=_seconds(raw["delivered_seconds"], f"{name}.delivered_seconds"),
                ack=_seconds(raw["ack_seconds"], f"{name}.ack_seconds"),
                ladder=tuple(sorted(ladder, key=lambda r: r.after)),
                repeat=repeat or None,
            )
        link_precedence = document.get("link_test_precedence", "IMMEDIATE")
        if link_precedence not in PRECEDENCES:
            raise RulesError("link_test_precedence must be a precedence")
        return HotlineRules(
            document=document,
            precedences=rules,
            link_test_every=timedelta(minutes=int(document["link_test_minutes"])),
            link_test_precedence=link_precedence,
            # In characters, as the page counts them; rules from before named it in bytes.
            max_text_chars=int(
                document["max_text_chars"]
                if "max_text_chars" in document
                else document["max_text_bytes"]
            ),
            max_attachment_bytes=int(document["max_attachment_bytes"]),
            max_attachments=int(document["max_attachments"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RulesError(f"the hotline rules are incomplete: {exc}") from None


@cache
def load_rules(path: Path = DEFAULT_RULES) -> HotlineRules:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise RulesError(f"cannot read the hotline rules {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path} is not valid TOML: {exc}") from None
    return parse_rules(document)


def _load(settings: Settings) -> HotlineRules:
    return load_rules(settings.hotline_policy)


def _document(rules: HotlineRules) -> dict[str, Any]:
    return rules.document


HOTLINE_RULES: RulesSection[HotlineRules] = RulesSection(
    name="hotline", load=_load, parse=parse_rules, document=_document
)
