"""The diplomatic track's pages through a logged-in browser session without script: the pages
in each language, who sees which form, sealed comments kept sealed on the page, forms that
post to the actions and write the right steps, refusals shown in the member's language with
nothing written, and the sections the live script fetches again."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.diplomacy.factories import DAY, DOCUMENT, propose, sign_all, withdrawal

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.diplomacy.actions.meetings import (
    do_draft_minutes,
    do_request_meeting,
    do_sign_minutes,
)
from fusioncell.diplomacy.content import milestone_id
from fusioncell.diplomacy.models import Comment, Meeting, Milestone, Signature
from fusioncell.hotline.actions.messages import do_send_message
from fusioncell.hotline.models import ChannelKind
from fusioncell.hotline.queries import list_channels
from fusioncell.scenario.diplomacy_story import STORY_SPAN, load_diplomacy_story

Member = Callable[[str], Viewer]
LogIn = Callable[..., str]
HTML = {"Accept": "text/html"}
SECTIONS = {**HTML, "HX-Request": "true", "HX-Target": "diplomacy-sections"}


def _language(client: TestClient, csrf: str, language: str) -> None:
    response = client.post(
        "/language",
        data={"language": language, "next": "/", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303


def _page(client: TestClient, path: str) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == 200, response.text
    return response.text


def _forms(html: str) -> set[str]:
    return set(re.findall(r'data-form="(\w+)"', html))


def _post(client: TestClient, path: str, csrf: str, **fields: Any) -> Any:
    return client.post(
        path,
        data={"csrf_token": csrf, "id": str(uuid.uuid4()), **fields},
        headers=HTML,
        follow_redirects=False,
    )


def _count(db: Session, model: Any) -> int:
    db.rollback()  # a fresh read of what the app wrote
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _milestone(db: Session, found: uuid.UUID) -> Milestone:
    db.rollback()
    row = db.get(Milestone, found)
    assert row is not None
    return row


def _request_meeting(
    db: Session, member: Member, clock: ManualClock, agreement_id: uuid.UUID | None = None
) -> Meeting:
    """A meeting ALPHA asks for through the hotline."""
    alpha_viewer = member("alpha.liaison")
    [channel] = [c for c in list_channels(db, alpha_viewer) if c.kind == ChannelKind.CELL]
    message = do_send_message(
        db,
        alpha_viewer,
        message_id=uuid.uuid4(),
        channel_id=channel.id,
        precedence="ROUTINE",
        text="Meeting requested.",
        now=clock.now(),
    )
    meeting = do_request_meeting(
        db,
        alpha_viewer,
        meeting_id=uuid.uuid4(),
        title="Review",
        agenda=["Phase 1"],
        participants=["ALPHA", "BRAVO"],
        starts_at=clock.now() + DAY,
        message_id=message.id,
        agreement_id=agreement_id,
        now=clock.now(),
    )
    return meeting


def _story(db: Session, clock: ManualClock) -> None:
    start = clock.now()
    load_diplomacy_story(db, start=start)
    db.commit()
    clock.current = start + STORY_SPAN


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "on one record both parties read"), ("ar", 'dir="rtl"'), ("he", 'dir="rtl"')],
)
def test_every_page_of_the_story_in_the_members_language(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    log_in: LogIn,
    language: str,
    words: str,
) -> None:
    _story(db, clock)
    csrf = log_in("alpha.liaison")
    _language(client, csrf, language)
    agreement = db.scalar(select(Milestone.agreement_id).limit(1))
    meeting = db.scalar(select(Meeting.id).limit(1))
    for path in (
        "/agreements",
        f"/agreements/{agreement}",
        "/meetings",
        f"/meetings/{meeting}",
        "/agreements/dashboard",
    ):
        html = _page(client, path)
        assert words in html, path
        assert 'href="/agreements"' in html  # the navigation's link
    assert "The de-escalation engine at the due date" not in html or language == "en"


def test_the_operator_has_no_agreements_link_and_no_page(client: TestClient, log_in: LogIn) -> None:
    log_in("cell.admin")
    assert 'href="/agreements"' not in _page(client, "/")
    for path in ("/agreements", "/meetings", "/agreements/dashboard.csv"):
        assert client.get(path, headers=HTML).status_code == 403


def test_a_milestone_through_its_forms_sealed_then_assessed_with_the_engines_result(
    client: TestClient,
    new_client: Callable[[], TestClient],
    db: Session,
    member: Member,
    clock: ManualClock,
    log_in: LogIn,
) -> None:
    version = propose(db, member("supervisor.chair"), now=clock.now())
    sign_all(db, member, version, now=clock.now())
    db.commit()
    agreement = version.agreement_id
    first = milestone_id(agreement, "C2", "C2.1")
    path = f"/agreements/{agreement}"
    log_in("supervisor.chair")
    assert _forms(_page(client, path)) == set()  # nothing due yet, nothing to sign
    clock.advance(10 * DAY.total_seconds())
    chair = log_in("supervisor.chair")  # a new session: the first has expired meanwhile
    assert "request" in _forms(_page(client, path))
    answer = _post(client, f"{path}/milestones/{first}/verification", chair)
    assert answer.status_code == 303
    assert _milestone(db, first).state == "requested"

    alpha_client, bravo_client = new_client(), new_client()
    alpha = log_in("alpha.liaison", on=alpha_client)
    bravo = log_in("bravo.liaison", on=bravo_client)
    assert "comment" in _forms(_page(alpha_client, path))
    sent = _post(alpha_client, f"{path}/milestones/{first}/comments", alpha, comment="ALPHA left.")
    assert sent.status_code == 303
    mine = _page(alpha_client, path)
    assert "ALPHA left." in mine and "comment" not in _forms(mine)
    theirs = bravo_client.get(path, headers=SECTIONS).text  # the live script's fetch
    assert 'id="diplomacy-sections"' in theirs and "<h1" not in theirs
    assert "ALPHA left." not in theirs and "sealed — hash" in theirs
    _post(bravo_client, f"{path}/milestones/{first}/comments", bravo, comment="Tanks remain.")
    assert "ALPHA left." not in _page(client, path)  # the chair reads hashes only

    verifier_client = new_client()
    log_in("verifier.lead", on=verifier_client)
    assert "assess" not in _forms(_page(verifier_client, path))  # the window is open
    clock.advance(72 * 3600)
    verifier = log_in("verifier.lead", on=verifier_client)
    bravo = log_in("bravo.liaison", on=bravo_client)
    assert "assess" in _forms(_page(verifier_client, path))
    _language(verifier_client, verifier, "he")
    refused = _post(
        verifier_client,
        f"{path}/milestones/{first}/assessment",
        verifier,
        outcome="breached",
        reasons="Tanks at the positions.",
        evidence="",
    )
    assert refused.status_code in (400, 422)
    assert "הערכה מציינת את ראיותיה" in refused.text
    assert "Tanks at the positions.</textarea>" in refused.text  # what was typed, kept
    assert _milestone(db, first).state == "requested"
    done = _post(
        verifier_client,
        f"{path}/milestones/{first}/assessment",
        verifier,
        outcome="breached",
        reasons="Tanks at the positions.",
        evidence=f"document {DOCUMENT}",
    )
    assert done.status_code == 303
    assessed = _milestone(db, first)
    assert assessed.outcome == "breached"
    assert assessed.engine_result is not None
    _language(verifier_client, verifier, "en")
    html = _page(bravo_client, path)
    block = html[html.index(f'id="assessment-{first}"') :]
    assert "Tanks at the positions." in block and DOCUMENT in block
    assert "The de-escalation engine at the due date" in block
    assert "ALPHA left." in html  # revealed with the assessment
    assert _count(db, Comment) == 2


def test_signing_the_hash_shown_and_a_wrong_hash_refused_with_nothing_written(
    client: TestClient,
    new_client: Callable[[], TestClient],
    db: Session,
    member: Member,
    clock: ManualClock,
    log_in: LogIn,
) -> None:
    version = propose(db, member("supervisor.chair"), now=clock.now())
    db.commit()
    path = f"/agreements/{version.agreement_id}"
    csrf = log_in("alpha.liaison")
    html = _page(client, "/agreements")
    assert "sign" in _forms(html) and version.content_hash in html
    action = f"{path}/versions/{version.number}/signatures"
    refused = _post(client, action, csrf, content_hash="0" * 64)
    assert refused.status_code in (400, 422)
    assert "This is not the content hash of this version" in refused.text
    assert _count(db, Signature) == 0
    assert _post(client, action, csrf, content_hash=version.content_hash).status_code == 303
    assert _count(db, Signature) == 1
    assert "sign" not in _forms(_page(client, path))  # signed: awaiting the others
    verifier = new_client()
    log_in("verifier.lead", on=verifier)
    assert "sign" not in _forms(_page(verifier, path))  # the verifier is no signatory


def test_minutes_drafted_commented_and_agreed_through_the_forms(
    client: TestClient,
    new_client: Callable[[], TestClient],
    db: Session,
    member: Member,
    clock: ManualClock,
    log_in: LogIn,
) -> None:
    meeting = _request_meeting(db, member, clock)
    db.commit()
    path = f"/meetings/{meeting.id}"
    chair = log_in("supervisor.chair")
    assert _forms(_page(client, path)) == {"draft"}
    drafted = _post(client, f"{path}/minutes", chair, text="Reviewed.", decisions="D1 Meet again")
    assert drafted.status_code == 303
    alpha_client, bravo_client = new_client(), new_client()
    alpha = log_in("alpha.liaison", on=alpha_client)
    bravo = log_in("bravo.liaison", on=bravo_client)
    page = _page(bravo_client, path)
    assert _forms(page) == {"comment", "sign"} and "Meet again" in page
    _post(bravo_client, f"{path}/comments", bravo, comment="Agreed.")
    assert "Agreed." in _page(alpha_client, path)
    stale = _post(alpha_client, f"{path}/signatures", alpha, minutes_hash="f" * 64)
    assert stale.status_code in (400, 422) and "nothing was signed" in stale.text
    shown = re.search(r'name="minutes_hash" value="([0-9a-f]{64})"', _page(alpha_client, path))
    assert shown is not None
    for browser, csrf in ((alpha_client, alpha), (bravo_client, bravo)):
        answer = _post(browser, f"{path}/signatures", csrf, minutes_hash=shown.group(1))
        assert answer.status_code == 303
    html = _page(client, path)
    assert 'id="dp-agreed"' in html and 'data-agreed="yes"' in html
    assert _forms(html) == set()


def test_a_decision_of_agreed_minutes_adopted_as_an_amendment_from_the_page(
    client: TestClient, db: Session, member: Member, clock: ManualClock, log_in: LogIn
) -> None:
    version = propose(db, member("supervisor.chair"), now=clock.now())
    sign_all(db, member, version, now=clock.now())
    meeting = _request_meeting(db, member, clock, agreement_id=version.agreement_id)
    added = withdrawal(clock.now(), phases=1)
    added["key"], added["milestones"][0]["key"] = "C9", "C9.1"
    drafted = do_draft_minutes(
        db,
        member("supervisor.chair"),
        meeting.id,
        step_id=uuid.uuid4(),
        text="The parties agreed a further withdrawal.",
        decisions=[{"key": "D1", "text": "A further withdrawal.", "commitment": added}],
        now=clock.now(),
    )
    assert drafted.minutes_hash is not None
    db.commit()
    path = f"/meetings/{meeting.id}"
    csrf = log_in("supervisor.chair")
    assert "adopt" not in _forms(_page(client, path))  # not agreed yet
    for officer in ("alpha.liaison", "bravo.liaison"):
        do_sign_minutes(
            db, member(officer), meeting.id, minutes_hash=drafted.minutes_hash, now=clock.now()
        )
    db.commit()
    assert "adopt" in _forms(_page(client, path))
    answer = _post(client, f"{path}/decisions", csrf, decision="D1")
    assert answer.status_code == 303
    html = _page(client, f"/agreements/{version.agreement_id}")
    assert "Version 2: an amendment" in html and "sign" in _forms(html)
