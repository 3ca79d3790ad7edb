"""What a track contributes, as plain values: ``fusioncell.bootstrap`` lists one per track.

The ledger, the web shell, the migrations and ``verify`` see a track only through these
values, so adding a track is a new folder and one ``Track(...)`` line in the bootstrap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import ModuleType
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from fusioncell.cell.policy import Permission, Viewer, can
from fusioncell.clock import Clock
from fusioncell.ledger.rules import RulesSection
from fusioncell.ledger.verify.replay import ReplayFactory
from fusioncell.live.feeds import EventFeed


@dataclass(frozen=True)
class NavItem:
    """A link in every page's navigation: its path, its label (marked with ``N_``) and its
    place (links are shown by ``order``, whatever the order of the tracks).

    ``requires`` keeps a link from those its page would refuse: a permission, or a policy
    predicate where the page's rule is more than one permission (``can_watch_deadlines``).
    """

    path: str
    label: str
    order: int
    requires: Permission | Callable[[Viewer], bool] | None = None

    def shown_to(self, viewer: Viewer) -> bool:
        if self.requires is None:
            return True
        if isinstance(self.requires, Permission):
            return can(viewer, self.requires)
        return self.requires(viewer)


@dataclass(frozen=True)
class MapLayer:
    """A layer a track adds to the map page: where its GeoJSON (RFC 7946) is read from (a
    route that filters through the policy), its label (marked with ``N_``), and who is shown
    it (as ``NavItem.requires``). Each feature's ``properties`` may carry ``title``, ``grade``,
    ``tlp`` and ``url`` (its page) for the popup.

    A layer that shows a moment answers with a ``timeline`` foreign member (``start``,
    ``end``, ``at``: RFC 3339): the map page's time slider then reloads it with ``?at=``.
    Features with ``affiliation`` and ``category`` are drawn as holdings' symbols, with the
    texts of the collection's ``labels`` member."""

    url: str
    label: str
    requires: Permission | Callable[[Viewer], bool] | None = None

    def shown_to(self, viewer: Viewer) -> bool:
        return NavItem(self.url, self.label, 0, self.requires).shown_to(viewer)


@dataclass(frozen=True)
class Obligation:
    """Something the member's party owes now, shown on every page's header strip: the web
    shell knows a track's obligations only through these values."""

    id: str
    # Where the item is shown, and where the strip's button posts (fields ``csrf_token``,
    # ``next``; ``None`` when the member may not act on it).
    url: str
    act_url: str | None
    act_label: str
    # Most urgent first: by ``rank``, then by ``deadline``.
    rank: int
    kind: str  # a class name, e.g. the precedence ("flash")
    kind_label: str  # translated
    summary: str
    deadline: datetime
    # Escalation steps reached so far: a new step raises the alert again.
    steps: int
    # Whether its arrival raises the alert on every page (a FLASH message).
    alerts: bool
    # What unread counts are grouped by (the hotline's channel).
    group: str


# A track's open obligations for the viewer, at ``now``; a constant number of statements.
ObligationsProvider = Callable[[Session, Viewer, datetime], Sequence[Obligation]]


class Running(Protocol):
    """A background duty of every app process: started with the app, stopped with it."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Worker:
    """A background worker: its name (the app keeps it as ``app.state.<name>`` and in
    ``app.state.workers``) and how to make it from the app's sessionmaker and clock."""

    name: str
    make: Callable[[sessionmaker[Session], Clock], Running]
    # Whether it only saves time later (a warm-up): the app skips it when ``Settings.warm_up``
    # is off, and nothing may depend on it having run.
    warm_up: bool = False


@dataclass(frozen=True)
class Track:
    name: str
    # Modules defining the track's tables, for the migrations' model registry.
    models: tuple[ModuleType, ...] = ()
    # The track's entry types; values are signed, never renamed or reused.
    entry_types: tuple[type[StrEnum], ...] = ()
    # Who may read the bodies of its entry types, beyond being in the audience (``None``:
    # the audience decides); a type left out is readable by nobody.
    read_permissions: Mapping[StrEnum, Permission | None] = field(default_factory=dict)
    # Its section of the rules in force, if any.
    rules: RulesSection[Any] | None = None
    # Verification replays: each observes every entry and names the first problem.
    replays: tuple[ReplayFactory, ...] = ()
    # State checks: compare the database with what the log says (``verify --database``).
    state_checks: tuple[Any, ...] = ()
    # FastAPI routers: the API's (included first, track by track), then the pages'.
    routers: tuple[Any, ...] = ()
    pages: tuple[Any, ...] = ()
    # Pages in the navigation.
    nav: tuple[NavItem, ...] = ()
    # Layers on the map page, beside the agreed geometry.
    map_layers: tuple[MapLayer, ...] = ()
    # Its feeds on the live-event bus: which of its events a viewer hears, rendered how.
    feeds: tuple[EventFeed, ...] = ()
    # Background workers, made and started by the app (when it runs background duties).
    workers: tuple[Worker, ...] = ()
    # What the member's party owes, for every page's header strip.
    obligations: ObligationsProvider | None = None
