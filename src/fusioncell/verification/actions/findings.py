"""Findings, comments and remedies (issue 13, items 2 and 3).

- The supervisor or the verifier drafts a finding; its entry opens the comment window for
  every party at the same moment, for the rules' hours (R11).
- Each party's liaison officer may comment once while the window is open: no edit, no
  withdrawal. The comment is sealed: its entry holds only SHA-256(nonce || text), the nonce
  being 32 random bytes kept with the text (so the hash cannot be guessed); the text is read
  by the commenter's organisation alone until the window closes, when the log reveals the
  nonce and the text in an entry of its own (the engine's tick, or the finding's transaction,
  whichever comes first; ``fusioncell verify`` checks the reveal against the hash).
- Once the window has closed, the supervisor or the verifier issues the finding:
  substantiated and attributed to a party, substantiated but unattributed, not substantiated,
  inconclusive because access was denied (the case holds a denial), or inconclusive for lack
  of evidence.
- A substantiated finding may be followed by a remedy requested (what, by when), which the
  supervisor or the verifier verifies; the supervisor closes the case.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.db.transaction import atomic
from fusioncell.deescalation.queries import Directory, directory
from fusioncell.errors import Conflict, IdempotencyConflict, InvalidInput
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.entries import log_time
from fusioncell.text import N_
from fusioncell.verification.actions.common import (
    ms,
    record_step,
    require_state,
    retried,
    text,
)
from fusioncell.verification.entries import VerificationEntry as E
from fusioncell.verification.models import (
    SUBSTANTIATED,
    Case,
    CaseState,
    Comment,
    Outcome,
)
from fusioncell.verification.policy import may_close, may_comment, may_find, require
from fusioncell.verification.queries.cases import (
    cell_directory,
    comments_to_reveal,
    for_update,
    get_case,
    incidents_of,
    own_comment,
    rules_in_force,
    sealed_comments_of,
)

_NOT_FINDER = N_("Only the supervisor or the verifier drafts and issues findings and remedies.")
_NOT_COMMENTER = N_("A party comments through its liaison officer.")
_NOT_CLOSER = N_("Only the supervisor closes a case.")
_BAD_OUTCOME = N_("The outcome is one of %(outcomes)s.")
_NEED_PARTY = N_("A substantiated and attributed finding names the party, and only it does.")
_NO_DENIAL = N_("No access was denied in this case: the finding cannot rest on a denial.")
_WINDOW_CLOSED = N_("The comment window closed at %(closed_at)s.")
_WINDOW_OPEN = N_("The comment window is open until %(closes_at)s: the finding waits for it.")
_ONE_COMMENT = N_(
    "Your party has commented on this draft: a comment is neither edited nor withdrawn."
)
_UNSUBSTANTIATED = N_("A remedy follows a substantiated finding only.")
_REMEDY_PARTY = N_("The remedy is asked of the party the finding attributes, or of a party.")
_BAD_DUE = N_("The remedy is due at a time to come, with its time zone.")


def commitment(nonce: str, said: str) -> str:
    """SHA-256 over the nonce's 32 bytes and the text's UTF-8: what the sealed entry holds."""
    return hashlib.sha256(bytes.fromhex(nonce) + said.encode("utf-8")).hexdigest()


def _outcome(dir_: Directory, outcome: str, party: str | None) -> str | None:
    if outcome not in tuple(Outcome):
        outcomes = [o.value for o in Outcome]
        raise InvalidInput(
            N_(_BAD_OUTCOME, outcomes=", ".join(outcomes)), field="outcome", outcomes=outcomes
        )
    attributed = outcome == Outcome.SUBSTANTIATED_ATTRIBUTED
    if attributed != (party is not None) or (attributed and party not in dir_.parties()):
        raise InvalidInput(_NEED_PARTY, field="party", parties=dir_.parties())
    return party


def do_draft_finding(
    db: Session,
    actor: Viewer,
    case_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    outcome: str,
    party: str | None = None,
    summary: str,
    now: datetime,
) -> Case:
    require(actor, may_find(actor), _NOT_FINDER)
    case = get_case(db, actor, case_id)
    dir_ = directory(db, actor)
    rules = rules_in_force(db)
    party = _outcome(dir_, outcome, party)
    said = text(summary, field="summary", limit=rules.max_text_chars)
    with atomic(db):
        at = log_clock(db, now=now)
        case = for_update(db, case.id)
        if retried(db, actor, step_id, case, E.FINDING_DRAFTED):
            return case
        require_state(case, E.FINDING_DRAFTED)
        case.state = CaseState.DRAFTED
        case.drafted_at, case.draft_outcome, case.draft_text = at, outcome, said
        case.draft_party_id = dir_.by_slug[party].id if party else None
        case.comments_close_at = at + rules.comment_window
        record_step(
            db,
            actor,
            dir_,
            case,
            E.FINDING_DRAFTED,
            {
                "outcome": outcome,
                "party": party,
                "summary": said,
                "comments_open_at": log_time(at),
                "comments_close_at": log_time(case.comments_close_at),
            },
            step_id=step_id,
            at=at,
        )
    return case


def do_comment_on_finding(
    db: Session,
    actor: Viewer,
    case_id: uuid.UUID,
    *,
    comment_id: uuid.UUID,
    comment: str,
    now: datetime,
) -> Comment:
    require(actor, may_comment(actor), _NOT_COMMENTER)
    case = get_case(db, actor, case_id)
    rules = rules_in_force(db)
    said = text(comment, field="comment", limit=rules.max_text_chars)
    dir_ = directory(db, actor)
    with atomic(db):
        at = log_clock(db, now=now)
        case = for_update(db, case.id)
        earlier = own_comment(db, case.id, actor.organisation_id)
        if earlier is not None:
            if earlier.id == comment_id and earlier.member_id == actor.member_id:
                if earlier.text != said:
                    raise IdempotencyConflict(comment_id=str(comment_id))
                return earlier
            raise Conflict(_ONE_COMMENT, field="comment")
        require_state(case, E.COMMENT_SEALED)
        assert case.comments_close_at is not None
        if at >= case.comments_close_at:
            closed_at = log_time(case.comments_close_at)
            raise Conflict(N_(_WINDOW_CLOSED, closed_at=closed_at), closed_at=closed_at)
        if db.get(Comment, comment_id) is not None:
            raise IdempotencyConflict(comment_id=str(comment_id))
        nonce = secrets.token_hex(32)
        sealed = commitment(nonce, said)
        appended = record_step(
            db,
            actor,
            dir_,
            case,
            E.COMMENT_SEALED,
            {
                "comment": str(comment_id),
                "commitment": sealed,
                "comments_close_at": log_time(case.comments_close_at),
            },
            step_id=comment_id,
            at=at,
        )
        row = Comment(
            id=comment_id,
            case_id=case.id,
            organisation_id=actor.organisation_id,
            member_id=actor.member_id,
            text=said,
            nonce=nonce,
            commitment=sealed,
            log_index=appended.index,
            sealed_at=at,
        )
        db.add(row)
    return row


def _reveal(db: Session, dir_: Directory, case: Case, comment: Comment, *, at: datetime) -> None:
    """The nonce and text of a sealed comment, by the log, once its window has closed."""
    appended = record_step(
        db,
        None,
        dir_,
        case,
        E.COMMENT_REVEALED,
        {
            "comment": str(comment.id),
            "sealed_index": comment.log_index,
            "party": dir_.by_id[comment.organisation_id].slug,
            "nonce": comment.nonce,
            "text": comment.text,
        },
        step_id=None,
        at=at,
    )
    comment.revealed_index, comment.revealed_at = appended.index, at


def do_reveal_due_comments(db: Session, *, now: datetime) -> int:
    """Reveal every sealed comment whose window has closed by ``now`` (the engine's tick)."""
    with atomic(db):
        if not comments_to_reveal(db, now=now):
            return 0
        at = log_clock(db, now=now)
        db.expire_all()
        due = list(comments_to_reveal(db, now=at))
        dir_ = cell_directory(db)
        for comment in due:
            _reveal(db, dir_, for_update(db, comment.case_id), comment, at=at)
    return len(due)


def do_issue_finding(
    db: Session,
    actor: Viewer,
    case_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    outcome: str,
    party: str | None = None,
    summary: str,
    now: datetime,
) -> Case:
    require(actor, may_find(actor), _NOT_FINDER)
    case = get_case(db, actor, case_id)
    dir_ = directory(db, actor)
    rules = rules_in_force(db)
    party = _outcome(dir_, outcome, party)
    said = text(summary, field="summary", limit=rules.max_text_chars)
    with atomic(db):
        at = log_clock(db, now=now)
        case = for_update(db, case.id)
        if retried(db, actor, step_id, case, E.FINDING_ISSUED):
            return case
        require_state(case, E.FINDING_ISSUED)
        assert case.comments_close_at is not None
        if at < case.comments_close_at:
            closes_at = log_time(case.comments_close_at)
            raise Conflict(N_(_WINDOW_OPEN, closes_at=closes_at), closes_at=closes_at)
        if outcome == Outcome.INCONCLUSIVE_ACCESS_DENIED and not incidents_of(db, case.id):
            raise InvalidInput(_NO_DENIAL, field="outcome")
        for comment in sealed_comments_of(db, case.id):
            _reveal(db, dir_, case, comment, at=at)
        case.state = CaseState.ISSUED
        case.outcome, case.finding_text, case.issued_at = outcome, said, at
        case.outcome_party_id = dir_.by_slug[party].id if party else None
        record_step(
            db,
            actor,
            dir_,
            case,
            E.FINDING_ISSUED,
            {"outcome": outcome, "party": party, "summary": said},
            step_id=step_id,
            at=at,
        )
    return case


def do_request_remedy(
    db: Session,
    actor: Viewer,
    case_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    remedy: str,
    due_at: datetime,
    party: str | None = None,
    now: datetime,
) -> Case:
    require(actor, may_find(actor), _NOT_FINDER)
    case = get_case(db, actor, case_id)
    dir_ = directory(db, actor)
    rules = rules_in_force(db)
    said = text(remedy, field="remedy", limit=rules.max_text_chars)
    if due_at.tzinfo is None or due_at.utcoffset() is None:
        raise InvalidInput(_BAD_DUE, field="due_at")
    due = ms(due_at.astimezone(UTC))
    with atomic(db):
        at = log_clock(db, now=now)
        case = for_update(db, case.id)
        if retried(db, actor, step_id, case, E.REMEDY_REQUESTED):
            return case
        require_state(case, E.REMEDY_REQUESTED)
        if case.outcome not in SUBSTANTIATED:
            raise Conflict(_UNSUBSTANTIATED, field="outcome", outcome=case.outcome)
        attributed = dir_.by_id[case.outcome_party_id].slug if case.outcome_party_id else None
        party = party or attributed
        if (attributed is not None and party != attributed) or (
            party is not None and party not in dir_.parties()
        ):
            raise InvalidInput(_REMEDY_PARTY, field="party")
        if due <= at:
            raise InvalidInput(_BAD_DUE, field="due_at")
        case.state = CaseState.REMEDY_REQUESTED
        case.remedy, case.remedy_due_at, case.remedy_requested_at = said, due, at
        case.remedy_party_id = dir_.by_slug[party].id if party else None
        record_step(
            db,
            actor,
            dir_,
            case,
            E.REMEDY_REQUESTED,
            {"remedy": said, "party": party, "due_at": log_time(due)},
            step_id=step_id,
            at=at,
        )
    return case


def do_verify_remedy(
    db: Session,
    actor: Viewer,
    case_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    note: str,
    now: datetime,
) -> Case:
    require(actor, may_find(actor), _NOT_FINDER)
    case = get_case(db, actor, case_id)
    said = text(note, field="note", limit=rules_in_force(db).max_text_chars)
    dir_ = directory(db, actor)
    with atomic(db):
        at = log_clock(db, now=now)
        case = for_update(db, case.id)
        if retried(db, actor, step_id, case, E.REMEDY_VERIFIED):
            return case
        require_state(case, E.REMEDY_VERIFIED)
        case.state, case.remedy_verified_at = CaseState.REMEDY_VERIFIED, at
        record_step(
            db, actor, dir_, case, E.REMEDY_VERIFIED, {"note": said}, step_id=step_id, at=at
        )
    return case


def do_close_case(
    db: Session,
    actor: Viewer,
    case_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    note: str = "",
    now: datetime,
) -> Case:
    require(actor, may_close(actor), _NOT_CLOSER)
    case = get_case(db, actor, case_id)
    said = text(note, field="note", limit=rules_in_force(db).max_text_chars, required=False)
    dir_ = directory(db, actor)
    with atomic(db):
        at = log_clock(db, now=now)
        case = for_update(db, case.id)
        if retried(db, actor, step_id, case, E.CASE_CLOSED):
            return case
        require_state(case, E.CASE_CLOSED)
        case.state, case.closed_at = CaseState.CLOSED, at
        record_step(db, actor, dir_, case, E.CASE_CLOSED, {"note": said}, step_id=step_id, at=at)
    return case
