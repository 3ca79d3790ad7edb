"""The registry: one list of tracks, and what the log, the app, the migrations, the navigation
and ``verify`` take from it."""

from __future__ import annotations

import re
from dataclasses import replace
from enum import StrEnum

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fusioncell import bootstrap
from fusioncell.app import create_app
from fusioncell.cell.policy import ENTRY_READ_PERMISSION, Permission, register_read_permissions
from fusioncell.clock import Clock, ManualClock
from fusioncell.commercial.entries import CommercialEntry
from fusioncell.config import Settings
from fusioncell.cot.entries import CotEntry
from fusioncell.cot.gateway import make_gateway as make_cot_gateway
from fusioncell.db import registry
from fusioncell.deconfliction.engine import NotificationEngine
from fusioncell.deconfliction.entries import NotificationEntry, ProtectionEntry
from fusioncell.deconfliction.protection_watch import ProtectionWatch
from fusioncell.deescalation.entries import DeescalationEntry
from fusioncell.diplomacy.engine import DiplomacyEngine
from fusioncell.diplomacy.entries import DiplomacyEntry
from fusioncell.hotline.engine import HotlineEngine
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.intel.entries import IntelEntry
from fusioncell.intel.taxii.entries import TaxiiEntry
from fusioncell.intel.warmup import ValidationWarmup
from fusioncell.ledger.entries import LedgerEntry, known_entry_types, register_entry_types
from fusioncell.tracks import Worker
from fusioncell.verification.engine import VerificationEngine
from fusioncell.verification.entries import VerificationEntry

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
    "geo.version.proposed": "GeoEntry",
    "geo.version.signed": "GeoEntry",
    "hotline.channel.opened": "HotlineEntry",
    "hotline.message.sent": "HotlineEntry",
    "hotline.message.delivered": "HotlineEntry",
    "hotline.message.acknowledged": "HotlineEntry",
    "hotline.escalation": "HotlineEntry",
    "hotline.deadline.action": "HotlineEntry",
    "intel.report.submitted": "IntelEntry",
    "intel.report.released": "IntelEntry",
    "intel.report.responded": "IntelEntry",
    "intel.taxii.imported": "TaxiiEntry",
    "intel.taxii.withdrawn": "TaxiiEntry",
    "deescalation.observations.recorded": "DeescalationEntry",
    "deescalation.baseline.declared": "DeescalationEntry",
    "deescalation.baseline.accepted": "DeescalationEntry",
    "deescalation.exception.proposed": "DeescalationEntry",
    "deescalation.exception.signed": "DeescalationEntry",
    "deescalation.compliance.computed": "DeescalationEntry",
    "deescalation.inspection.requested": "DeescalationEntry",
    "deescalation.inspection.reported": "DeescalationEntry",
    "deescalation.incident.recorded": "DeescalationEntry",
    "deconfliction.notification.submitted": "NotificationEntry",
    "deconfliction.notification.checked": "NotificationEntry",
    "deconfliction.notification.acknowledged": "NotificationEntry",
    "deconfliction.notification.amended": "NotificationEntry",
    "deconfliction.notification.withdrawn": "NotificationEntry",
    "deconfliction.notification.noted": "NotificationEntry",
    "deconfliction.notification.justified": "NotificationEntry",
    "deconfliction.notification.escalated": "NotificationEntry",
    "deconfliction.place.proposed": "ProtectionEntry",
    "deconfliction.place.signed": "ProtectionEntry",
    "deconfliction.no_strike_list.sent": "ProtectionEntry",
    "deconfliction.no_strike_list.acknowledged": "ProtectionEntry",
    "deconfliction.incident.reported": "ProtectionEntry",
    "deconfliction.alert.raised": "ProtectionEntry",
    "deconfliction.alert.acknowledged": "ProtectionEntry",
    "verification.evidence.stored": "VerificationEntry",
    "verification.complaint.filed": "VerificationEntry",
    "verification.complaint.triaged": "VerificationEntry",
    "verification.verifier.tasked": "VerificationEntry",
    "verification.site.visited": "VerificationEntry",
    "verification.access.requested": "VerificationEntry",
    "verification.access.answered": "VerificationEntry",
    "verification.incident.recorded": "VerificationEntry",
    "verification.finding.drafted": "VerificationEntry",
    "verification.comment.sealed": "VerificationEntry",
    "verification.comment.revealed": "VerificationEntry",
    "verification.finding.issued": "VerificationEntry",
    "verification.remedy.requested": "VerificationEntry",
    "verification.remedy.verified": "VerificationEntry",
    "verification.case.closed": "VerificationEntry",
    "verification.deadline.escalated": "VerificationEntry",
    "commercial.evidence.stored": "CommercialEntry",
    "commercial.project.proposed": "CommercialEntry",
    "commercial.project.status_changed": "CommercialEntry",
    "commercial.milestone.added": "CommercialEntry",
    "commercial.milestone.evidence_attached": "CommercialEntry",
    "commercial.milestone.decided": "CommercialEntry",
    "commercial.shipment.declared": "CommercialEntry",
    "commercial.shipment.inspected": "CommercialEntry",
    "commercial.shipment.passed": "CommercialEntry",
    "commercial.shipment.refused": "CommercialEntry",
    "diplomacy.agreement.proposed": "DiplomacyEntry",
    "diplomacy.amendment.proposed": "DiplomacyEntry",
    "diplomacy.version.signed": "DiplomacyEntry",
    "diplomacy.milestone.verification_requested": "DiplomacyEntry",
    "diplomacy.comment.sealed": "DiplomacyEntry",
    "diplomacy.comment.revealed": "DiplomacyEntry",
    "diplomacy.milestone.assessed": "DiplomacyEntry",
    "diplomacy.meeting.requested": "DiplomacyEntry",
    "diplomacy.minutes.drafted": "DiplomacyEntry",
    "diplomacy.minutes.commented": "DiplomacyEntry",
    "diplomacy.minutes.signed": "DiplomacyEntry",
    "diplomacy.deadline.escalated": "DiplomacyEntry",
    "cot.certificate.issued": "CotEntry",
    "cot.certificate.revoked": "CotEntry",
    "cot.event.received": "CotEntry",
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


def test_every_entry_type_has_a_read_permission_declared_by_the_track_that_owns_it() -> None:
    for track in bootstrap.TRACKS:
        own = {value.value for kind in track.entry_types for value in kind}
        declared = {entry_type.value for entry_type in track.read_permissions}
        assert own <= declared, track.name
    assert set(ENTRY_READ_PERMISSION) == set(known_entry_types())
    assert {t for t, needed in ENTRY_READ_PERMISSION.items() if needed is not None} == {
        kind.value
        for kind in (
            *HotlineEntry,
            *IntelEntry,
            *TaxiiEntry,
            *DeescalationEntry,
            *NotificationEntry,
            *ProtectionEntry,
            *VerificationEntry,
            *CommercialEntry,
            *DiplomacyEntry,
            CotEntry.EVENT_RECEIVED,
        )
    }


def test_a_read_permission_once_declared_cannot_be_changed() -> None:
    with pytest.raises(ValueError, match="already has another read permission"):
        register_read_permissions({HotlineEntry.MESSAGE_SENT: None})
    assert ENTRY_READ_PERMISSION["hotline.message.sent"] == Permission.MESSAGE_READ


def test_registering_a_track_again_changes_nothing() -> None:
    before = known_entry_types()
    register_entry_types(*(k for t in bootstrap.TRACKS for k in t.entry_types))
    assert known_entry_types() == before


def test_the_navigation_lists_each_tracks_link_in_its_order_and_no_placeholder() -> None:
    assert [(item.path, item.label) for item in bootstrap.NAV] == [
        ("/hotline", "Hotline"),
        ("/intel", "Intelligence"),
        ("/hotline/deadlines", "Deadlines"),
        ("/deescalation", "De-escalation"),
        ("/deconfliction", "Deconfliction"),
        ("/verification", "Disputes"),
        ("/agreements", "Agreements"),
        ("/projects", "Projects"),
        ("/map", "Operations room"),
    ]
    assert all(track.nav or track.pages or track.models for track in bootstrap.TRACKS)


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
        "live",
        "hotline",
        "intel",
        "deescalation",
        "deconfliction",
        "verification",
        "commercial",
        "diplomacy",
        "cot",
    }


def test_verify_checks_state_with_one_check_per_track_that_has_tables_to_serve() -> None:
    assert [type(check).__name__ for check in bootstrap.STATE_CHECKS] == [
        "CellStateCheck",
        "GeoStateCheck",
        "HotlineStateCheck",
        "IntelStateCheck",
        "DeescalationStateCheck",
        "NotificationStateCheck",
        "ProtectionStateCheck",
        "VerificationStateCheck",
        "DiplomacyStateCheck",
        "CommercialStateCheck",
        "CotStateCheck",
    ]


def test_the_tracks_list_their_background_workers() -> None:
    assert (
        Worker("hotline_engine", HotlineEngine),
        Worker("stix_warmup", ValidationWarmup, warm_up=True),
        Worker("deconfliction_engine", NotificationEngine),
        Worker("protection_watch", ProtectionWatch),
        Worker("verification_engine", VerificationEngine),
        Worker("diplomacy_engine", DiplomacyEngine),
        Worker("cot_gateway", make_cot_gateway),
    ) == bootstrap.WORKERS


def test_the_app_makes_each_registered_worker_and_names_it_as_the_registry_does(
    app: FastAPI,
) -> None:
    assert list(app.state.workers) == [worker.name for worker in bootstrap.WORKERS]
    assert isinstance(app.state.workers["hotline_engine"], HotlineEngine)
    assert app.state.hotline_engine is app.state.workers["hotline_engine"]


def test_an_app_told_not_to_warm_up_makes_every_worker_but_the_warm_ups(
    engine: Engine, settings: Settings, clock: ManualClock
) -> None:
    app = create_app(replace(settings, warm_up=False), clock=clock)
    assert list(app.state.workers) == [w.name for w in bootstrap.WORKERS if not w.warm_up]
    assert "stix_warmup" not in app.state.workers
    assert [w.name for w in bootstrap.WORKERS if w.warm_up] == ["stix_warmup"]


class _Recorder:
    def __init__(self, name: str, journal: list[str]) -> None:
        self.name = name
        self.journal = journal

    def start(self) -> None:
        self.journal.append(f"start {self.name}")

    def stop(self) -> None:
        self.journal.append(f"stop {self.name}")


def test_the_app_starts_exactly_the_registrys_workers_and_stops_them_on_shutdown(
    engine: Engine, settings: Settings, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal: list[str] = []

    def recorder(name: str) -> Worker:
        def make(_sessions: sessionmaker[Session], _clock: Clock) -> _Recorder:
            return _Recorder(name, journal)

        return Worker(name, make)

    names = [worker.name for worker in bootstrap.WORKERS] + ["another_tracks_worker"]
    monkeypatch.setattr(bootstrap, "WORKERS", tuple(recorder(name) for name in names))
    app = create_app(replace(settings, background_checkpoints=True), clock=clock)
    try:
        with TestClient(app):
            assert journal == [f"start {name}" for name in names]
        assert journal[len(names) :] == [f"stop {name}" for name in names]
    finally:
        app.state.engine.dispose()


def test_the_app_starts_no_worker_when_background_duties_are_off(
    engine: Engine, settings: Settings, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal: list[str] = []
    monkeypatch.setattr(
        bootstrap,
        "WORKERS",
        (Worker("quiet", lambda _sessions, _clock: _Recorder("quiet", journal)),),
    )
    app = create_app(replace(settings, background_checkpoints=False), clock=clock)
    try:
        with TestClient(app):
            assert journal == []
    finally:
        app.state.engine.dispose()


def test_a_worker_may_not_hide_what_the_app_keeps_under_the_same_name(
    engine: Engine, settings: Settings, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal: list[str] = []
    monkeypatch.setattr(
        bootstrap,
        "WORKERS",
        (Worker("settings", lambda _sessions, _clock: _Recorder("settings", journal)),),
    )
    with pytest.raises(ValueError, match=r"would hide app\.state\.settings"):
        create_app(settings, clock=clock)
