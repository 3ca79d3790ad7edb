"""REST routes of the diplomatic track's meetings (``/api/v1/meetings``): requested through
the hotline, minutes drafted by the supervisor, commented and signed by every participating
party, a decision of agreed minutes made a commitment in one step."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query

from fusioncell.cell.policy import Viewer
from fusioncell.deescalation.queries import directory
from fusioncell.diplomacy import present
from fusioncell.diplomacy.actions import meetings
from fusioncell.diplomacy.models import Meeting
from fusioncell.diplomacy.policy import may_read, require
from fusioncell.diplomacy.queries import agreements as agreement_queries
from fusioncell.diplomacy.queries import meetings as queries
from fusioncell.diplomacy.schemas import (
    AgreementOut,
    CommentIn,
    MeetingIn,
    MeetingOut,
    MinutesCommentOut,
    MinutesIn,
    MinutesSignatureOut,
    MinutesSignIn,
    StepIn,
)
from fusioncell.errors import InvalidInput
from fusioncell.hotline import queries as hotline_queries
from fusioncell.hotline.actions.messages import do_send_message
from fusioncell.hotline.models import ChannelKind
from fusioncell.idempotency import resolve_id
from fusioncell.text import N_
from fusioncell.web.deps import AppClock, CurrentViewer, Db

router = APIRouter(prefix="/api/v1/meetings", tags=["diplomacy"])
IdempotencyKey = Annotated[str | None, Header(max_length=200)]
_READ = "this needs the permission to read the diplomatic track"
_NO_CHANNEL = N_("Name the hotline channel that carries the request.")
_MESSAGE = uuid.UUID("5d0e3c62-8d4a-4c4e-a7f4-1c3f3b6f9a10")


def _id(viewer: Viewer, given: uuid.UUID | None, key: str | None, scope: str) -> uuid.UUID:
    return resolve_id(viewer, given, key, scope=f"diplomacy-{scope}")


def meeting_out(db: Db, viewer: Viewer, meeting: Meeting) -> MeetingOut:
    dir_ = directory(db, viewer)

    def slug(organisation_id: uuid.UUID) -> str:
        found = dir_.by_id.get(organisation_id)
        return found.slug if found is not None else str(organisation_id)

    return MeetingOut(
        id=meeting.id,
        number=meeting.number,
        title=meeting.title,
        agenda=meeting.agenda,
        participants=meeting.participants,
        starts_at=meeting.starts_at,
        agreement=meeting.agreement_id,
        requested_by=slug(meeting.organisation_id),
        message=meeting.message_id,
        log_index=meeting.log_index,
        requested_at=meeting.requested_at,
        minutes=meeting.minutes,
        minutes_hash=meeting.minutes_hash,
        agreed=meeting.agreed_index is not None,
        agreed_at=meeting.agreed_at,
        comments=[
            MinutesCommentOut(
                id=x.id,
                party=slug(x.organisation_id),
                minutes_hash=x.minutes_hash,
                text=x.text,
                log_index=x.log_index,
                at=x.at,
            )
            for x in queries.minutes_comments_of(db, meeting.id)
        ],
        signatures=[
            MinutesSignatureOut(
                party=slug(x.organisation_id),
                minutes_hash=x.minutes_hash,
                log_index=x.log_index,
                signed_at=x.signed_at,
            )
            for x in queries.minutes_signatures_of(db, meeting.id)
        ],
    )


def _meeting(db: Db, viewer: Viewer, meeting_id: uuid.UUID) -> MeetingOut:
    return meeting_out(db, viewer, queries.get_meeting(db, viewer, meeting_id))


@router.post("", response_model=MeetingOut, status_code=201)
def request_meeting(
    body: MeetingIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> MeetingOut:
    """Request a meeting: the request is sent as a hotline message on ``channel`` (default:
    the cell-wide channel) with ``precedence``, then recorded with the message's id. A retry
    with the same id sends and records nothing again."""
    checked = meetings.check_meeting_request(
        db,
        viewer,
        title=body.title,
        agenda=body.agenda,
        participants=body.participants,
        starts_at=body.starts_at,
        agreement_id=body.agreement,
    )
    meeting_id = _id(viewer, body.id, idempotency_key, "meeting")
    channel = body.channel
    if channel is None:
        cell = [c for c in hotline_queries.list_channels(db, viewer) if c.kind == ChannelKind.CELL]
        if not cell:
            raise InvalidInput(_NO_CHANNEL, field="channel")
        channel = cell[0].id
    message = do_send_message(
        db,
        viewer,
        message_id=uuid.uuid5(_MESSAGE, str(meeting_id)),
        channel_id=channel,
        precedence=body.precedence,
        text=checked.message_text(),
        now=clock.now(),
    )
    meeting = meetings.do_request_meeting(
        db,
        viewer,
        meeting_id=meeting_id,
        title=body.title,
        agenda=body.agenda,
        participants=body.participants,
        starts_at=body.starts_at,
        message_id=message.id,
        agreement_id=body.agreement,
        now=clock.now(),
    )
    return meeting_out(db, viewer, meeting)


@router.get("", response_model=list[MeetingOut])
def list_meetings(
    viewer: CurrentViewer, db: Db, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[MeetingOut]:
    """The meetings the viewer reads, the latest requested first."""
    require(viewer, may_read(viewer), _READ)
    return [meeting_out(db, viewer, m) for m in queries.list_meetings(db, viewer, limit=limit)]


@router.get("/{meeting_id}", response_model=MeetingOut)
def get_meeting(meeting_id: uuid.UUID, viewer: CurrentViewer, db: Db) -> MeetingOut:
    return _meeting(db, viewer, meeting_id)


@router.post("/{meeting_id}/minutes", response_model=MeetingOut)
def draft_minutes(
    meeting_id: uuid.UUID,
    body: MinutesIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> MeetingOut:
    """The supervisor's draft: ``text`` and ``decisions`` (each a ``key``, a ``text`` and
    optionally a ``commitment``). A new draft replaces the last and needs new signatures."""
    meetings.do_draft_minutes(
        db,
        viewer,
        meeting_id,
        step_id=_id(viewer, body.id, idempotency_key, f"minutes-{meeting_id}"),
        text=body.text,
        decisions=[d.model_dump(mode="json") for d in body.decisions],
        now=clock.now(),
    )
    return _meeting(db, viewer, meeting_id)


@router.post("/{meeting_id}/comments", response_model=MeetingOut, status_code=201)
def comment_on_minutes(
    meeting_id: uuid.UUID,
    body: CommentIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> MeetingOut:
    """A participating party's comment on the current draft."""
    meetings.do_comment_on_minutes(
        db,
        viewer,
        meeting_id,
        comment_id=_id(viewer, body.id, idempotency_key, f"minutes-comment-{meeting_id}"),
        comment=body.comment,
        now=clock.now(),
    )
    return _meeting(db, viewer, meeting_id)


@router.post("/{meeting_id}/signatures", response_model=MeetingOut, status_code=201)
def sign_minutes(
    meeting_id: uuid.UUID, body: MinutesSignIn, viewer: CurrentViewer, db: Db, clock: AppClock
) -> MeetingOut:
    """Sign the current draft's ``minutes_hash``; agreed once every participating party has
    signed the same hash. Another hash is refused (422); signing again changes nothing."""
    meetings.do_sign_minutes(
        db, viewer, meeting_id, minutes_hash=body.minutes_hash, now=clock.now()
    )
    return _meeting(db, viewer, meeting_id)


@router.post(
    "/{meeting_id}/decisions/{decision}/commitment", response_model=AgreementOut, status_code=201
)
def adopt_decision(
    meeting_id: uuid.UUID,
    decision: Annotated[str, Path(max_length=64)],
    body: StepIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> AgreementOut:
    """A decision of agreed minutes stating a commitment, made in one step an amendment of
    the meeting's agreement adding it; it is in force once every signatory has signed."""
    version = meetings.do_adopt_decision(
        db,
        viewer,
        meeting_id,
        decision,
        amendment_id=_id(viewer, body.id, idempotency_key, f"decision-{meeting_id}-{decision}"),
        now=clock.now(),
    )
    agreement = agreement_queries.get_agreement(db, viewer, version.agreement_id)
    return present.agreements_out(db, viewer, [agreement], now=clock.now())[0]
