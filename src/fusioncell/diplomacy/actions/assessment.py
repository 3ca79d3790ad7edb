"""A milestone's assessment (issue 14, item 2), as a draft finding's comment window works
in the disputes track:

    open -> (due) verification requested -> comment window for every party -> assessed

- Once a milestone is due (not before), the supervisor, the verifier or a party's liaison
  officer puts it to verification; the entry opens the comment window for every party at
  the same moment, for the rules' hours.
- Each party's liaison officer may comment once while the window is open. The comment is
  sealed: its entry holds SHA-256(nonce || text) (the verification track's ``commitment``);
  the log reveals the nonce and text when the window closes (the engine's tick, or the
  assessment's transaction, whichever comes first).
- Once the window has closed, the supervisor or the verifier assesses: met, partially met,
  breached or not verifiable, with reasons and the evidence cited (one item at least:
  documents by SHA-256, verification cases, inspections). Where the milestone links a
  de-escalation rule or zone, the engine's result at the due date, computed from what the
  assessor reads, is recorded beside the decision.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.db.transaction import atomic
from fusioncell.deescalation import queries as deescalation
from fusioncell.deescalation.queries import Directory, directory
from fusioncell.diplomacy.actions.common import record_step, released_to, retried
from fusioncell.diplomacy.content import SHA256
from fusioncell.diplomacy.entries import DiplomacyEntry as E
from fusioncell.diplomacy.events import EventKind
from fusioncell.diplomacy.models import Comment, Milestone, MilestoneState, Outcome
from fusioncell.diplomacy.policy import (
    may_assess,
    may_comment,
    may_request_verification,
    require,
)
from fusioncell.diplomacy.queries import agreements as q
from fusioncell.errors import Conflict, IdempotencyConflict, InvalidInput
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.entries import log_time
from fusioncell.text import N_
from fusioncell.verification.actions.common import text as checked_text
from fusioncell.verification.actions.findings import commitment as seal
from fusioncell.verification.queries.cases import find_case

EVIDENCE_KINDS = ("document", "finding", "inspection")
ENGINE_SOURCE = "verification"

_NOT_REQUESTER = N_(
    "The supervisor, the verifier or a party's liaison officer asks for verification."
)
_NOT_ASSESSOR = N_("Only the supervisor or the verifier assesses a milestone.")
_NOT_COMMENTER = N_("A party comments through its liaison officer.")
_NOT_DUE = N_("The milestone is due at %(due_at)s: it cannot be assessed before.")
_NOT_NOW = N_("The milestone is %(state)s: this step is not open to it.")
_WINDOW_OPEN = N_("The comment window is open until %(closes_at)s: the assessment waits for it.")
_WINDOW_CLOSED = N_("The comment window closed at %(closed_at)s.")
_ONE_COMMENT = N_(
    "Your party has commented on this milestone: a comment is neither edited nor withdrawn."
)
_BAD_OUTCOME = N_("The outcome is one of %(outcomes)s.")
_NEED_EVIDENCE = N_(
    "An assessment cites its evidence: at least one document (SHA-256), verification case "
    "or inspection."
)
_BAD_EVIDENCE = N_("Evidence is a list of {kind, id}: kind one of %(kinds)s.")
_NO_FINDING = N_("No verification case %(id)s that you read.")


def readers_of(db: Session, dir_: Directory, milestone: Milestone) -> list[str]:
    parties = [dir_.by_id[o].slug for o in q.parties_of(db, milestone.agreement_id)]
    return released_to(dir_, parties)


def _require_state(milestone: Milestone, *states: str) -> None:
    if milestone.state not in states:
        raise Conflict(N_(_NOT_NOW, state=milestone.state), state=milestone.state, field="state")


def _require_due(milestone: Milestone, at: datetime) -> None:
    if at < milestone.due_at:
        due = log_time(milestone.due_at)
        raise Conflict(N_(_NOT_DUE, due_at=due), due_at=due, field="due_at")


def do_request_verification(
    db: Session, actor: Viewer, milestone_id: uuid.UUID, *, step_id: uuid.UUID, now: datetime
) -> Milestone:
    require(actor, may_request_verification(actor), _NOT_REQUESTER)
    milestone = q.get_milestone(db, actor, milestone_id)
    dir_ = directory(db, actor)
    rules = q.rules_in_force(db)
    with atomic(db):
        at = log_clock(db, now=now)
        milestone = q.milestone_for_update(db, milestone.id)
        if retried(db, actor, step_id, milestone.id, E.VERIFICATION_REQUESTED):
            return milestone
        _require_state(milestone, MilestoneState.OPEN)
        _require_due(milestone, at)
        milestone.state = MilestoneState.REQUESTED
        milestone.requested_at, milestone.comments_close_at = at, at + rules.comment_window
        record_step(
            db,
            actor,
            dir_,
            E.VERIFICATION_REQUESTED,
            EventKind.MILESTONE,
            {
                "milestone": str(milestone.id),
                "agreement": str(milestone.agreement_id),
                "due_at": log_time(milestone.due_at),
                "comments_open_at": log_time(at),
                "comments_close_at": log_time(milestone.comments_close_at),
            },
            subject=milestone.id,
            readers=readers_of(db, dir_, milestone),
            step_id=step_id,
            at=at,
        )
    return milestone


def do_comment_on_milestone(
    db: Session,
    actor: Viewer,
    milestone_id: uuid.UUID,
    *,
    comment_id: uuid.UUID,
    comment: str,
    now: datetime,
) -> Comment:
    require(actor, may_comment(actor), _NOT_COMMENTER)
    milestone = q.get_milestone(db, actor, milestone_id)
    said = checked_text(comment, field="comment", limit=q.rules_in_force(db).max_comment_chars)
    dir_ = directory(db, actor)
    with atomic(db):
        at = log_clock(db, now=now)
        milestone = q.milestone_for_update(db, milestone.id)
        earlier = q.own_comment(db, milestone.id, actor.organisation_id)
        if earlier is not None:
            if earlier.id == comment_id and earlier.member_id == actor.member_id:
                if earlier.text != said:
                    raise IdempotencyConflict(comment_id=str(comment_id))
                return earlier
            raise Conflict(_ONE_COMMENT, field="comment")
        _require_state(milestone, MilestoneState.REQUESTED)
        assert milestone.comments_close_at is not None
        if at >= milestone.comments_close_at:
            closed_at = log_time(milestone.comments_close_at)
            raise Conflict(N_(_WINDOW_CLOSED, closed_at=closed_at), closed_at=closed_at)
        if db.get(Comment, comment_id) is not None:
            raise IdempotencyConflict(comment_id=str(comment_id))
        nonce = secrets.token_hex(32)
        sealed = seal(nonce, said)
        appended = record_step(
            db,
            actor,
            dir_,
            E.COMMENT_SEALED,
            EventKind.MILESTONE,
            {
                "milestone": str(milestone.id),
                "comment": str(comment_id),
                "commitment": sealed,
                "comments_close_at": log_time(milestone.comments_close_at),
            },
            subject=milestone.id,
            readers=readers_of(db, dir_, milestone),
            step_id=comment_id,
            at=at,
        )
        row = Comment(
            id=comment_id,
            milestone_id=milestone.id,
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


def _reveal(
    db: Session, dir_: Directory, milestone: Milestone, comment: Comment, *, at: datetime
) -> None:
    appended = record_step(
        db,
        None,
        dir_,
        E.COMMENT_REVEALED,
        EventKind.MILESTONE,
        {
            "milestone": str(milestone.id),
            "comment": str(comment.id),
            "sealed_index": comment.log_index,
            "party": dir_.by_id[comment.organisation_id].slug,
            "nonce": comment.nonce,
            "text": comment.text,
        },
        subject=milestone.id,
        readers=readers_of(db, dir_, milestone),
        step_id=None,
        at=at,
    )
    comment.revealed_index, comment.revealed_at = appended.index, at


def do_reveal_due_comments(db: Session, *, now: datetime) -> int:
    """Reveal every sealed comment whose window has closed by ``now`` (the engine's tick)."""
    with atomic(db):
        if not q.comments_to_reveal(db, now=now):
            return 0
        at = log_clock(db, now=now)
        db.expire_all()
        due = list(q.comments_to_reveal(db, now=at))
        dir_ = q.cell_directory(db)
        for comment in due:
            _reveal(db, dir_, q.milestone_for_update(db, comment.milestone_id), comment, at=at)
    return len(due)


def _evidence(
    db: Session, actor: Viewer, given: list[dict[str, Any]], limit: int
) -> list[dict[str, str]]:
    if not given:
        raise InvalidInput(_NEED_EVIDENCE, field="evidence")
    if len(given) > limit:
        raise InvalidInput(_NEED_EVIDENCE, field="evidence", limit=limit)
    cited = []
    for item in given:
        kind, ident = item.get("kind"), item.get("id")
        if kind not in EVIDENCE_KINDS or not isinstance(ident, str):
            raise InvalidInput(N_(_BAD_EVIDENCE, kinds=", ".join(EVIDENCE_KINDS)), field="evidence")
        if kind == "document":
            if not SHA256.match(ident):
                raise InvalidInput(
                    N_(_BAD_EVIDENCE, kinds=", ".join(EVIDENCE_KINDS)), field="evidence"
                )
        else:
            try:
                ident = str(uuid.UUID(ident))
            except ValueError:
                raise InvalidInput(
                    N_(_BAD_EVIDENCE, kinds=", ".join(EVIDENCE_KINDS)), field="evidence"
                ) from None
            if kind == "finding" and find_case(db, actor, uuid.UUID(ident)) is None:
                raise InvalidInput(N_(_NO_FINDING, id=ident), field="evidence", id=ident)
        cited.append({"kind": kind, "id": ident})
    return cited


def engine_result(
    db: Session, actor: Viewer, dir_: Directory, milestone: Milestone, debtor: str
) -> dict[str, Any] | None:
    """The de-escalation engine's candidates at the due date for the milestone's rule and
    zone against its debtor, from what ``actor`` reads; None when neither is linked."""
    rule, zone = milestone.verification.get("rule"), milestone.verification.get("zone")
    if rule is None and zone is None:
        return None
    result = deescalation.compliance(db, actor, at=milestone.due_at, source=ENGINE_SOURCE)
    candidates = [
        x.as_dict()
        for x in result.candidates
        if x.party == debtor
        and (rule is None or x.rule == rule)
        and (zone is None or x.zone == zone)
    ]
    return {
        "at": log_time(milestone.due_at),
        "source": ENGINE_SOURCE,
        "party": debtor,
        "rule": rule,
        "zone": zone,
        "compliant": not candidates,
        "candidates": candidates,
    }


def do_assess_milestone(
    db: Session,
    actor: Viewer,
    milestone_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    outcome: str,
    reasons: str,
    evidence: list[dict[str, Any]],
    now: datetime,
) -> Milestone:
    require(actor, may_assess(actor), _NOT_ASSESSOR)
    milestone = q.get_milestone(db, actor, milestone_id)
    rules = q.rules_in_force(db)
    if outcome not in tuple(Outcome):
        outcomes = [o.value for o in Outcome]
        raise InvalidInput(
            N_(_BAD_OUTCOME, outcomes=", ".join(outcomes)), field="outcome", outcomes=outcomes
        )
    said = checked_text(reasons, field="reasons", limit=rules.max_comment_chars)
    cited = _evidence(db, actor, evidence, rules.max_evidence)
    dir_ = directory(db, actor)
    debtor = next(
        x.debtor_id
        for x in q.commitments_of(db, [milestone.agreement_id])
        if x.id == milestone.commitment_id
    )
    computed = engine_result(db, actor, dir_, milestone, dir_.by_id[debtor].slug)
    with atomic(db):
        at = log_clock(db, now=now)
        milestone = q.milestone_for_update(db, milestone.id)
        if retried(db, actor, step_id, milestone.id, E.MILESTONE_ASSESSED):
            return milestone
        _require_due(milestone, at)
        _require_state(milestone, MilestoneState.REQUESTED)
        assert milestone.comments_close_at is not None
        if at < milestone.comments_close_at:
            closes_at = log_time(milestone.comments_close_at)
            raise Conflict(N_(_WINDOW_OPEN, closes_at=closes_at), closes_at=closes_at)
        for comment in q.sealed_comments_of(db, milestone.id):
            _reveal(db, dir_, milestone, comment, at=at)
        milestone.state = MilestoneState.ASSESSED
        milestone.outcome, milestone.reasons, milestone.evidence = outcome, said, cited
        milestone.engine_result = computed
        milestone.assessed_by, milestone.assessed_at = actor.member_id, at
        appended = record_step(
            db,
            actor,
            dir_,
            E.MILESTONE_ASSESSED,
            EventKind.MILESTONE,
            {
                "milestone": str(milestone.id),
                "agreement": str(milestone.agreement_id),
                "due_at": log_time(milestone.due_at),
                "outcome": outcome,
                "reasons": said,
                "evidence": cited,
                "engine": computed,
            },
            subject=milestone.id,
            readers=readers_of(db, dir_, milestone),
            step_id=step_id,
            at=at,
        )
        milestone.assessed_index = appended.index
    return milestone
