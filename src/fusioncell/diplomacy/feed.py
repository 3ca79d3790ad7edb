"""The diplomatic track's feed on the live bus: a frame for each step of an agreement, a
milestone's assessment or a meeting, for whoever may read its entry (the bus limits each
event to its entry's readers). A sealed comment's frame says that a party commented, never
what."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.diplomacy.events import TRACK, EventKind
from fusioncell.diplomacy.policy import may_read
from fusioncell.live.feeds import Rendered
from fusioncell.live.models import Event


class DiplomacyFeed:
    track = TRACK
    kinds = frozenset(kind.value for kind in EventKind)

    def visible(self, viewer: Viewer) -> ColumnElement[bool]:
        return true() if may_read(viewer) else false()

    def render(self, db: Session, viewer: Viewer, events: Sequence[Event]) -> list[Rendered]:
        return [Rendered(dict(event.payload)) for event in events]

    def record_receipts(
        self, db: Session, viewer: Viewer, subjects: Sequence[str], *, now: datetime
    ) -> None:
        """Never called: diplomacy frames carry no receipt."""
