"""Idempotent creates: a client-chosen id, or an ``Idempotency-Key`` turned into one.

Deriving the id from (viewer, scope, key) means one mechanism serves both: the action sees
an id it has already stored and returns the first result, never a duplicate.
"""

from __future__ import annotations

import uuid

from fusioncell.cell.policy import Viewer
from fusioncell.errors import InvalidInput

_NAMESPACE = uuid.UUID("6f1c3e0a-6d44-4a39-9d0e-2b0cbbd2f0a1")


def resolve_id(
    viewer: Viewer, given: uuid.UUID | None, key: str | None, *, scope: str
) -> uuid.UUID:
    if given is not None and key is not None:
        raise InvalidInput("give either a client-chosen id or an Idempotency-Key, not both")
    if given is not None:
        return given
    if key is not None:
        if not key.strip():
            raise InvalidInput("the Idempotency-Key header is empty")
        return uuid.uuid5(_NAMESPACE, f"{viewer.member_id}/{scope}/{key.strip()}")
    return uuid.uuid4()
