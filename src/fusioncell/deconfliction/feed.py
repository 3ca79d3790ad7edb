"""The deconfliction track's feed on the live bus: a frame for each notification step,
acknowledgement, conflict check and escalation, for whoever may read its entry (the bus
limits each event to its entry's readers). Frames carry ids and verdicts only: a page that
hears one asks for the notification again, through the policy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deconfliction.events import TRACK, EventKind
from fusioncell.deconfliction.policy import may_read
from fusioncell.deconfliction.protection_events import ProtectionEvent
from fusioncell.live.feeds import Rendered
from fusioncell.live.models import Event


class DeconflictionFeed:
    track = TRACK
    # The notifications' events and the registry's, incidents' and alerts' (one feed per track).
    kinds = frozenset(kind.value for kind in EventKind) | frozenset(
        kind.value for kind in ProtectionEvent
    )

    def visible(self, viewer: Viewer) -> ColumnElement[bool]:
        return true() if may_read(viewer) else false()

    def render(self, db: Session, viewer: Viewer, events: Sequence[Event]) -> list[Rendered]:
        return [Rendered(dict(event.payload)) for event in events]

    def record_receipts(
        self, db: Session, viewer: Viewer, subjects: Sequence[str], *, now: datetime
    ) -> None:
        """Never called: deconfliction frames carry no receipt."""
