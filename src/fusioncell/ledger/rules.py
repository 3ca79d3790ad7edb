"""The rules in force: one section per track that has rules, registered, never hard-coded.

Each entry binds the hash of the whole rules document (the header's ``policy`` field, a wire
name kept for compatibility), so changing any section is logged as a new adoption. The
document is ``{"version": 1, <section name>: <section document>, ...}``; canonical JSON sorts
its keys, so the registration order never changes the hash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fusioncell.config import Settings

T = TypeVar("T")

VERSION = 1


@dataclass(frozen=True)
class RulesSection(Generic[T]):
    """A track's rules: how to load them from the settings, parse them back from an adopted
    document (the verifier replays old rules), and write them into the rules document."""

    name: str
    load: Callable[[Settings], T]
    parse: Callable[[dict[str, Any]], T]
    document: Callable[[T], dict[str, Any]]


_SECTIONS: dict[str, RulesSection[Any]] = {}


def register_sections(*sections: RulesSection[Any]) -> None:
    for section in sections:
        if section.name == "version":
            raise ValueError("'version' is the rules document's own field")
        earlier = _SECTIONS.setdefault(section.name, section)
        if earlier is not section:
            raise ValueError(f"a rules section named {section.name!r} is already registered")


def registered_sections() -> tuple[RulesSection[Any], ...]:
    return tuple(_SECTIONS.values())


def load_sections(settings: Settings, sections: Iterable[RulesSection[Any]]) -> dict[str, Any]:
    return {section.name: section.load(settings) for section in sections}


def rules_document(sections: Iterable[RulesSection[Any]], loaded: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": VERSION,
        **{section.name: section.document(loaded[section.name]) for section in sections},
    }
