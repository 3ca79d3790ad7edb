"""The intelligence track's feed on the live bus: a new report, release or response, as
frames for whoever it is released to (the bus already limits each event to the readers of its
log entry, whose audience is the releasability)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.errors import NotFound
from fusioncell.intel import policy, queries
from fusioncell.intel.events import TRACK, EventKind
from fusioncell.live.feeds import Rendered
from fusioncell.live.models import Event


class IntelFeed:
    track = TRACK
    kinds = frozenset(kind.value for kind in EventKind)

    def visible(self, viewer: Viewer) -> ColumnElement[bool]:
        return true() if policy.may_read(viewer) else false()

    def render(self, db: Session, viewer: Viewer, events: Sequence[Event]) -> list[Rendered]:
        slugs = {o.id: o.slug for o in queries.organisations(db, viewer)}
        rendered = []
        for event in events:
            data: dict[str, Any] = dict(event.payload)
            try:
                # Read through the policy again: the frame says only what the viewer may read.
                report = queries.get_report(db, viewer, uuid.UUID(str(event.subject)))
            except NotFound:
                rendered.append(Rendered({"report": None}))
                continue
            data.update(
                title=report.title,
                tlp=report.tlp,
                grade=queries.grade_of(report),
                author_organisation=slugs.get(report.author_organisation_id),
                responds_to=str(report.responds_to) if report.responds_to else None,
                opinion=report.opinion,
                url=f"/intel/reports/{report.responds_to or report.id}",
            )
            rendered.append(Rendered(data))
        return rendered

    def record_receipts(
        self, db: Session, viewer: Viewer, subjects: Sequence[str], *, now: datetime
    ) -> None:
        """Never called: intelligence frames carry no receipt."""
