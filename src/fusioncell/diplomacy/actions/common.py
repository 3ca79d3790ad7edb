"""What the track's steps share, inside the calling action's transaction (not an action):
the audience of an agreement, a retry's first result, and a step's signed entry with its row
and live event."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.deescalation.queries import Directory
from fusioncell.diplomacy.entries import DiplomacyEntry
from fusioncell.diplomacy.events import EventKind, emit_diplomacy
from fusioncell.diplomacy.models import Step
from fusioncell.diplomacy.queries.agreements import find_own_step
from fusioncell.errors import IdempotencyConflict
from fusioncell.ledger.append import Appended
from fusioncell.ledger.entries import audience
from fusioncell.ledger.record import ByLog, record


def released_to(dir_: Directory, parties: list[str]) -> list[str]:
    """An agreement's or a meeting's readers: its parties, the supervisor and the verifier."""
    return sorted(set(parties) | {o.slug for o in dir_.shared() if o.slug not in dir_.parties()})


def retried(db: Session, actor: Viewer, step_id: uuid.UUID, subject: uuid.UUID, kind: str) -> bool:
    """Whether the actor took this step already with this id (a retry); the same id for
    another step is a conflict."""
    earlier = find_own_step(db, actor.member_id, step_id)
    if earlier is None:
        return False
    if earlier.subject_id != subject or earlier.kind != kind:
        raise IdempotencyConflict(step_id=str(step_id))
    return True


def record_step(
    db: Session,
    actor: Viewer | None,
    dir_: Directory,
    kind: DiplomacyEntry,
    event: EventKind,
    body: dict[str, Any],
    *,
    subject: uuid.UUID,
    readers: list[str],
    step_id: uuid.UUID | None,
    at: datetime,
) -> Appended:
    """The step's entry (signed by the actor, or by the log when ``actor`` is None),
    released to ``readers`` (slugs); its row; its live event."""
    full = dict(body)
    if actor is not None:
        full["member"] = str(actor.member_id)
        full["organisation"] = dir_.by_id[actor.organisation_id].slug
    full["released_to"] = readers
    appended = record(
        db,
        author_of(actor) if actor is not None else ByLog(),
        kind,
        full,
        audience=audience(organisations=[dir_.by_slug[s].id for s in readers]),
        now=at,
    )
    db.add(
        Step(
            log_index=appended.index,
            subject_id=subject,
            kind=kind.value,
            member_id=actor.member_id if actor is not None else None,
            organisation_id=actor.organisation_id if actor is not None else None,
            client_id=step_id,
            at=appended.logged_at,
        )
    )
    emit_diplomacy(
        db,
        event,
        subject=str(subject),
        log_index=appended.index,
        payload={"subject": str(subject), "step": kind.value},
        now=at,
    )
    return appended
