"""What the ledger needs beside the database: the deployment's keys and the policy in force.

It travels on each database session's ``info`` (set by ``make_sessionmaker``), so actions keep
their ``(db, actor, ...)`` signature and cannot append to the log without it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.config import Settings
from fusioncell.hotline.policy import HotlinePolicy, load_policy
from fusioncell.ledger.entries import canonical
from fusioncell.ledger.keyring import Keyring, load_or_create_keyring

CONTEXT_KEY = "fusioncell_ledger"


@dataclass(frozen=True)
class LedgerContext:
    keyring: Keyring
    policy: dict[str, Any]
    hotline: HotlinePolicy

    @cached_property
    def policy_hash(self) -> str:
        return hashlib.sha256(canonical(self.policy)).hexdigest()


def policy_document(settings: Settings, hotline: HotlinePolicy) -> dict[str, Any]:
    """The rules in force that entries bind to. Changing any of them is logged as a new policy."""
    return {
        "hotline": hotline.document,
        "version": 1,
        "cell": {
            "login_backoff_threshold": settings.login_backoff_threshold,
            "login_backoff_base_seconds": settings.login_backoff_base_seconds,
            "login_backoff_max_seconds": settings.login_backoff_max_seconds,
            "token_ttl_seconds": settings.token_ttl_seconds,
            "session_ttl_seconds": settings.session_ttl_seconds,
        },
    }


def build_ledger_context(settings: Settings) -> LedgerContext:
    keyring = load_or_create_keyring(settings.key_dir, origin=settings.log_origin)
    hotline = load_policy(settings.hotline_policy)
    return LedgerContext(
        keyring=keyring, policy=policy_document(settings, hotline), hotline=hotline
    )


def ledger_context(db: Session) -> LedgerContext:
    context = db.info.get(CONTEXT_KEY)
    if not isinstance(context, LedgerContext):
        raise RuntimeError("this database session has no ledger context (make_sessionmaker)")
    return context
