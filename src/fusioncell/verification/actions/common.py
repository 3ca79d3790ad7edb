"""What every step of a case shares, inside the calling action's transaction (not an
action): the text and time checks, a retry's first result, and the step's signed entry with
its row and live event."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.deescalation.queries import Directory
from fusioncell.errors import Conflict, IdempotencyConflict, InvalidInput
from fusioncell.ledger.append import Appended
from fusioncell.ledger.entries import audience, log_time
from fusioncell.ledger.record import ByLog, record
from fusioncell.text import N_
from fusioncell.verification import workflow
from fusioncell.verification.entries import VerificationEntry
from fusioncell.verification.events import EventKind, emit_verification
from fusioncell.verification.models import Case, CaseStep
from fusioncell.verification.queries.cases import find_own_step

_EVENTS = {
    VerificationEntry.COMMENT_SEALED: EventKind.COMMENT,
    VerificationEntry.COMMENT_REVEALED: EventKind.COMMENT,
    VerificationEntry.DEADLINE_ESCALATED: EventKind.ESCALATED,
}
_NEED_TEXT = N_("Give the %(field)s (at most %(limit)s characters).")
_BAD_TIME = N_("Give the time with its time zone; it cannot be in the future.")
_BAD_POINT = N_("The place is an RFC 7946 Point: longitude then latitude, within their ranges.")
_NOT_NOW = N_("The case is %(state)s: this step is not open to it.")


def text(value: str | None, *, field: str, limit: int, required: bool = True) -> str:
    found = (value or "").strip()
    if (required and not found) or len(found) > limit:
        raise InvalidInput(N_(_NEED_TEXT, field=field, limit=limit), field=field, limit=limit)
    return found


def ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def past_time(moment: datetime, *, field: str, now: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(_BAD_TIME, field=field)
    try:
        utc = ms(moment.astimezone(UTC))
    except OverflowError:
        raise InvalidInput(_BAD_TIME, field=field) from None
    if utc > now:
        raise InvalidInput(_BAD_TIME, field=field)
    return utc


def point(value: Any, *, field: str = "location") -> tuple[float, float]:
    if not isinstance(value, dict) or value.get("type") != "Point":
        raise InvalidInput(_BAD_POINT, field=field)
    coordinates = value.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) not in (2, 3):
        raise InvalidInput(_BAD_POINT, field=field)
    if not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates):
        raise InvalidInput(_BAD_POINT, field=field)
    lon, lat = float(coordinates[0]), float(coordinates[1])
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(_BAD_POINT, field=field)
    return lon, lat


def retried(db: Session, actor: Viewer, step_id: uuid.UUID, case: Case, kind: str) -> bool:
    """Whether the actor took this step already with this id (a retry: the case as it now
    stands is the answer); the same id for another step is a conflict."""
    earlier = find_own_step(db, actor.member_id, step_id)
    if earlier is None:
        return False
    if earlier.case_id != case.id or earlier.kind != kind:
        raise IdempotencyConflict(step_id=str(step_id))
    return True


def require_state(case: Case, step: str) -> None:
    if not workflow.allowed(step, case.state):
        raise Conflict(N_(_NOT_NOW, state=case.state), state=case.state, field="state")


def released_ids(dir_: Directory, names: list[str]) -> list[uuid.UUID]:
    return [dir_.by_slug[n].id for n in names]


def record_step(
    db: Session,
    actor: Viewer | None,
    dir_: Directory,
    case: Case,
    kind: VerificationEntry,
    body: dict[str, Any],
    *,
    step_id: uuid.UUID | None,
    at: datetime,
) -> Appended:
    """The step's entry (signed by the actor, or by the log when ``actor`` is None), released
    to the case's audience; its row; its live event. ``case.state`` is already the state the
    step leaves the case in, and the entry states it (``fusioncell verify`` recomputes it)."""
    signer = author_of(actor) if actor is not None else ByLog()
    full = {
        "case": str(case.id),
        "case_index": case.log_index,
        **body,
        "state": case.state,
        "released_to": list(case.released_to),
    }
    if actor is not None:
        full["member"] = str(actor.member_id)
        full["organisation"] = dir_.by_id[actor.organisation_id].slug
    appended = record(
        db,
        signer,
        kind,
        full,
        audience=audience(organisations=released_ids(dir_, list(case.released_to))),
        now=at,
    )
    db.add(
        CaseStep(
            log_index=appended.index,
            case_id=case.id,
            kind=kind.value,
            member_id=actor.member_id if actor is not None else None,
            organisation_id=actor.organisation_id if actor is not None else None,
            client_id=step_id,
            at=appended.logged_at,
        )
    )
    emit_verification(
        db,
        _EVENTS.get(kind, EventKind.CASE),
        subject=str(case.id),
        log_index=appended.index,
        payload={"case": str(case.id), "step": kind.value, "state": case.state},
        now=at,
    )
    return appended


def when(moment: datetime | None) -> str | None:
    return log_time(moment) if moment is not None else None
