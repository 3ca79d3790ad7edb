"""The registry: one list of tracks, and the entry types the log accepts through it."""

from __future__ import annotations

from enum import StrEnum

import pytest

from fusioncell import bootstrap
from fusioncell.ledger.entries import LedgerEntry, known_entry_types, register_entry_types

# Every entry type ever defined. Values are signed: this list only grows, and a value once
# here never changes meaning or owner.
ENTRY_TYPES = {
    "log.policy.adopted": "LedgerEntry",
    "cell.key.enrolled": "LedgerEntry",
    "cell.key.rotated": "LedgerEntry",
    "cell.key.revoked": "LedgerEntry",
    "cell.organisation.created": "CellEntry",
    "cell.member.created": "CellEntry",
    "cell.member.disabled": "CellEntry",
    "cell.member.countersigned": "CellEntry",
    "cell.role.granted": "CellEntry",
    "cell.role.revoked": "CellEntry",
    "cell.password.changed": "CellEntry",
    "cell.totp.enabled": "CellEntry",
    "cell.totp.disabled": "CellEntry",
    "cell.totp.enrolment_started": "CellEntry",
    "cell.token.issued": "CellEntry",
    "cell.token.revoked": "CellEntry",
    "cell.session.started": "CellEntry",
    "cell.session.ended": "CellEntry",
    "cell.login.throttled": "CellEntry",
    "cell.language.set": "CellEntry",
    "geo.feature.defined": "GeoEntry",
    "hotline.channel.opened": "HotlineEntry",
    "hotline.message.sent": "HotlineEntry",
    "hotline.message.delivered": "HotlineEntry",
    "hotline.message.acknowledged": "HotlineEntry",
    "hotline.escalation": "HotlineEntry",
}


def test_the_log_accepts_exactly_the_pinned_entry_types_each_owned_by_one_track() -> None:
    owners = {
        value.value: kind.__name__
        for kind in (LedgerEntry, *(k for t in bootstrap.TRACKS for k in t.entry_types))
        for value in kind
    }
    assert owners == ENTRY_TYPES
    assert set(known_entry_types()) == set(ENTRY_TYPES)


def test_a_track_cannot_register_a_value_another_track_owns() -> None:
    class Reused(StrEnum):
        SENT = "hotline.message.sent"

    with pytest.raises(ValueError, match="already HotlineEntry's"):
        register_entry_types(Reused)
    assert known_entry_types().count("hotline.message.sent") == 1


def test_registering_a_track_again_changes_nothing() -> None:
    before = known_entry_types()
    register_entry_types(*(k for t in bootstrap.TRACKS for k in t.entry_types))
    assert known_entry_types() == before
