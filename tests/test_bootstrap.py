"""The registry: one list of tracks, and what the log, the app, the migrations, the navigation
and ``verify`` take from it."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from fusioncell import bootstrap
from fusioncell.db import registry
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


def test_the_navigation_lists_each_tracks_link_in_its_order() -> None:
    assert bootstrap.NAV == (
        ("/hotline", "Hotline"),
        ("/tracks/intelligence", "Intelligence"),
        ("/map", "De-escalation map"),
        ("/tracks/verification", "Verification"),
        ("/tracks/agreements", "Agreements"),
        ("/tracks/commerce", "Commerce"),
    )


def test_the_app_serves_every_tracks_routers_and_shows_the_registrys_navigation(
    app: FastAPI,
) -> None:
    documented = set(app.openapi()["paths"])
    for router in bootstrap.API_ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            path = re.sub(r":\w+}", "}", route.path)  # OpenAPI drops the converter
            assert not route.include_in_schema or path in documented
    for router in (*bootstrap.API_ROUTERS, *bootstrap.PAGE_ROUTERS):
        for route in router.routes:
            assert isinstance(route, APIRoute)
            params = {name: "1" for name in route.param_convertors}
            assert app.url_path_for(route.name, **params)
    assert app.state.nav is bootstrap.NAV


def test_migrations_see_every_tracks_tables() -> None:
    tables = {
        table.name
        for module in registry.MODEL_MODULES
        for name in dir(module)
        if (table := getattr(getattr(module, name), "__table__", None)) is not None
    }
    assert tables <= set(registry.metadata.tables)
    assert {m.__name__.split(".")[1] for m in registry.MODEL_MODULES} == {
        "cell",
        "geo",
        "ledger",
        "hotline",
    }


def test_verify_checks_state_with_one_check_per_track_that_has_tables_to_serve() -> None:
    assert [type(check).__name__ for check in bootstrap.STATE_CHECKS] == [
        "CellStateCheck",
        "GeoStateCheck",
        "HotlineStateCheck",
    ]
