"""The supervisor's deadlines page: each missed link test once, and the page in the
navigation of those who may watch the deadlines."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.helpers.pages import HTML, session_cookie

from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.hotline.actions.messages import do_send_link_test

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
