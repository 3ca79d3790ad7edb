"""``fusioncell agreements sign``: the signature's entry is signed by the member's own key,
over the hash of the content the command recomputed; a hash other than the one the member
read is refused before anything is sent."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.conftest import DEMO_PASSWORD
from tests.diplomacy.test_api import propose

from fusioncell.client import CellClient
from fusioncell.clock import ManualClock
from fusioncell.diplomacy.cli import SignRefused, sign_version
from fusioncell.ledger.entries import key_id
from fusioncell.ledger.models import LogEntry
from fusioncell.own_key import public_key_of

Headers = Callable[[str], dict[str, str]]


def test_a_member_signs_the_recomputed_hash_with_their_own_key(
    client: TestClient, token_for: Headers, clock: ManualClock, db: Session
) -> None:
    agreement = propose(client, token_for, clock)
    cell = CellClient("http://testserver", http=client, now=clock.now)
    cell.log_in("bravo.liaison", DEMO_PASSWORD)
    private = Ed25519PrivateKey.generate()
    cell.enroll(private)
    with pytest.raises(SignRefused, match="not to the"):
        sign_version(cell, private, agreement["id"], expected="0" * 64)
    signed = sign_version(
        cell, private, agreement["id"], expected=agreement["versions"][0]["content_hash"]
    )
    assert signed["organisation"] == "BRAVO"
    entry = db.scalar(select(LogEntry).where(LogEntry.index == signed["log_index"]))
    db.commit()
    assert entry is not None and entry.entry_type == "diplomacy.version.signed"
    assert entry.author_key_id == key_id(public_key_of(private)) and not entry.custodial
    again = sign_version(cell, private, agreement["id"])
    assert again["log_index"] == signed["log_index"]
