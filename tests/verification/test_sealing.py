"""Comments are sealed until the window closes: the entry published at once holds only
SHA-256(nonce || text); no other party reads the text through the API, the record's bodies or
the live feed until the log reveals it; ``fusioncell verify`` checks the reveal against the
commitment, and the stored text against it before the reveal too."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from tests.helpers.problems import assert_problem
from tests.helpers.verifying import verify_state
from tests.verification.factories import HOUR, Member, assert_verifies, file, to_draft

from fusioncell.clock import ManualClock
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import EntryBody, LogEntry
from fusioncell.live.models import Event
from fusioncell.verification.actions.findings import do_comment_on_finding, do_reveal_due_comments
from fusioncell.verification.models import Comment
from fusioncell.verification.replay import CaseReplay

Headers = Callable[[str], dict[str, str]]
SECRET = "ALPHA's comment: the count was 14, not 40."


def _everything_readable(client: TestClient, headers: dict[str, str]) -> str:
    """Every body the reader is shown in the record, as one text."""
    entries = client.get("/api/v1/log/entries", params={"limit": 500}, headers=headers).json()
    return json.dumps(entries)


def test_no_other_party_reads_a_comment_before_the_window_closes_and_every_one_after(
    db: Session,
    member: Member,
    clock: ManualClock,
    client: TestClient,
    token_for: Headers,
    engine: Engine,
    ledger: LedgerContext,
) -> None:
    case = to_draft(db, member, file(db, member("alpha.liaison"), now=clock.now()), now=clock.now())
    comment = do_comment_on_finding(
        db,
        member("alpha.liaison"),
        case.id,
        comment_id=uuid.uuid4(),
        comment=SECRET,
        now=clock.now(),
    )
    db.commit()
    url = f"/api/v1/verification/complaints/{case.id}"
    readers = ("bravo.liaison", "supervisor.chair", "verifier.lead", "bravo.analyst")
    for who in readers:
        headers = token_for(who)
        [shown] = client.get(url, headers=headers).json()["comments"]
        assert (shown["party"], shown["sealed"], shown["text"]) == ("ALPHA", True, None)
        assert shown["commitment"] == comment.commitment
        assert SECRET not in _everything_readable(client, headers)
    own = client.get(url, headers=token_for("alpha.liaison")).json()["comments"]
    assert own[0]["text"] == SECRET and own[0]["sealed"] is True
    # The sealed entry holds the commitment and no text; the nonce stays out of the log.
    sealed = db.scalar(select(EntryBody.body).where(EntryBody.entry_index == comment.log_index))
    assert sealed is not None and SECRET not in sealed and comment.nonce not in sealed
    assert (
        json.loads(sealed)["commitment"]
        == hashlib.sha256(bytes.fromhex(comment.nonce) + SECRET.encode()).hexdigest()
    )
    # The live feed's frames say that a party commented, never what.
    payloads = [json.dumps(p) for p in db.scalars(select(Event.payload))]
    db.commit()
    assert payloads and not any(SECRET in p or comment.nonce in p for p in payloads)
    # No edit, no second comment, no withdrawal route.
    response = client.post(
        f"{url}/comments", json={"comment": "Another."}, headers=token_for("alpha.liaison")
    )
    assert_problem(response, 409, "conflict")
    assert client.delete(f"{url}/comments", headers=token_for("alpha.liaison")).status_code == 405

    clock.advance(72 * HOUR)
    assert do_reveal_due_comments(db, now=clock.now()) == 1
    db.commit()
    for who in readers:
        headers = token_for(who)
        [shown] = client.get(url, headers=headers).json()["comments"]
        assert (shown["sealed"], shown["text"]) == (False, SECRET)
        assert SECRET in _everything_readable(client, headers)
    assert SECRET not in _everything_readable(client, token_for("hum1.coordinator"))
    assert_verifies(db, engine, ledger, clock.now())


def _log(db: Session) -> list[tuple[int, str, Any, dict[str, Any]]]:
    db.commit()
    rows = db.execute(
        select(LogEntry.index, LogEntry.entry_type, LogEntry.logged_at, EntryBody.body)
        .join(EntryBody, EntryBody.entry_index == LogEntry.index)
        .order_by(LogEntry.index)
    ).all()
    return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]


def _replay(log: list[tuple[int, str, Any, dict[str, Any]]]) -> tuple[int, str] | None:
    replay = CaseReplay()
    for index, kind, at, body in log:
        replay.observe(index, kind, at, json.dumps(body))
    return replay.first_problem()


def test_verify_checks_each_reveal_against_its_sealed_commitment(
    db: Session, member: Member, clock: ManualClock, engine: Engine, ledger: LedgerContext
) -> None:
    case = to_draft(db, member, file(db, member("alpha.liaison"), now=clock.now()), now=clock.now())
    do_comment_on_finding(
        db,
        member("bravo.liaison"),
        case.id,
        comment_id=uuid.uuid4(),
        comment=SECRET,
        now=clock.now(),
    )
    # Before the reveal, the stored text must hash to what the log published.
    db.commit()
    do_sign_checkpoint(db, now=clock.now())
    db.commit()
    with engine.begin() as connection:
        connection.execute(update(Comment).values(text="Something BRAVO never said."))
    state = verify_state(engine, ledger)
    assert not state.ok and "does not hash" in str(state.reason)
    with engine.begin() as connection:
        connection.execute(update(Comment).values(text=SECRET))

    clock.advance(72 * HOUR)
    do_reveal_due_comments(db, now=clock.now())
    log = _log(db)
    assert _replay(log) is None
    position = next(i for i, e in enumerate(log) if e[1] == "verification.comment.revealed")
    for field, value in (("text", "BRAVO agrees entirely."), ("nonce", "00" * 32)):
        copy = [(i, k, at, dict(b)) for i, k, at, b in log]
        copy[position][3][field] = value
        problem = _replay(copy)
        assert problem == (log[position][0], problem[1] if problem else "")
        assert problem is not None and "commitment" in problem[1]
    # A reveal before the window closed is named too.
    early = [(i, k, at, dict(b)) for i, k, at, b in log]
    index, kind, _, body = early[position]
    early[position] = (index, kind, log[position - 1][2], body)
    problem = _replay(early)
    assert problem is not None and "before its window closed" in problem[1]
