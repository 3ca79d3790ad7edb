"""What a track contributes to the live bus: which of its events a viewer sees, and how each
is rendered. ``fusioncell.bootstrap`` lists one feed per track that has live events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.live.models import Event


@dataclass(frozen=True)
class Rendered:
    """An event as one kind of viewer receives it: the JSON ``data`` of its SSE frame, and
    the subject whose receipt sending it records (the hotline: a message delivered), if any."""

    data: dict[str, Any]
    receipt: str | None = None


class EventFeed(Protocol):
    """A track's live events.

    ``visible`` narrows, in SQL, what the bus already limits to the readers of each event's
    log entry; ``render`` renders a batch of the track's events for one viewer (every viewer
    the policy cannot tell apart from it gets the same frames); ``record_receipts`` records
    that the viewer's organisation received the subjects of frames that carried a receipt,
    and is called before those frames are sent (a feed that never sets one is never called).
    """

    @property
    def track(self) -> str: ...

    @property
    def kinds(self) -> frozenset[str]:
        """The SSE event names it emits, distinct from every other feed's."""

    def visible(self, viewer: Viewer) -> ColumnElement[bool]: ...

    def render(self, db: Session, viewer: Viewer, events: Sequence[Event]) -> list[Rendered]: ...

    def record_receipts(
        self, db: Session, viewer: Viewer, subjects: Sequence[str], *, now: datetime
    ) -> None: ...


def check_feeds(feeds: Sequence[EventFeed]) -> None:
    """One feed per track, and no SSE event name used by two feeds."""
    tracks = [feed.track for feed in feeds]
    if len(set(tracks)) != len(tracks):
        raise ValueError(f"two live feeds for one track: {sorted(tracks)}")
    seen: dict[str, str] = {}
    for feed in feeds:
        for kind in feed.kinds:
            if kind in seen:
                raise ValueError(f"event {kind!r} is both {seen[kind]}'s and {feed.track}'s")
            seen[kind] = feed.track
