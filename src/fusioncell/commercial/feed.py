"""The commercial track's feed on the live bus: a frame for each step of a project, a
milestone or a shipment, and for stored evidence, to whoever may read its entry (the bus
limits each event to its entry's readers)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.commercial.events import TRACK, EventKind
from fusioncell.commercial.policy import may_read
from fusioncell.live.feeds import Rendered
from fusioncell.live.models import Event


class CommercialFeed:
    track = TRACK
    kinds = frozenset(kind.value for kind in EventKind)

    def visible(self, viewer: Viewer) -> ColumnElement[bool]:
        return true() if may_read(viewer) else false()

    def render(self, db: Session, viewer: Viewer, events: Sequence[Event]) -> list[Rendered]:
        return [Rendered(dict(event.payload)) for event in events]

    def record_receipts(
        self, db: Session, viewer: Viewer, subjects: Sequence[str], *, now: datetime
    ) -> None:
        """Never called: commercial frames carry no receipt."""
