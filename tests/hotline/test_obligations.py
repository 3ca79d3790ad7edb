"""Every page's header strip asks the hotline what the member's party owes: most urgent first,
in one statement whatever the number of messages."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.hotline.factories import send
from tests.querycount import count_statements

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.hotline.actions.messages import do_acknowledge_message
from fusioncell.hotline.obligations import open_obligations


def test_what_the_party_owes_comes_flash_first_and_leaves_when_acknowledged(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    alpha, bravo = member("alpha.liaison"), member("bravo.duty")
    routine = send(db, alpha, now=clock.now(), precedence="ROUTINE", text="Routine.")
    flash = send(db, alpha, now=clock.now(), text="Flash.")
    owed_before = {o.id for o in open_obligations(db, bravo, clock.now())}

    found = open_obligations(db, bravo, clock.now())

    assert found[0].id == str(flash.id)
    assert found[0].alerts is True and found[0].kind == "flash"
    assert found[0].act_url == f"/hotline/messages/{flash.id}/ack"
    assert str(routine.id) in owed_before
    # The sender's party owes nothing of its own message.
    assert str(flash.id) not in {o.id for o in open_obligations(db, alpha, clock.now())}

    do_acknowledge_message(
        db, bravo, message_id=flash.id, ack_id=uuid.uuid4(), checkpoint_size=None, now=clock.now()
    )
    assert str(flash.id) not in {o.id for o in open_obligations(db, bravo, clock.now())}


def test_the_strip_costs_one_statement_whatever_the_number_of_messages(
    db: Session, engine: Engine, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    alpha, bravo = member("alpha.liaison"), member("bravo.duty")
    send(db, alpha, now=clock.now())
    db.rollback()
    with count_statements(engine) as few:
        shown = len(open_obligations(db, bravo, clock.now()))
    db.rollback()
    for number in range(10):
        send(db, alpha, now=clock.now(), precedence="PRIORITY", text=f"Report {number}.")
    db.rollback()
    with count_statements(engine) as many:
        more = len(open_obligations(db, bravo, clock.now()))

    assert more == shown + 10
    assert many.count == few.count
    assert len([s for s in few.sent if s.lstrip().upper().startswith("SELECT")]) == 1
