"""The only list of tracks and what each contributes (after Warehouse's ``includeme`` and
*Cosmic Python*'s ``bootstrap.py``).

``app.py``, the migrations' model registry, the navigation, ``verify`` and the CLI read
``TRACKS``; nothing else names a track. Importing this module registers every track's entry
types with the log, which accepts no other, and every rules section.
"""

from __future__ import annotations

from types import ModuleType

from fastapi import APIRouter

from fusioncell.cell import api as cell_api
from fusioncell.cell import models as cell_models
from fusioncell.cell import views as cell_views
from fusioncell.cell.entries import CellEntry
from fusioncell.cell.policy import (
    CELL_READ_PERMISSIONS,
    Permission,
    can_watch_deadlines,
    register_read_permissions,
)
from fusioncell.cell.rules import CELL_RULES
from fusioncell.cell.state_check import CellStateCheck
from fusioncell.commercial import api as commercial_api
from fusioncell.commercial import models as commercial_models
from fusioncell.commercial import policy as commercial_policy
from fusioncell.commercial import views as commercial_views
from fusioncell.commercial.entries import COMMERCIAL_READ_PERMISSIONS, CommercialEntry
from fusioncell.commercial.feed import CommercialFeed
from fusioncell.commercial.replay import CommercialReplay
from fusioncell.commercial.rules import COMMERCIAL_RULES
from fusioncell.commercial.state_check import CommercialStateCheck
from fusioncell.cot import models as cot_models
from fusioncell.cot.entries import COT_READ_PERMISSIONS, CotEntry
from fusioncell.cot.gateway import make_gateway as make_cot_gateway
from fusioncell.cot.rules import COT_RULES
from fusioncell.cot.state_check import CotStateCheck
from fusioncell.deconfliction import ack_form as deconfliction_ack_form
from fusioncell.deconfliction import models as deconfliction_models
from fusioncell.deconfliction import policy as deconfliction_policy
from fusioncell.deconfliction import views as deconfliction_views
from fusioncell.deconfliction.api import incidents as deconfliction_incidents_api
from fusioncell.deconfliction.api import map as deconfliction_map_api
from fusioncell.deconfliction.api import notifications as deconfliction_notifications_api
from fusioncell.deconfliction.api import registry as deconfliction_registry_api
from fusioncell.deconfliction.engine import NotificationEngine
from fusioncell.deconfliction.entries import (
    DECONFLICTION_READ_PERMISSIONS,
    NotificationEntry,
    ProtectionEntry,
)
from fusioncell.deconfliction.feed import DeconflictionFeed
from fusioncell.deconfliction.obligations import open_obligations as deconfliction_obligations
from fusioncell.deconfliction.protection_state_check import ProtectionStateCheck
from fusioncell.deconfliction.protection_watch import ProtectionWatch
from fusioncell.deconfliction.replay import NotificationReplay
from fusioncell.deconfliction.rules import DECONFLICTION_RULES
from fusioncell.deconfliction.state_check import NotificationStateCheck
from fusioncell.deescalation import api as deescalation_api
from fusioncell.deescalation import api_inspections as deescalation_inspections_api
from fusioncell.deescalation import models as deescalation_models
from fusioncell.deescalation import policy as deescalation_policy
from fusioncell.deescalation import views as deescalation_views
from fusioncell.deescalation import views_inspections as deescalation_inspections_views
from fusioncell.deescalation.entries import DEESCALATION_READ_PERMISSIONS, DeescalationEntry
from fusioncell.deescalation.feed import DeescalationFeed
from fusioncell.deescalation.obligations import open_obligations as deescalation_obligations
from fusioncell.deescalation.replay import ComplianceReplay
from fusioncell.deescalation.rules import DEESCALATION_RULES
from fusioncell.deescalation.state_check import DeescalationStateCheck
from fusioncell.diplomacy import api as diplomacy_api
from fusioncell.diplomacy import api_meetings as diplomacy_meetings_api
from fusioncell.diplomacy import models as diplomacy_models
from fusioncell.diplomacy import policy as diplomacy_policy
from fusioncell.diplomacy import views as diplomacy_views
from fusioncell.diplomacy.engine import DiplomacyEngine
from fusioncell.diplomacy.entries import DIPLOMACY_READ_PERMISSIONS, DiplomacyEntry
from fusioncell.diplomacy.feed import DiplomacyFeed
from fusioncell.diplomacy.obligations import open_obligations as diplomacy_obligations
from fusioncell.diplomacy.replay import DiplomacyReplay
from fusioncell.diplomacy.rules import DIPLOMACY_RULES
from fusioncell.diplomacy.state_check import DiplomacyStateCheck
from fusioncell.geo import api as geo_api
from fusioncell.geo import models as geo_models
from fusioncell.geo import views as geo_views
from fusioncell.geo.entries import GEO_READ_PERMISSIONS, GeoEntry
from fusioncell.geo.state_check import GeoStateCheck
from fusioncell.hotline import api as hotline_api
from fusioncell.hotline import models as hotline_models
from fusioncell.hotline import views as hotline_views
from fusioncell.hotline.engine import HotlineEngine
from fusioncell.hotline.entries import HOTLINE_READ_PERMISSIONS, HotlineEntry
from fusioncell.hotline.feed import HotlineFeed
from fusioncell.hotline.obligations import open_obligations
from fusioncell.hotline.replay import EscalationReplay
from fusioncell.hotline.rules import HOTLINE_RULES
from fusioncell.hotline.state_check import HotlineStateCheck
from fusioncell.intel import api as intel_api
from fusioncell.intel import models as intel_models
from fusioncell.intel import policy as intel_policy
from fusioncell.intel import views as intel_views
from fusioncell.intel.entries import INTEL_READ_PERMISSIONS, IntelEntry
from fusioncell.intel.feed import IntelFeed
from fusioncell.intel.state_check import IntelStateCheck
from fusioncell.intel.taxii import models as taxii_models
from fusioncell.intel.taxii import routes as taxii_routes
from fusioncell.intel.taxii.entries import TAXII_READ_PERMISSIONS, TaxiiEntry
from fusioncell.intel.warmup import ValidationWarmup
from fusioncell.ledger import api as ledger_api
from fusioncell.ledger import models as ledger_models
from fusioncell.ledger import views as ledger_views
from fusioncell.ledger.entries import register_entry_types
from fusioncell.ledger.rules import register_sections
from fusioncell.ledger.verify.replay import ReplayFactory
from fusioncell.ledger.verify.state import StateCheck
from fusioncell.live import models as live_models
from fusioncell.live.feeds import EventFeed, check_feeds
from fusioncell.text import N_
from fusioncell.tracks import MapLayer, NavItem, ObligationsProvider, Track, Worker
from fusioncell.verification import api as verification_api
from fusioncell.verification import models as verification_models
from fusioncell.verification import policy as verification_policy
from fusioncell.verification import views as verification_views
from fusioncell.verification.engine import VerificationEngine
from fusioncell.verification.entries import VERIFICATION_READ_PERMISSIONS, VerificationEntry
from fusioncell.verification.feed import VerificationFeed
from fusioncell.verification.obligations import open_obligations as verification_obligations
from fusioncell.verification.replay import CaseReplay
from fusioncell.verification.rules import VERIFICATION_RULES
from fusioncell.verification.state_check import VerificationStateCheck

TRACKS: tuple[Track, ...] = (
    Track(
        name="cell",
        models=(cell_models,),
        entry_types=(CellEntry,),
        read_permissions=CELL_READ_PERMISSIONS,
        rules=CELL_RULES,
        state_checks=(CellStateCheck(),),
        routers=(cell_api.router,),
        pages=(cell_views.router,),
    ),
    Track(
        name="geo",
        models=(geo_models,),
        entry_types=(GeoEntry,),
        read_permissions=GEO_READ_PERMISSIONS,
        state_checks=(GeoStateCheck(),),
        routers=(geo_api.router,),
        pages=(geo_views.router,),
        nav=(NavItem("/map", N_("Operations room"), 32),),
    ),
    Track(
        name="ledger",
        models=(ledger_models,),
        routers=(ledger_api.router,),
        pages=(ledger_views.router,),
    ),
    # The live-event bus: its events table, read by every track's feed.
    Track(name="live", models=(live_models,)),
    Track(
        name="hotline",
        models=(hotline_models,),
        entry_types=(HotlineEntry,),
        read_permissions=HOTLINE_READ_PERMISSIONS,
        rules=HOTLINE_RULES,
        replays=(EscalationReplay,),
        state_checks=(HotlineStateCheck(),),
        routers=(hotline_api.router,),
        pages=(hotline_views.router,),
        nav=(
            NavItem("/hotline", N_("Hotline"), 10, requires=Permission.MESSAGE_READ),
            NavItem("/hotline/deadlines", N_("Deadlines"), 20, requires=can_watch_deadlines),
        ),
        feeds=(HotlineFeed(),),
        workers=(Worker("hotline_engine", HotlineEngine),),
        obligations=open_obligations,
    ),
    Track(
        name="intel",
        models=(intel_models, taxii_models),
        entry_types=(IntelEntry, TaxiiEntry),
        read_permissions={**INTEL_READ_PERMISSIONS, **TAXII_READ_PERMISSIONS},
        state_checks=(IntelStateCheck(),),
        # The API's routes, then TAXII 2.1's (discovery at /taxii2/, API roots at their paths).
        routers=(intel_api.router, taxii_routes.router),
        pages=(intel_views.router,),
        nav=(NavItem("/intel", N_("Intelligence"), 15, requires=intel_policy.may_read),),
        map_layers=(
            MapLayer("/api/v1/intel/map", N_("Intelligence reports"), intel_policy.may_read),
        ),
        feeds=(IntelFeed(),),
        # STIX validation imported and built in the background once the app has started.
        workers=(Worker("stix_warmup", ValidationWarmup, warm_up=True),),
    ),
    Track(
        name="deescalation",
        models=(deescalation_models,),
        entry_types=(DeescalationEntry,),
        read_permissions=DEESCALATION_READ_PERMISSIONS,
        rules=DEESCALATION_RULES,
        replays=(ComplianceReplay,),
        state_checks=(DeescalationStateCheck(),),
        routers=(deescalation_api.router, deescalation_inspections_api.router),
        pages=(deescalation_views.router, deescalation_inspections_views.router),
        nav=(
            NavItem(
                "/deescalation", N_("De-escalation"), 25, requires=deescalation_policy.may_read
            ),
        ),
        # Holdings at a time: the map's time slider reloads it with ``at``.
        map_layers=(
            MapLayer("/api/v1/deescalation/map", N_("Holdings"), deescalation_policy.may_read),
        ),
        feeds=(DeescalationFeed(),),
        # The inspections the verifier owes, in its header strip.
        obligations=deescalation_obligations,
    ),
    Track(
        name="deconfliction",
        models=(deconfliction_models,),
        entry_types=(NotificationEntry, ProtectionEntry),
        read_permissions=DECONFLICTION_READ_PERMISSIONS,
        rules=DECONFLICTION_RULES,
        replays=(NotificationReplay,),
        state_checks=(NotificationStateCheck(), ProtectionStateCheck()),
        routers=(
            deconfliction_map_api.router,
            deconfliction_notifications_api.router,
            deconfliction_registry_api.router,
            deconfliction_incidents_api.router,
        ),
        feeds=(DeconflictionFeed(),),
        obligations=deconfliction_obligations,
        pages=(deconfliction_ack_form.router, deconfliction_views.router),
        nav=(
            NavItem(
                "/deconfliction", N_("Deconfliction"), 27, requires=deconfliction_policy.may_read
            ),
        ),
        # The active notifications in the operations room.
        map_layers=(
            MapLayer(
                "/api/v1/notifications/map", N_("Notifications"), deconfliction_policy.may_read
            ),
        ),
        workers=(
            Worker("deconfliction_engine", NotificationEngine),
            Worker("protection_watch", ProtectionWatch),
        ),
    ),
    Track(
        name="verification",
        models=(verification_models,),
        entry_types=(VerificationEntry,),
        read_permissions=VERIFICATION_READ_PERMISSIONS,
        rules=VERIFICATION_RULES,
        replays=(CaseReplay,),
        state_checks=(VerificationStateCheck(),),
        routers=(verification_api.router,),
        pages=(verification_views.router,),
        nav=(NavItem("/verification", N_("Disputes"), 28, requires=verification_policy.may_read),),
        feeds=(VerificationFeed(),),
        # Deadlines owed in the header strip; sealed comments revealed and deadlines escalated.
        obligations=verification_obligations,
        workers=(Worker("verification_engine", VerificationEngine),),
    ),
    Track(
        name="diplomacy",
        models=(diplomacy_models,),
        entry_types=(DiplomacyEntry,),
        read_permissions=DIPLOMACY_READ_PERMISSIONS,
        rules=DIPLOMACY_RULES,
        replays=(DiplomacyReplay,),
        state_checks=(DiplomacyStateCheck(),),
        routers=(diplomacy_api.router, diplomacy_meetings_api.router),
        pages=(diplomacy_views.router,),
        nav=(NavItem("/agreements", N_("Agreements"), 29, requires=diplomacy_policy.may_read),),
        feeds=(DiplomacyFeed(),),
        # Versions to sign, milestones due, comment windows open and assessments owed.
        obligations=diplomacy_obligations,
        # Sealed comments revealed when their window closes.
        workers=(Worker("diplomacy_engine", DiplomacyEngine),),
    ),
    Track(
        name="commercial",
        models=(commercial_models,),
        entry_types=(CommercialEntry,),
        read_permissions=COMMERCIAL_READ_PERMISSIONS,
        rules=COMMERCIAL_RULES,
        replays=(CommercialReplay,),
        state_checks=(CommercialStateCheck(),),
        routers=(commercial_api.router,),
        pages=(commercial_views.router,),
        nav=(NavItem("/projects", N_("Projects"), 30, requires=commercial_policy.may_read),),
        feeds=(CommercialFeed(),),
    ),
    Track(
        name="cot",
        models=(cot_models,),
        entry_types=(CotEntry,),
        read_permissions=COT_READ_PERMISSIONS,
        rules=COT_RULES,
        state_checks=(CotStateCheck(),),
        # The Cursor-on-Target gateway for TAK clients: it listens when a CoT port is set
        # (``fusioncell serve --cot-port``), and does nothing otherwise.
        workers=(Worker("cot_gateway", make_cot_gateway),),
    ),
)

register_entry_types(*(kind for track in TRACKS for kind in track.entry_types))
for track in TRACKS:
    register_read_permissions(track.read_permissions)
register_sections(*(track.rules for track in TRACKS if track.rules is not None))

MODEL_MODULES: tuple[ModuleType, ...] = tuple(m for track in TRACKS for m in track.models)
STATE_CHECKS: tuple[StateCheck, ...] = tuple(c for track in TRACKS for c in track.state_checks)
API_ROUTERS: tuple[APIRouter, ...] = tuple(r for track in TRACKS for r in track.routers)
PAGE_ROUTERS: tuple[APIRouter, ...] = tuple(r for track in TRACKS for r in track.pages)
# The navigation, by each link's order; each page shows a viewer the links it may follow.
NAV: tuple[NavItem, ...] = tuple(
    sorted((item for track in TRACKS for item in track.nav), key=lambda item: item.order)
)

# The map page's layers beyond the agreed geometry, every track's; each shown to whoever
# may read it.
MAP_LAYERS: tuple[MapLayer, ...] = tuple(layer for track in TRACKS for layer in track.map_layers)

# The live-event bus's feeds: one SSE stream per member carries every track's events.
FEEDS: tuple[EventFeed, ...] = tuple(feed for track in TRACKS for feed in track.feeds)
check_feeds(FEEDS)

# The background workers every app process starts, every track's.
WORKERS: tuple[Worker, ...] = tuple(worker for track in TRACKS for worker in track.workers)

# What every page's header strip asks each track: what the member's party owes now.
OBLIGATIONS: tuple[ObligationsProvider, ...] = tuple(
    track.obligations for track in TRACKS if track.obligations is not None
)

# What ``verify`` replays the log with, every track's.
REPLAYS: tuple[ReplayFactory, ...] = tuple(replay for track in TRACKS for replay in track.replays)
