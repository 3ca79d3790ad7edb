"""The hotline's feed on the live bus: what a viewer hears of the channels, as JSON frames."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Permission, Viewer, can
from fusioncell.hotline.actions.messages import do_mark_delivered
from fusioncell.hotline.api import message_out
from fusioncell.hotline.events import TRACK
from fusioncell.hotline.models import EventKind
from fusioncell.hotline.queries import get_message
from fusioncell.live.feeds import Rendered
from fusioncell.live.models import Event


class _Renderings:
    """Messages as ``message_out(full=False)`` renders them, per language.

    A message never changes once sent, and without its state (deliveries, acks) its
    rendering depends on the reader's language alone; audiences of different organisations or
    roles would otherwise each render every message again. Filled from worker threads.
    """

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[uuid.UUID, str], tuple[dict[str, Any], uuid.UUID]] = (
            OrderedDict()
        )

    def get(
        self, db: Session, viewer: Viewer, message_id: uuid.UUID
    ) -> tuple[dict[str, Any], uuid.UUID]:
        """The rendering and the sender's organisation."""
        key = (message_id, viewer.language)
        with self._lock:
            if (found := self._items.get(key)) is not None:
                self._items.move_to_end(key)
                return found
        # The event came through the viewer's policy, and a message is in its event's channel.
        message = get_message(db, viewer, message_id)
        rendered = message_out(db, viewer, message, full=False).model_dump(mode="json")
        item = (rendered, message.sender_organisation_id)
        with self._lock:
            self._items[key] = item
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return item


class HotlineFeed:
    """Messages, deliveries, acknowledgements, escalations and deadline actions, for whoever
    may read messages (the bus keeps each to its entry's audience).

    A message frame carries the message under ``detail``, and sending it is the delivery of
    the message to the viewer's organisation (unless that organisation sent it).
    """

    track = TRACK
    kinds = frozenset(kind.value for kind in EventKind)

    def __init__(self) -> None:
        self.renderings = _Renderings()

    def visible(self, viewer: Viewer) -> ColumnElement[bool]:
        return true() if can(viewer, Permission.MESSAGE_READ) else false()

    def render(self, db: Session, viewer: Viewer, events: Sequence[Event]) -> list[Rendered]:
        rendered = []
        for event in events:
            data: dict[str, Any] = {"channel": event.scope, **event.payload}
            receipt = None
            if event.kind == EventKind.MESSAGE and event.subject is not None:
                data["detail"], sender = self.renderings.get(db, viewer, uuid.UUID(event.subject))
                if sender != viewer.organisation_id:
                    receipt = event.subject
            rendered.append(Rendered(data, receipt))
        return rendered

    def record_receipts(
        self, db: Session, viewer: Viewer, subjects: Sequence[str], *, now: datetime
    ) -> None:
        do_mark_delivered(db, viewer, message_ids=[uuid.UUID(s) for s in subjects], now=now)
