"""Agreements made through the real actions, and a whole diplomatic story told once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.diplomacy.actions.agreements import (
    do_propose_agreement,
    do_propose_amendment,
    do_sign_version,
)
from fusioncell.diplomacy.actions.assessment import (
    do_assess_milestone,
    do_comment_on_milestone,
    do_request_verification,
)
from fusioncell.diplomacy.actions.escalation import do_escalate_due_deadlines
from fusioncell.diplomacy.actions.meetings import (
    do_comment_on_minutes,
    do_draft_minutes,
    do_request_meeting,
    do_sign_minutes,
)
from fusioncell.diplomacy.content import milestone_id
from fusioncell.diplomacy.models import AgreementVersion, Meeting
from fusioncell.hotline.actions.messages import do_send_message
from fusioncell.hotline.models import ChannelKind
from fusioncell.hotline.queries import list_channels

Member = Callable[[str], Viewer]
DAY = timedelta(days=1)
SIGNERS = ("alpha.liaison", "bravo.liaison", "supervisor.chair")
DOCUMENT = "ab" * 32


def at(moment: datetime) -> str:
    return moment.isoformat()


def withdrawal(now: datetime, *, phases: int = 3, rule: str | None = "R2") -> dict[str, Any]:
    """C2: ALPHA's withdrawal in phases, each with positions to vacate and a due date."""
    return {
        "key": "C2",
        "debtor": "ALPHA",
        "beneficiaries": ["BRAVO"],
        "obligation": "ALPHA withdraws from its positions in the area of separation.",
        "ends_at": at(now + 90 * DAY),
        "milestones": [
            {
                "key": f"C2.{n}",
                "title": f"Phase {n}: positions vacated",
                "due_at": at(now + 10 * n * DAY),
                "geometry": {"type": "Point", "coordinates": [35.75, 33.12]},
                "verification": {"rule": rule, "zone": "limitation-alpha-0-10"},
            }
            for n in range(1, phases + 1)
        ],
    }


def terms(now: datetime, **more: Any) -> dict[str, Any]:
    return {
        "title": "Disengagement timeline",
        "text": "The parties agree to the withdrawal below.",
        "parties": ["ALPHA", "BRAVO"],
        "dated": "2026-01-06",
        "commitments": [withdrawal(now)],
        **more,
    }


def propose(
    db: Session, actor: Viewer, *, now: datetime, agreement_id: uuid.UUID | None = None, **more: Any
) -> AgreementVersion:
    return do_propose_agreement(
        db, actor, agreement_id=agreement_id or uuid.uuid4(), now=now, **terms(now, **more)
    )


def sign_all(db: Session, member: Member, version: AgreementVersion, *, now: datetime) -> None:
    for username in SIGNERS:
        do_sign_version(
            db, member(username), version.id, content_hash=version.content_hash, now=now
        )


def tell_story(db: Session, member: Member, clock: ManualClock) -> AgreementVersion:
    """Every diplomacy entry type once: an agreement proposed and signed by every signatory,
    an amendment waiving a phase, a due milestone put to verification, both parties' sealed
    comments revealed, the assessment, a missed deadline escalated, and a meeting whose
    minutes both parties agree."""
    alpha, bravo = member("alpha.liaison"), member("bravo.liaison")
    chair = member("supervisor.chair")
    version = propose(db, chair, now=clock.now())
    sign_all(db, member, version, now=clock.now())
    amended = withdrawal(clock.now())
    amended["milestones"][2]["waived"] = True
    amendment = do_propose_amendment(
        db,
        alpha,
        version.agreement_id,
        amendment_id=uuid.uuid4(),
        title="Disengagement timeline, phase 3 waived",
        text="The parties waive the third phase.",
        dated="2026-01-20",
        commitments=[amended],
        now=clock.now(),
    )
    sign_all(db, member, amendment, now=clock.now())
    clock.advance(10 * DAY.total_seconds())
    do_escalate_due_deadlines(db, now=clock.now())  # C2.1 fell due: the supervisor's step 1
    first = milestone_id(version.agreement_id, "C2", "C2.1")
    do_request_verification(db, chair, first, step_id=uuid.uuid4(), now=clock.now())
    do_comment_on_milestone(
        db, alpha, first, comment_id=uuid.uuid4(), comment="ALPHA left.", now=clock.now()
    )
    do_comment_on_milestone(
        db, bravo, first, comment_id=uuid.uuid4(), comment="Tanks remain.", now=clock.now()
    )
    clock.advance(72 * 3600)
    do_assess_milestone(
        db,
        member("verifier.lead"),
        first,
        step_id=uuid.uuid4(),
        outcome="breached",
        reasons="Tanks were seen at the positions after the due date.",
        evidence=[{"kind": "document", "id": DOCUMENT}],
        now=clock.now(),
    )
    agreed_meeting(db, member, clock, agreement_id=version.agreement_id)
    return amendment


def agreed_meeting(
    db: Session, member: Member, clock: ManualClock, *, agreement_id: uuid.UUID | None = None
) -> Meeting:
    """A meeting ALPHA requests through the hotline, whose minutes both parties agree."""
    alpha, bravo, chair = (member(u) for u in SIGNERS)
    [channel] = [c for c in list_channels(db, alpha) if c.kind == ChannelKind.CELL]
    message = do_send_message(
        db,
        alpha,
        message_id=uuid.uuid4(),
        channel_id=channel.id,
        precedence="ROUTINE",
        text="Meeting requested: review of the withdrawal.",
        now=clock.now(),
    )
    meeting = do_request_meeting(
        db,
        alpha,
        meeting_id=uuid.uuid4(),
        title="Review of the withdrawal",
        agenda=["Phase 1"],
        participants=["ALPHA", "BRAVO"],
        starts_at=clock.now() + DAY,
        message_id=message.id,
        agreement_id=agreement_id,
        now=clock.now(),
    )
    drafted = do_draft_minutes(
        db,
        chair,
        meeting.id,
        step_id=uuid.uuid4(),
        text="The parties reviewed phase 1.",
        decisions=[{"key": "D1", "text": "Meet again in a week.", "commitment": None}],
        now=clock.now(),
    )
    do_comment_on_minutes(
        db, bravo, meeting.id, comment_id=uuid.uuid4(), comment="Agreed.", now=clock.now()
    )
    assert drafted.minutes_hash is not None
    for officer in (alpha, bravo):
        do_sign_minutes(db, officer, meeting.id, minutes_hash=drafted.minutes_hash, now=clock.now())
    return meeting
