"""What every commercial step shares, inside the calling action's transaction (not an
action): a retry's first result, and the step's signed entry with its row and live event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.commercial.entries import CommercialEntry
from fusioncell.commercial.events import EventKind, emit_commercial
from fusioncell.commercial.models import Project, Step
from fusioncell.commercial.policy import is_party_officer, may_manage, require
from fusioncell.commercial.queries.projects import find_own_step
from fusioncell.deescalation.queries import Directory
from fusioncell.errors import Forbidden, IdempotencyConflict, InvalidInput
from fusioncell.ledger.append import Appended
from fusioncell.ledger.entries import audience
from fusioncell.ledger.record import record
from fusioncell.text import N_

_BAD_TIME = N_("Give the time with its time zone.")
NOT_MANAGER = N_("A project is run by a party's liaison officer or the supervisor.")
NOT_OWN_PARTY = N_("A party's liaison officer runs its own party's projects only.")
TOO_MANY = N_("At most %(limit)s %(field)s.")


def require_runs(actor: Viewer, project: Project) -> None:
    """A party's liaison officer runs its own party's projects; the supervisor, any."""
    require(actor, may_manage(actor), NOT_MANAGER)
    if is_party_officer(actor) and project.party_id != actor.organisation_id:
        raise Forbidden(NOT_OWN_PARTY)


def aware(moment: datetime, *, field: str) -> datetime:
    """A time with its zone, in UTC to the millisecond (as the log spells times)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(_BAD_TIME, field=field)
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(_BAD_TIME, field=field) from None
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def retried(db: Session, actor: Viewer, step_id: uuid.UUID, subject: uuid.UUID, kind: str) -> bool:
    """Whether the actor took this step already with this id (a retry: the object as it now
    stands is the answer); the same id for another step is a conflict."""
    earlier = find_own_step(db, actor.member_id, step_id)
    if earlier is None:
        return False
    if earlier.subject != subject or earlier.kind != kind:
        raise IdempotencyConflict(step_id=str(step_id))
    return True


def released_ids(dir_: Directory, project: Project) -> list[uuid.UUID]:
    return [dir_.by_slug[slug].id for slug in project.released_to if slug in dir_.by_slug]


def record_entry(
    db: Session,
    actor: Viewer,
    dir_: Directory,
    project: Project,
    kind: CommercialEntry,
    body: dict[str, Any],
    *,
    event: EventKind,
    subject: uuid.UUID,
    at: datetime,
) -> Appended:
    """The entry signed by the actor, released to the project's audience, and its live
    event. The body names the project, its signer and the audience."""
    full = {
        "project": str(project.id),
        **body,
        "member": str(actor.member_id),
        "organisation": dir_.by_id[actor.organisation_id].slug,
        "released_to": list(project.released_to),
    }
    appended = record(
        db,
        author_of(actor),
        kind,
        full,
        audience=audience(organisations=released_ids(dir_, project)),
        now=at,
    )
    emit_commercial(
        db,
        event,
        subject=str(subject),
        log_index=appended.index,
        payload={"project": str(project.id), "subject": str(subject), "step": kind.value},
        now=at,
    )
    return appended


def add_step(
    db: Session,
    actor: Viewer,
    appended: Appended,
    *,
    project: Project,
    subject: uuid.UUID,
    kind: CommercialEntry,
    step_id: uuid.UUID,
) -> None:
    db.add(
        Step(
            log_index=appended.index,
            project_id=project.id,
            subject=subject,
            kind=kind.value,
            member_id=actor.member_id,
            organisation_id=actor.organisation_id,
            client_id=step_id,
            at=appended.logged_at,
        )
    )
