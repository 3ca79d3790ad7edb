"""What each organisation owes in the diplomatic track, on every page's header strip, and
the live events each step emits for its readers."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.diplomacy.factories import DAY, Member, propose, sign_all

from fusioncell.clock import ManualClock
from fusioncell.diplomacy.actions.agreements import do_sign_version
from fusioncell.diplomacy.actions.assessment import (
    do_comment_on_milestone,
    do_request_verification,
)
from fusioncell.diplomacy.content import milestone_id
from fusioncell.diplomacy.obligations import open_obligations
from fusioncell.live.models import Event


def _owed(db: Session, member: Member, username: str, clock: ManualClock) -> list[str]:
    found = [o.kind for o in open_obligations(db, member(username), clock.now())]
    db.commit()
    return found


def test_the_header_strip_shows_signatures_due_milestones_comment_windows_and_assessments(
    db: Session, member: Member, clock: ManualClock
) -> None:
    version = propose(db, member("supervisor.chair"), now=clock.now())
    assert _owed(db, member, "bravo.liaison", clock) == ["sign"]
    # Each links to the agreement's page, where the step is taken.
    [owed] = open_obligations(db, member("bravo.liaison"), clock.now())
    db.commit()
    assert owed.url == f"/agreements/{version.agreement_id}"
    do_sign_version(
        db, member("bravo.liaison"), version.id, content_hash=version.content_hash, now=clock.now()
    )
    assert _owed(db, member, "bravo.liaison", clock) == []
    assert _owed(db, member, "alpha.liaison", clock) == ["sign"]
    sign_all(db, member, version, now=clock.now())
    assert _owed(db, member, "supervisor.chair", clock) == []
    clock.advance(10 * DAY.total_seconds())
    assert _owed(db, member, "verifier.lead", clock) == ["request_verification"]
    first = milestone_id(version.agreement_id, "C2", "C2.1")
    do_request_verification(
        db, member("verifier.lead"), first, step_id=uuid.uuid4(), now=clock.now()
    )
    assert _owed(db, member, "alpha.liaison", clock) == ["comment"]
    do_comment_on_milestone(
        db,
        member("alpha.liaison"),
        first,
        comment_id=uuid.uuid4(),
        comment="Done.",
        now=clock.now(),
    )
    assert _owed(db, member, "alpha.liaison", clock) == []
    assert _owed(db, member, "bravo.liaison", clock) == ["comment"]
    clock.advance(72 * 3600)
    assert _owed(db, member, "supervisor.chair", clock) == ["assess"]
    assert _owed(db, member, "bravo.liaison", clock) == []
    kinds = [
        (e.kind, e.payload["step"])
        for e in db.scalars(select(Event).where(Event.track == "diplomacy").order_by(Event.id))
    ]
    db.commit()
    assert kinds[0] == ("diplomacy-agreement", "diplomacy.agreement.proposed")
    assert kinds[-2:] == [
        ("diplomacy-milestone", "diplomacy.milestone.verification_requested"),
        ("diplomacy-milestone", "diplomacy.comment.sealed"),
    ]
