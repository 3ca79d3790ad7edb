"""The intelligence track's live events (``fusioncell.live``): one per report, release and
response, emitted right after its entry and reaching its entry's audience, which is the
report's releasability."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from fusioncell.intel.models import Report
from fusioncell.live.emit import emit

TRACK = "intel"


class EventKind(StrEnum):
    REPORT = "intel-report"
    RESPONSE = "intel-response"


def emit_intel(db: Session, report: Report, *, now: datetime) -> None:
    kind = EventKind.RESPONSE if report.responds_to is not None else EventKind.REPORT
    emit(
        db,
        track=TRACK,
        kind=kind.value,
        scope=str(report.responds_to or report.id),
        subject=str(report.id),
        log_index=report.log_index,
        payload={"report": str(report.id), "kind": report.kind, "log_index": report.log_index},
        now=now,
    )
