"""Reads of the live events through the access policy: an event reaches exactly the readers
of the log entry it announces, as its track's feed further narrows them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.ledger.queries import readable_entry
from fusioncell.live.feeds import EventFeed
from fusioncell.live.models import Event


def _visible(viewer: Viewer, feeds: Sequence[EventFeed]) -> ColumnElement[bool]:
    by_track = [and_(Event.track == feed.track, feed.visible(viewer)) for feed in feeds]
    if not by_track:
        return false()
    return and_(or_(*by_track), readable_entry(viewer, Event.log_index))


def events_since(
    db: Session, viewer: Viewer, feeds: Sequence[EventFeed], after: int, *, limit: int = 1000
) -> Sequence[Event]:
    """The events the viewer may see after the id ``after``, in order (for SSE replay)."""
    return db.scalars(
        select(Event)
        .where(Event.id > after, _visible(viewer, feeds))
        .order_by(Event.id)
        .limit(limit)
    ).all()


def newest_event_id(db: Session, viewer: Viewer, feeds: Sequence[EventFeed]) -> int:
    """The newest event the viewer may see, 0 if none: where a new stream starts."""
    newest = db.scalar(
        select(Event.id).where(_visible(viewer, feeds)).order_by(Event.id.desc()).limit(1)
    )
    return newest or 0
