"""A complaint links what its filer may see: a link to something released to another
organisation only is refused exactly as a link to nothing (the same problem, nothing
written); links the filer may see are kept on the case."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session
from tests.intel.factories import submit
from tests.verification.factories import Member, file, to_draft

from fusioncell.clock import ManualClock
from fusioncell.errors import InvalidInput
from fusioncell.verification.actions.findings import do_comment_on_finding


def test_a_link_the_filer_may_not_see_is_refused_as_one_to_nothing(
    db: Session, member: Member, clock: ManualClock, table_counts: Callable[[], dict[str, int]]
) -> None:
    bravo_only = submit(db, member("bravo.analyst"), clock)  # released to BRAVO alone
    shared = submit(db, member("bravo.analyst"), clock, release_to=("ALPHA",))
    db.commit()
    alpha = member("alpha.liaison")
    before = table_counts()
    answers = []
    for ident in (str(bravo_only.id), str(uuid.uuid4())):
        with pytest.raises(InvalidInput) as refused:
            file(db, alpha, now=clock.now(), links=[{"kind": "intel_report", "id": ident}])
        answers.append((refused.value.detail, refused.value.extensions))
    assert answers[0] == answers[1]
    assert table_counts() == before
    case = file(db, alpha, now=clock.now(), links=[{"kind": "intel_report", "id": str(shared.id)}])
    assert case.links == [{"kind": "intel_report", "id": str(shared.id)}]


def test_a_comment_sent_again_is_the_first_and_other_text_under_its_id_conflicts(
    db: Session, member: Member, clock: ManualClock, table_counts: Callable[[], dict[str, int]]
) -> None:
    from fusioncell.errors import IdempotencyConflict

    case = to_draft(db, member, file(db, member("alpha.liaison"), now=clock.now()), now=clock.now())
    bravo = member("bravo.liaison")
    comment_id = uuid.uuid4()
    first = do_comment_on_finding(
        db, bravo, case.id, comment_id=comment_id, comment="Disputed.", now=clock.now()
    )
    before = table_counts()
    again = do_comment_on_finding(
        db, bravo, case.id, comment_id=comment_id, comment="Disputed.", now=clock.now()
    )
    assert again.id == first.id and table_counts() == before
    with pytest.raises(IdempotencyConflict):
        do_comment_on_finding(
            db, bravo, case.id, comment_id=comment_id, comment="Agreed.", now=clock.now()
        )
    assert table_counts() == before
