"""Every page's console: the strip of what the member's party owes (each track's
``obligations`` provider, from ``fusioncell.bootstrap``), its countdowns and the alert banner.

The strip is rendered with the page, so it shows without JavaScript; ``console.js`` fetches
it again (``GET /console``) when a live frame may have changed it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy.exc import SQLAlchemyError

from fusioncell.cell.policy import Viewer
from fusioncell.i18n import translate
from fusioncell.text import N_
from fusioncell.tracks import Obligation, ObligationsProvider

# What console.js says; keyed by the English text, as hotline.js takes its labels.
SCRIPT_LABELS = [
    N_("overdue by %(time)s"),
    N_("Live"),
    N_("Connecting…"),
    N_("Not connected since %(time)s — deadlines shown may be stale"),
    N_("may be stale"),
    N_("Reconnected: %(count)s events caught up"),
    N_("%(precedence)s awaiting your acknowledgement: %(summary)s"),
    N_("Escalation step %(step)s: %(summary)s"),
    N_("Notifications are on."),
    N_("Notifications are blocked in this browser's settings."),
    N_("Could not acknowledge: %(status)s"),
]

# The strip shows this many at most; past it the count reads "50+".
SHOWN = 50


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def countdown_text(seconds: float, language: str) -> str:
    """The same text console.js writes each second: m:ss, h:mm:ss, or "overdue by" either."""
    whole = int(abs(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return translate(language, "overdue by %(time)s", time=text) if seconds < 0 else text


@dataclass(frozen=True)
class ConsoleItem:
    obligation: Obligation
    deadline_ms: int
    countdown: str
    overdue: bool


@dataclass(frozen=True)
class Console:
    items: Sequence[ConsoleItem]
    now_ms: int

    @property
    def count(self) -> str:
        return f"{SHOWN}+" if len(self.items) >= SHOWN else str(len(self.items))

    @property
    def alert(self) -> ConsoleItem | None:
        """What the banner shows on a page's load: the most urgent item that alerts."""
        return next((item for item in self.items if item.obligation.alerts), None)

    def counts(self) -> dict[str, int]:
        """Open items per group (the hotline: per channel)."""
        found: dict[str, int] = {}
        for item in self.items:
            found[item.obligation.group] = found.get(item.obligation.group, 0) + 1
        return found


def console_for(request: Request, viewer: Viewer | None) -> Console | None:
    """``None`` for a visitor, or when the database cannot be read (the error page that says
    so must still render)."""
    if viewer is None:
        return None
    providers: Sequence[ObligationsProvider] = getattr(request.app.state, "obligations", ())
    now: datetime = request.app.state.clock.now()
    try:
        with request.app.state.sessions() as db:
            found = [item for provider in providers for item in provider(db, viewer, now)]
    except SQLAlchemyError:
        return None
    found.sort(key=lambda o: (o.rank, o.deadline))
    language = viewer.language
    items = []
    for obligation in found[:SHOWN]:
        seconds = (obligation.deadline - now).total_seconds()
        items.append(
            ConsoleItem(
                obligation=obligation,
                deadline_ms=ms(obligation.deadline),
                countdown=countdown_text(seconds, language),
                overdue=seconds < 0,
            )
        )
    return Console(items=items, now_ms=ms(now))


def console_loader(request: Request, viewer: Viewer | None) -> Callable[[], Console | None]:
    """Read when a template asks (``base.html`` does, partials do not), and once."""
    loaded: list[Console | None] = []

    def load() -> Console | None:
        if not loaded:
            loaded.append(console_for(request, viewer))
        return loaded[0]

    return load


def script_labels(language: str) -> str:
    return json.dumps(
        {label: translate(language, label) for label in SCRIPT_LABELS}, ensure_ascii=False
    )
