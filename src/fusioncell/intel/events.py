"""The intelligence track's live events (``fusioncell.live``): one per report, release and
response, emitted right after its entry and reaching its entry's audience, which is the
report's releasability."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from fusioncell.intel.models import Report, ReportKind
from fusioncell.live.emit import emit

TRACK = "intel"


class EventKind(StrEnum):
    REPORT = "intel-report"
    RESPONSE = "intel-response"


def emit_intel(db: Session, report: Report, *, now: datetime) -> None:
    emit_report(
        db,
        report_id=report.id,
        kind=ReportKind(report.kind),
        responds_to=report.responds_to,
        log_index=report.log_index,
        now=now,
    )


def emit_report(
    db: Session,
    *,
    report_id: uuid.UUID,
    kind: ReportKind,
    responds_to: uuid.UUID | None,
    log_index: int,
    now: datetime,
) -> None:
    event = EventKind.RESPONSE if responds_to is not None else EventKind.REPORT
    emit(
        db,
        track=TRACK,
        kind=event.value,
        scope=str(responds_to or report_id),
        subject=str(report_id),
        log_index=log_index,
        payload={"report": str(report_id), "kind": kind.value, "log_index": log_index},
        now=now,
    )
