"""Meetings and their minutes (issue 14, item 3).

- A party's liaison officer or the supervisor requests a meeting (title, agenda, the
  participating parties, when) through the hotline: the request is a hotline message the
  requester sends first (``hotline.actions``), and the meeting's entry names it.
- The supervisor drafts the minutes: a text and the decisions taken, each optionally a
  commitment in the agreement's terms. Each draft has its SHA-256 (of its canonical JSON);
  a new draft replaces the last, and signatures on an earlier hash no longer count.
- The participating parties' liaison officers comment on a draft and sign its hash; the
  minutes are agreed once every participating party has signed the same hash. Signing a
  hash that is not the current draft's is refused; signing again returns the first
  signature.
- A decision of agreed minutes that states a commitment becomes a commitment in one step:
  an amendment of the meeting's agreement adding it (``do_adopt_decision``), signed as any
  amendment is, by every signatory.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.db.transaction import atomic
from fusioncell.deescalation.queries import Directory, directory
from fusioncell.diplomacy import content as c
from fusioncell.diplomacy.actions.agreements import do_propose_amendment
from fusioncell.diplomacy.actions.common import record_step, released_to, retried
from fusioncell.diplomacy.entries import DiplomacyEntry as E
from fusioncell.diplomacy.events import EventKind
from fusioncell.diplomacy.models import (
    AgreementVersion,
    Meeting,
    MeetingParticipant,
    MinutesComment,
    MinutesSignature,
)
from fusioncell.diplomacy.policy import (
    is_party_officer,
    may_draft_minutes,
    may_propose,
    may_request_meeting,
    require,
)
from fusioncell.diplomacy.queries import agreements as aq
from fusioncell.diplomacy.queries import meetings as q
from fusioncell.errors import Conflict, Forbidden, IdempotencyConflict, InvalidInput, NotFound
from fusioncell.hotline import queries as hotline
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.entries import log_time
from fusioncell.text import N_
from fusioncell.verification.actions.common import text as checked_text

_NOT_REQUESTER = N_("A party's liaison officer or the supervisor requests meetings.")
_NOT_PROPOSER = N_("A party's liaison officer or the supervisor proposes agreements.")
_NOT_DRAFTER = N_("Only the supervisor drafts the minutes.")
_NOT_PARTICIPANT = N_(
    "Only the participating parties' liaison officers comment on and sign the minutes."
)
_BAD_PARTICIPANTS = N_("Name two or more parties of the cell: %(parties)s.")
_BAD_AGENDA = N_("The agenda is a list of 1 to %(limit)s items.")
_NOT_YOUR_MESSAGE = N_("The meeting request is carried by a hotline message you sent.")
_NO_DRAFT = N_("The minutes have not been drafted yet.")
_AGREED = N_("The minutes are agreed: they are not drafted again.")
_OTHER_HASH = N_("This is not the hash of the current draft of the minutes: nothing was signed.")
_NOT_AGREED = N_("Only a decision of agreed minutes becomes a commitment.")
_NO_DECISION = N_("The agreed minutes hold no decision %(decision)s stating a commitment.")
_NO_AGREEMENT = N_("The meeting names no agreement to add the commitment to.")
_BAD_TIME = N_("Give the meeting's time with its time zone.")


def _readers(dir_: Directory, meeting: Meeting) -> list[str]:
    return released_to(dir_, list(meeting.participants))


@dataclass(frozen=True)
class MeetingRequest:
    """A meeting request as checked: what the request's hotline message and entry say."""

    title: str
    agenda: list[str]
    participants: list[str]
    starts_at: datetime
    agreement_id: uuid.UUID | None

    def message_text(self) -> str:
        return (
            f"Meeting requested: {self.title}, at {log_time(self.starts_at)}, between "
            f"{', '.join(self.participants)}. Agenda: {'; '.join(self.agenda)}"
        )


def check_meeting_request(
    db: Session,
    actor: Viewer,
    *,
    title: str,
    agenda: list[str],
    participants: list[str],
    starts_at: datetime,
    agreement_id: uuid.UUID | None = None,
) -> MeetingRequest:
    """The request checked before its hotline message is sent (not an action: it writes
    nothing), so that a refused request sends no message."""
    require(actor, may_request_meeting(actor), _NOT_REQUESTER)
    dir_ = directory(db, actor)
    rules = aq.rules_in_force(db)
    named = sorted(set(participants))
    if len(named) < 2 or not set(named) <= set(dir_.parties()):
        raise InvalidInput(
            N_(_BAD_PARTICIPANTS, parties=", ".join(dir_.parties())), field="participants"
        )
    items = [checked_text(a, field="agenda", limit=rules.max_title_chars) for a in agenda]
    if not items or len(items) > rules.max_agenda_items:
        raise InvalidInput(N_(_BAD_AGENDA, limit=rules.max_agenda_items), field="agenda")
    said = checked_text(title, field="title", limit=rules.max_title_chars)
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        raise InvalidInput(_BAD_TIME, field="starts_at")
    try:
        starts = starts_at.astimezone(UTC).replace(microsecond=0)
    except OverflowError:
        raise InvalidInput(_BAD_TIME, field="starts_at") from None
    if agreement_id is not None:
        aq.get_agreement(db, actor, agreement_id)
    return MeetingRequest(said, items, named, starts, agreement_id)


def do_request_meeting(
    db: Session,
    actor: Viewer,
    *,
    meeting_id: uuid.UUID,
    title: str,
    agenda: list[str],
    participants: list[str],
    starts_at: datetime,
    message_id: uuid.UUID,
    agreement_id: uuid.UUID | None = None,
    now: datetime,
) -> Meeting:
    """The meeting, carried by ``message_id``: a hotline message the actor sent."""
    checked = check_meeting_request(
        db,
        actor,
        title=title,
        agenda=agenda,
        participants=participants,
        starts_at=starts_at,
        agreement_id=agreement_id,
    )
    said, items, named, starts = (
        checked.title,
        checked.agenda,
        checked.participants,
        checked.starts_at,
    )
    dir_ = directory(db, actor)
    message = hotline.get_message(db, actor, message_id)
    if message.sender_id != actor.member_id:
        raise Forbidden(_NOT_YOUR_MESSAGE)
    with atomic(db):
        at = log_clock(db, now=now)
        if (earlier := q.find_own_meeting(db, actor.member_id, meeting_id)) is not None:
            if (earlier.title, earlier.agenda, earlier.participants) != (said, items, named):
                raise IdempotencyConflict(id=str(meeting_id))
            return earlier
        if q.meeting_id_taken(db, meeting_id):
            raise IdempotencyConflict(id=str(meeting_id))
        meeting = Meeting(
            id=meeting_id,
            number=q.next_meeting_number(db),
            client_id=meeting_id,
            requested_by=actor.member_id,
            organisation_id=actor.organisation_id,
            agreement_id=agreement_id,
            title=said,
            agenda=items,
            participants=named,
            starts_at=starts,
            message_id=message.id,
            requested_at=at,
            minutes_number=0,
        )
        appended = record_step(
            db,
            actor,
            dir_,
            E.MEETING_REQUESTED,
            EventKind.MEETING,
            {
                "meeting": str(meeting_id),
                "title": said,
                "agenda": items,
                "participants": named,
                "starts_at": log_time(starts),
                "agreement": str(agreement_id) if agreement_id else None,
                "message": str(message.id),
                "message_index": message.log_index,
            },
            subject=meeting_id,
            readers=released_to(dir_, named),
            step_id=None,
            at=at,
        )
        meeting.log_index = appended.index
        db.add(meeting)
        db.flush()
        for slug in named:
            db.add(MeetingParticipant(meeting_id=meeting_id, organisation_id=dir_.by_slug[slug].id))
    return meeting


def minutes_content(
    meeting: Meeting, number: int, text: str, decisions: list[dict[str, Any]]
) -> dict[str, Any]:
    return {"meeting": str(meeting.id), "draft": number, "text": text, "decisions": decisions}


def _decisions(given: list[dict[str, Any]], meeting: Meeting, rules: Any) -> list[dict[str, Any]]:
    found = []
    keys: set[str] = set()
    for d in given:
        key = d.get("key")
        if not isinstance(key, str) or not c.KEY.match(key) or key in keys:
            raise InvalidInput(c.BAD_KEY, field="decisions.key")
        keys.add(key)
        decided = checked_text(d.get("text"), field="decisions.text", limit=rules.max_text_chars)
        commitment = d.get("commitment")
        if commitment is not None:
            # Checked as an agreement checks its commitments, among the meeting's parties.
            built = c.build_content(
                agreement_id=meeting.agreement_id or meeting.id,
                number=1,
                title="-",
                text="-",
                parties=list(meeting.participants),
                dated="2000-01-01",
                commitments=[commitment],
                cell_parties=list(meeting.participants),
                rules=rules,
            )
            commitment = built["commitments"][0]
        found.append({"key": key, "text": decided, "commitment": commitment})
    return found


def do_draft_minutes(
    db: Session,
    actor: Viewer,
    meeting_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    text: str,
    decisions: list[dict[str, Any]],
    now: datetime,
) -> Meeting:
    require(actor, may_draft_minutes(actor), _NOT_DRAFTER)
    meeting = q.get_meeting(db, actor, meeting_id)
    rules = aq.rules_in_force(db)
    said = checked_text(text, field="text", limit=rules.max_text_chars)
    checked = _decisions(decisions, meeting, rules)
    dir_ = directory(db, actor)
    with atomic(db):
        at = log_clock(db, now=now)
        meeting = q.meeting_for_update(db, meeting.id)
        if retried(db, actor, step_id, meeting.id, E.MINUTES_DRAFTED):
            return meeting
        if meeting.agreed_index is not None:
            raise Conflict(_AGREED)
        number = meeting.minutes_number + 1
        minutes = minutes_content(meeting, number, said, checked)
        digest = c.content_hash(minutes)
        meeting.minutes_number, meeting.minutes, meeting.minutes_hash = number, minutes, digest
        meeting.drafted_at = at
        record_step(
            db,
            actor,
            dir_,
            E.MINUTES_DRAFTED,
            EventKind.MEETING,
            {"meeting": str(meeting.id), "minutes": minutes, "minutes_hash": digest},
            subject=meeting.id,
            readers=_readers(dir_, meeting),
            step_id=step_id,
            at=at,
        )
    return meeting


def _participant(actor: Viewer, dir_: Directory, meeting: Meeting) -> str:
    own = dir_.by_id[actor.organisation_id].slug
    if not is_party_officer(actor) or own not in meeting.participants:
        raise Forbidden(_NOT_PARTICIPANT)
    return own


def do_comment_on_minutes(
    db: Session,
    actor: Viewer,
    meeting_id: uuid.UUID,
    *,
    comment_id: uuid.UUID,
    comment: str,
    now: datetime,
) -> MinutesComment:
    require(actor, is_party_officer(actor), _NOT_PARTICIPANT)
    meeting = q.get_meeting(db, actor, meeting_id)
    dir_ = directory(db, actor)
    _participant(actor, dir_, meeting)
    said = checked_text(comment, field="comment", limit=aq.rules_in_force(db).max_comment_chars)
    with atomic(db):
        at = log_clock(db, now=now)
        meeting = q.meeting_for_update(db, meeting.id)
        if (earlier := q.minutes_comment_taken(db, comment_id)) is not None:
            if earlier.member_id != actor.member_id or earlier.text != said:
                raise IdempotencyConflict(comment_id=str(comment_id))
            return earlier
        if meeting.minutes_hash is None:
            raise Conflict(_NO_DRAFT)
        if meeting.agreed_index is not None:
            raise Conflict(_AGREED)
        appended = record_step(
            db,
            actor,
            dir_,
            E.MINUTES_COMMENTED,
            EventKind.MEETING,
            {
                "meeting": str(meeting.id),
                "comment": str(comment_id),
                "minutes_hash": meeting.minutes_hash,
                "text": said,
            },
            subject=meeting.id,
            readers=_readers(dir_, meeting),
            step_id=comment_id,
            at=at,
        )
        row = MinutesComment(
            id=comment_id,
            meeting_id=meeting.id,
            minutes_hash=meeting.minutes_hash,
            organisation_id=actor.organisation_id,
            member_id=actor.member_id,
            text=said,
            log_index=appended.index,
            at=at,
        )
        db.add(row)
    return row


def do_sign_minutes(
    db: Session, actor: Viewer, meeting_id: uuid.UUID, *, minutes_hash: str, now: datetime
) -> MinutesSignature:
    require(actor, is_party_officer(actor), _NOT_PARTICIPANT)
    meeting = q.get_meeting(db, actor, meeting_id)
    dir_ = directory(db, actor)
    own = _participant(actor, dir_, meeting)
    with atomic(db):
        at = log_clock(db, now=now)
        meeting = q.meeting_for_update(db, meeting.id)
        signatures = q.minutes_signatures_of(db, meeting.id)
        for earlier in signatures:
            if (
                earlier.organisation_id == actor.organisation_id
                and earlier.minutes_hash == minutes_hash
            ):
                return earlier
        if meeting.minutes_hash is None:
            raise Conflict(_NO_DRAFT)
        if minutes_hash != meeting.minutes_hash:
            raise InvalidInput(_OTHER_HASH, field="minutes_hash", minutes_hash=meeting.minutes_hash)
        if meeting.agreed_index is not None:
            raise Conflict(_AGREED)
        appended = record_step(
            db,
            actor,
            dir_,
            E.MINUTES_SIGNED,
            EventKind.MEETING,
            {"meeting": str(meeting.id), "minutes_hash": minutes_hash},
            subject=meeting.id,
            readers=_readers(dir_, meeting),
            step_id=None,
            at=at,
        )
        row = MinutesSignature(
            meeting_id=meeting.id,
            minutes_hash=minutes_hash,
            organisation_id=actor.organisation_id,
            member_id=actor.member_id,
            log_index=appended.index,
            signed_at=at,
        )
        db.add(row)
        signed = {
            dir_.by_id[s.organisation_id].slug for s in signatures if s.minutes_hash == minutes_hash
        } | {own}
        if set(meeting.participants) <= signed:
            meeting.agreed_at, meeting.agreed_index = at, appended.index
    return row


def do_adopt_decision(
    db: Session,
    actor: Viewer,
    meeting_id: uuid.UUID,
    decision: str,
    *,
    amendment_id: uuid.UUID,
    now: datetime,
) -> AgreementVersion:
    """A decision of agreed minutes that states a commitment, made an amendment of the
    meeting's agreement adding it (the version in force's content plus the commitment),
    to be signed by every signatory as any amendment is."""
    require(actor, may_propose(actor), _NOT_PROPOSER)
    meeting = q.get_meeting(db, actor, meeting_id)
    if meeting.agreed_index is None or meeting.minutes is None:
        raise Conflict(_NOT_AGREED)
    found = next(
        (d for d in meeting.minutes["decisions"] if d["key"] == decision and d["commitment"]),
        None,
    )
    if found is None:
        raise NotFound(N_(_NO_DECISION, decision=decision))
    if meeting.agreement_id is None:
        raise Conflict(_NO_AGREEMENT)
    agreement = aq.get_agreement(db, actor, meeting.agreement_id)
    versions = aq.versions_of(db, [agreement.id])
    base = next((v for v in versions if v.number == agreement.in_force_number), versions[-1])
    commitments = [x for x in base.content["commitments"] if x["key"] != found["commitment"]["key"]]
    return do_propose_amendment(
        db,
        actor,
        agreement.id,
        amendment_id=amendment_id,
        title=base.content["title"],
        text=base.content["text"]
        + f"\n\nDecision {decision} of the agreed minutes of meeting {meeting.number}: "
        + found["text"],
        dated=base.content["date"],
        commitments=[*commitments, found["commitment"]],
        now=now,
    )
