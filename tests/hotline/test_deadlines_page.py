"""The supervisor's deadlines page: each missed link test once, the page in the navigation of
those who may watch the deadlines, and on every row what was done about it, with a form to
record more (a plain post and redirect, or htmx in place)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.helpers.pages import HTML, session_cookie
from tests.helpers.tables import count_rows
from tests.hotline.factories import flash

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.hotline.actions.channels import bilateral_channel_id
from fusioncell.hotline.actions.messages import do_send_link_test
from fusioncell.hotline.models import DeadlineAction
from fusioncell.ledger.models import LogEntry
from fusioncell.scenario.demo import stable_id

ALPHA = stable_id("organisation", "ALPHA")
BRAVO = stable_id("organisation", "BRAVO")

_MISSED = re.compile(r'<tr class="missed-link-test" data-message="([0-9a-f-]{36})"')
_OWING = re.compile(r'<tr class="deadline[^"]*" data-message="([0-9a-f-]{36})"')


def test_a_missed_link_test_is_listed_once_and_not_again_among_the_open_deadlines(
    client: TestClient, db: Session, clock: ManualClock, settings: Settings, demo: None
) -> None:
    sent = do_send_link_test(db, sequence=3, now=clock.now())
    db.commit()
    session_cookie(client, db, clock, settings, "supervisor.duty")

    before = client.get("/hotline/deadlines", headers=HTML).text
    assert _MISSED.findall(before) == []
    assert sorted(_OWING.findall(before)) == sorted(str(m.id) for m in sent)

    clock.advance(601)
    html = client.get("/hotline/deadlines", headers=HTML).text

    missed = _MISSED.findall(html)
    assert sorted(missed) == sorted(str(m.id) for m in sent)
    assert len(set(missed)) == len(missed)
    assert _OWING.findall(html) == []
    assert html.count('href="/hotline/deadlines"') == 1  # in the navigation


# --- what was done about a deadline ------------------------------------------------------------

_CELL = re.compile(r'<div class="deadline-actions" id="(actions-[0-9a-f-]{36}-[0-9a-f-]{36})"')
_ACTION_ID = re.compile(r'<input type="hidden" name="id" value="([0-9a-f-]{36})">')


def cell_of(html: str, message_id: uuid.UUID, organisation_id: uuid.UUID) -> str:
    """One row's cell of actions and its form, as the page shows it."""
    start = html.index(f'id="actions-{message_id}-{organisation_id}"')
    end = html.index("</form>", start)
    return html[start:end]


def record(
    client: TestClient,
    csrf: str,
    message_id: uuid.UUID,
    organisation_id: uuid.UUID,
    *,
    htmx: bool = False,
    **fields: str,
) -> Any:
    headers = {**HTML, **({"HX-Request": "true"} if htmx else {})}
    return client.post(
        f"/hotline/messages/{message_id}/deadline-actions",
        data={
            "csrf_token": csrf,
            "organisation": str(organisation_id),
            "id": str(uuid.uuid4()),
            "kind": "call",
            "note": "Rang BRAVO's duty line",
            **fields,
        },
        headers=headers,
        follow_redirects=False,
    )


def test_every_row_offers_the_form_and_a_recorded_call_is_shown_in_its_row(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    member: Callable[[str], Viewer],
) -> None:
    message = flash(db, member, clock)
    link_tests = do_send_link_test(db, sequence=1, now=clock.now())
    db.commit()
    clock.advance(601)  # the link tests are missed
    csrf = session_cookie(client, db, clock, settings, "supervisor.duty")
    html = client.get("/hotline/deadlines", headers=HTML).text

    # One cell per row of both tables: the FLASH BRAVO owes and each missed link test.
    parties = {m.channel_id: m for m in link_tests}
    assert len(_CELL.findall(html)) == 1 + len(parties)
    cell = cell_of(html, message.id, BRAVO)
    assert f'action="/hotline/messages/{message.id}/deadline-actions"' in cell
    assert f'<input type="hidden" name="organisation" value="{BRAVO}">' in cell
    assert f'name="csrf_token" value="{csrf}"' in cell
    assert 'name="note" dir="auto" maxlength="500"' in cell
    assert '<option value="follow_up">Follow-up</option>' in cell
    assert "deadline-action-list" not in cell

    answered = record(client, csrf, message.id, BRAVO, id=str(action_id := uuid.uuid4()))

    assert answered.status_code == 303
    assert answered.headers["location"] == f"/hotline/deadlines#actions-{message.id}-{BRAVO}"
    db.rollback()
    row = db.get(DeadlineAction, action_id)
    assert row is not None and (row.kind, row.organisation_id) == ("call", BRAVO)
    shown = cell_of(client.get("/hotline/deadlines", headers=HTML).text, message.id, BRAVO)
    assert '<li class="deadline-action" data-kind="call">' in shown
    assert '<strong class="action-kind">Call made</strong>' in shown
    assert '<span class="action-by">supervisor.duty</span>' in shown
    assert "Rang BRAVO&#39;s duty line" in shown
    assert str(action_id) not in shown  # the form has a fresh id for the next one

    # A missed link test's row records a follow-up, its time read as UTC.
    test = link_tests[0]
    party = ALPHA if test.channel_id == bilateral_channel_id(ALPHA) else BRAVO
    due = (clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    followed = record(client, csrf, test.id, party, kind="follow_up", note="", follow_up_at=due)
    assert followed.status_code == 303, followed.text
    db.rollback()
    stored = db.scalar(select(DeadlineAction).where(DeadlineAction.message_id == test.id))
    assert stored is not None and stored.follow_up_at == datetime.fromisoformat(due).replace(
        tzinfo=UTC
    )
    missed = cell_of(client.get("/hotline/deadlines", headers=HTML).text, test.id, party)
    assert '<li class="deadline-action" data-kind="follow_up">' in missed
    assert 'class="action-due"' in missed


def test_with_htmx_the_cell_comes_back_in_place_and_a_problem_keeps_what_was_typed(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    member: Callable[[str], Viewer],
) -> None:
    message = flash(db, member, clock)
    db.commit()
    csrf = session_cookie(client, db, clock, settings, "supervisor.duty")
    before = count_rows(db, LogEntry)

    bad = record(
        client, csrf, message.id, BRAVO, htmx=True, kind="relay", note="   ", id=str(uuid.uuid4())
    )

    assert bad.status_code == 422
    assert bad.text.lstrip().startswith(f'<div class="deadline-actions" id="actions-{message.id}')
    assert "Say in the note how the message was relayed." in bad.text
    assert '<option value="relay" selected>' in bad.text
    assert 'name="note" dir="auto" maxlength="500" value="   "' in bad.text
    assert 'aria-invalid="true"' in bad.text
    assert count_rows(db, LogEntry) == before

    good = record(client, csrf, message.id, BRAVO, htmx=True, kind="relay", note="By radio")
    assert good.status_code == 200
    assert '<li class="deadline-action" data-kind="relay">' in good.text
    assert "By radio" in good.text and "<html" not in good.text
    assert 'value="By radio"' not in good.text  # a fresh, empty form


def test_without_script_a_problem_shows_the_page_again_with_the_rows_form_as_typed(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    member: Callable[[str], Viewer],
) -> None:
    message = flash(db, member, clock)
    db.commit()
    csrf = session_cookie(client, db, clock, settings, "supervisor.duty")
    action_id = uuid.uuid4()

    answered = record(client, csrf, message.id, BRAVO, note="x" * 501, id=str(action_id))

    assert answered.status_code == 422
    assert "<html" in answered.text
    cell = cell_of(answered.text, message.id, BRAVO)
    assert "The note may be at most 500 characters." in cell
    assert f'<input type="hidden" name="id" value="{action_id}">' in cell
    assert 'value="' + "x" * 501 + '"' in cell
    assert count_rows(db, DeadlineAction) == 0


def test_a_party_member_cannot_record_and_a_post_without_the_csrf_token_is_refused(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    member: Callable[[str], Viewer],
) -> None:
    message = flash(db, member, clock)
    db.commit()
    csrf = session_cookie(client, db, clock, settings, "bravo.duty")

    assert record(client, csrf, message.id, BRAVO).status_code == 403
    csrf = session_cookie(client, db, clock, settings, "supervisor.duty")
    assert record(client, "not-the-token", message.id, BRAVO).status_code == 403
    assert count_rows(db, DeadlineAction) == 0
