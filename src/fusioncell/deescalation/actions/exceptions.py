"""Mutual-consent exceptions (R13): "BRAVO may hold up to 80 tanks in
``limitation-bravo-0-10`` until D". Proposed by a signatory, in force for its period only
once every party and the supervisor have signed it; each signature is an entry of its own,
so the log shows who consented and when. Released to both parties, the supervisor and the
verifier."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.db.transaction import atomic
from fusioncell.deescalation.entries import DeescalationEntry
from fusioncell.deescalation.events import EventKind, emit_deescalation
from fusioncell.deescalation.models import AgreedExceptionRow, ExceptionSignature
from fusioncell.deescalation.policy import may_sign_exceptions, require
from fusioncell.deescalation.queries import (
    directory,
    exception_id_taken,
    find_own_exception,
    geometry_in_force,
    get_exception,
    rules_in_force,
    signatures_of,
)
from fusioncell.errors import IdempotencyConflict, InvalidInput, NotFound
from fusioncell.ledger.entries import audience, log_time
from fusioncell.ledger.record import record
from fusioncell.text import N_

MAX_NOTE_CHARS = 500
_NOT_SIGNATORY = N_("Only a party's liaison officer or the supervisor signs an exception.")
_BAD_PARTY = N_("The exception names a party of the cell.")
_BAD_ZONE = N_("The exception names a zone in force.")
_BAD_CATEGORY = N_("The category is not one the rules know.")
_BAD_COUNT = N_("The count is a whole number, at least 0.")
_BAD_PERIOD = N_("An exception's period has its time zone, and ends after it begins.")
_NOTE_TOO_LONG = N_("The note may be at most 500 characters.")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(_BAD_PERIOD, field="valid_from")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(_BAD_PERIOD, field="valid_until") from None
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def do_propose_exception(
    db: Session,
    actor: Viewer,
    *,
    exception_id: uuid.UUID,
    party: str,
    zone: str,
    category: str,
    max_count: int,
    valid_from: datetime,
    valid_until: datetime,
    note: str = "",
    now: datetime,
) -> AgreedExceptionRow:
    require(actor, may_sign_exceptions(actor), _NOT_SIGNATORY)
    dir_ = directory(db, actor)
    if party not in dir_.parties():
        raise InvalidInput(_BAD_PARTY, field="party", parties=dir_.parties())
    if zone not in {z.id for z in geometry_in_force(db, actor).zones}:
        raise InvalidInput(_BAD_ZONE, field="zone")
    if category not in rules_in_force(db).categories:
        raise InvalidInput(_BAD_CATEGORY, field="category")
    if not 0 <= max_count <= 10**9:
        raise InvalidInput(_BAD_COUNT, field="max_count")
    start, end = _utc(valid_from), _utc(valid_until)
    if end <= start:
        raise InvalidInput(_BAD_PERIOD, field="valid_until")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(_NOTE_TOO_LONG, field="note", limit=MAX_NOTE_CHARS)
    shared = [o.slug for o in dir_.shared()]
    party_id = dir_.by_slug[party].id
    with atomic(db):
        earlier = find_own_exception(db, actor.member_id, exception_id)
        if earlier is not None:
            same = (
                earlier.party_id,
                earlier.zone,
                earlier.category,
                earlier.max_count,
                earlier.valid_from,
                earlier.valid_until,
                earlier.note,
            ) == (party_id, zone, category, max_count, start, end, note)
            if not same:
                raise IdempotencyConflict(exception_id=str(exception_id))
            return earlier
        object_id = exception_id if not exception_id_taken(db, exception_id) else uuid.uuid4()
        appended = record(
            db,
            author_of(actor),
            DeescalationEntry.EXCEPTION_PROPOSED,
            {
                "exception": str(object_id),
                "party": party,
                "zone": zone,
                "category": category,
                "max_count": max_count,
                "valid_from": log_time(start),
                "valid_until": log_time(end),
                "note": note,
                "member": str(actor.member_id),
                "released_to": shared,
            },
            audience=audience(organisations=[dir_.by_slug[s].id for s in shared]),
            now=now,
        )
        row = AgreedExceptionRow(
            id=object_id,
            client_id=exception_id,
            party_id=party_id,
            zone=zone,
            category=category,
            max_count=max_count,
            valid_from=start,
            valid_until=end,
            note=note,
            proposed_by=actor.member_id,
            log_index=appended.index,
            proposed_at=appended.logged_at,
        )
        db.add(row)
        emit_deescalation(
            db,
            EventKind.EXCEPTION,
            subject=str(object_id),
            log_index=appended.index,
            payload={"exception": str(object_id), "step": "proposed"},
            now=now,
        )
    return row


def do_sign_exception(
    db: Session, actor: Viewer, *, exception_id: uuid.UUID, now: datetime
) -> ExceptionSignature:
    """Sign for the actor's organisation; a second signature of one organisation returns
    the first."""
    require(actor, may_sign_exceptions(actor), _NOT_SIGNATORY)
    dir_ = directory(db, actor)
    shared = [o.slug for o in dir_.shared()]
    own = dir_.by_id[actor.organisation_id]
    with atomic(db):
        exception = get_exception(db, actor, exception_id)
        if exception is None:
            raise NotFound()
        if own.id in signatures_of(db, [exception.id]).get(exception.id, set()):
            signed = db.get(ExceptionSignature, (exception.id, own.id))
            assert signed is not None
            return signed
        appended = record(
            db,
            author_of(actor),
            DeescalationEntry.EXCEPTION_SIGNED,
            {
                "exception": str(exception.id),
                "exception_index": exception.log_index,
                "organisation": own.slug,
                "member": str(actor.member_id),
                "released_to": shared,
            },
            audience=audience(organisations=[dir_.by_slug[s].id for s in shared]),
            now=now,
        )
        signature = ExceptionSignature(
            exception_id=exception.id,
            organisation_id=own.id,
            member_id=actor.member_id,
            log_index=appended.index,
            signed_at=appended.logged_at,
        )
        db.add(signature)
        emit_deescalation(
            db,
            EventKind.EXCEPTION,
            subject=str(exception.id),
            log_index=appended.index,
            payload={"exception": str(exception.id), "step": "signed", "by": own.slug},
            now=now,
        )
    return signature
