"""The map page's layer of notifications: the operations room shows each active one (its
window not over, not withdrawn or cancelled) with its buffer, as the viewer reads it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from fusioncell.deconfliction import view_rows
from fusioncell.deconfliction.conflicts import Frame
from fusioncell.deconfliction.policy import may_read, require
from fusioncell.deconfliction.queries import notifications as queries
from fusioncell.web.deps import AppClock, CurrentViewer, Db

# Registered before the notifications' router, whose /{notification_id} would take "map".
router = APIRouter(prefix="/api/v1/notifications", tags=["deconfliction"])


@router.get("/map")
def notifications_map(viewer: CurrentViewer, db: Db, clock: AppClock) -> dict[str, Any]:
    """The active notifications the viewer reads, as an RFC 7946 FeatureCollection: for each,
    its buffer (``role``: ``buffer``, a Polygon) and its own geometry (``role``: ``shape``),
    with ``kind``, ``party`` (its sender), ``state``, ``starts_at``, ``ends_at``, ``conflict``
    (a conflict flagged), a ``title`` and the ``url`` of its row on the notifications page."""
    require(viewer, may_read(viewer), "this needs the permission to read the cell's traffic")
    rows, _timeline = view_rows.notification_rows(db, viewer, now=clock.now())
    frame = Frame.of(queries.rules_in_force(db))
    active = [row for row in rows if row.open]
    features = view_rows.notification_features(active, frame=frame, page="/deconfliction")
    return {"type": "FeatureCollection", "features": features}
