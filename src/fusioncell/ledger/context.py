"""What the ledger needs beside the database: the deployment's keys and the rules in force.

It travels on each database session's ``info`` (set by ``make_sessionmaker``), so actions keep
their ``(db, actor, ...)`` signature and cannot append to the log without it. The rules are
the sections registered by ``fusioncell.bootstrap`` (``fusioncell.ledger.rules``): the ledger
names no track, and a track reads its own section with ``ledger_context(db).rules(SECTION)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar, overload

from sqlalchemy.orm import Session

from fusioncell.config import Settings
from fusioncell.ledger.entries import canonical
from fusioncell.ledger.keyring import Keyring, load_or_create_keyring
from fusioncell.ledger.rules import (
    RulesSection,
    load_sections,
    registered_sections,
    rules_document,
)

CONTEXT_KEY = "fusioncell_ledger"

T = TypeVar("T")


@dataclass(frozen=True)
class LedgerContext:
    keyring: Keyring
    # The rules document every entry binds by hash (the header's ``policy`` field).
    policy: dict[str, Any]
    sections: dict[str, Any]

    @cached_property
    def policy_hash(self) -> str:
        return hashlib.sha256(canonical(self.policy)).hexdigest()

    @overload
    def rules(self, section: RulesSection[T]) -> T: ...
    @overload
    def rules(self, section: str) -> Any: ...
    def rules(self, section: RulesSection[Any] | str) -> Any:
        """A section of the rules in force, by its registered object (typed) or its name."""
        name = section if isinstance(section, str) else section.name
        try:
            return self.sections[name]
        except KeyError:
            raise LookupError(f"no rules section {name!r} is registered") from None


def build_ledger_context(
    settings: Settings, *, sections: Iterable[RulesSection[Any]] | None = None
) -> LedgerContext:
    """The context for these settings; ``sections`` defaults to the registered ones."""
    chosen = tuple(registered_sections() if sections is None else sections)
    keyring = load_or_create_keyring(settings.key_dir, origin=settings.log_origin)
    loaded = load_sections(settings, chosen)
    return LedgerContext(keyring=keyring, policy=rules_document(chosen, loaded), sections=loaded)


def ledger_context(db: Session) -> LedgerContext:
    context = db.info.get(CONTEXT_KEY)
    if not isinstance(context, LedgerContext):
        raise RuntimeError("this database session has no ledger context (make_sessionmaker)")
    return context
