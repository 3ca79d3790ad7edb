"""The record page as a browser without script sees it: the checkpoint, the entries the viewer
may read (and no others), search, paging, and the fragment htmx swaps in."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.helpers.pages import HTML

from fusioncell.app import create_app
from fusioncell.cell.actions.account import do_set_language
from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.ledger import views
from fusioncell.ledger.actions import checkpoint_text, do_keep_cosignature, do_sign_checkpoint
from fusioncell.ledger.checkpoint import Cosigner, cosignature_line
from fusioncell.ledger.entries import b64, log_time
from fusioncell.ledger.models import LogCheckpoint, LogEntry

LogIn = Callable[..., str]
HTMX = {**HTML, "HX-Request": "true", "HX-Target": views.LIST_ID}
_ROW = re.compile(r'<tr class="entry" id="entry-(\d+)" data-index="\d+" data-type="([^"]+)"')
WITNESS = Cosigner("witness.bravo.example/w1", bytes(range(32, 64)))
OTHER_WITNESS = Cosigner("witness.alpha.example/w1", bytes(range(64, 96)))
_MISSING = re.compile(r'<div class="alert warning quorum-missing".*?</div>', re.S)


def rows(html: str) -> dict[int, str]:
    """Index -> type of every entry row on the page."""
    return {int(index): entry_type for index, entry_type in _ROW.findall(html)}


def author_of(html: str) -> str:
    """The author key id of the first row (demo keys are made afresh on every run)."""
    found = re.search(r'data-author="([0-9a-f]{16})"', html)
    assert found is not None
    return found.group(1)


def record(client: TestClient, **params: str | int) -> str:
    response = client.get("/record", params=params, headers=HTML)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


# --- who sees what -------------------------------------------------------------------------


def test_a_visitor_is_sent_to_log_in_first(client: TestClient, demo: None) -> None:
    response = client.get("/record", headers=HTML, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/record"


def test_a_party_member_sees_entries_released_to_everyone_and_to_their_party_only(
    client: TestClient, log_in: LogIn
) -> None:
    log_in("alpha.liaison")

    page = record(client)

    shown = rows(page)
    assert shown[0] == "log.policy.adopted"
    assert shown[7] == "cell.member.created"  # ALPHA's own member
    assert 13 not in shown  # BRAVO's liaison, released to BRAVO and the supervisors
    assert "BRAVO liaison officer" not in page
    assert "ALPHA liaison officer" in page
    assert 'data-verify="0"' in page


def test_a_supervisor_sees_the_other_partys_members_too(client: TestClient, log_in: LogIn) -> None:
    log_in("supervisor.chair")

    page = record(client, type="cell.member.created")

    assert set(rows(page)) == {7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29}
    assert "BRAVO liaison officer" in page
    assert "ALPHA liaison officer" in page


def test_the_party_member_search_for_members_finds_only_their_own_party(
    client: TestClient, log_in: LogIn
) -> None:
    log_in("alpha.liaison")

    page = record(client, type="cell.member.created")

    assert set(rows(page)) == {7, 9, 11}


def test_the_list_is_newest_first_with_the_time_author_and_custody_of_each_entry(
    client: TestClient, log_in: LogIn
) -> None:
    log_in("supervisor.chair")

    page = record(client, type="cell.")

    indexes = list(rows(page))
    assert indexes == sorted(indexes, reverse=True)
    enrolment = page[page.index('id="entry-8"') : page.index('id="entry-7"')]
    # The time as the page's language writes it, the instant itself in the attribute.
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">\w{3} \d+, \d{4}, [^<]* UTC</time>', enrolment
    )
    key = author_of(enrolment)
    assert f'<a class="entry-author mono" href="/record?author={key}"' in enrolment
    assert "Custodial key" in enrolment
    assert "<summary>Show body</summary>" in enrolment
    assert f"&#34;key&#34;:&#34;{key}&#34;" in enrolment  # the JCS body, escaped


# --- search and paging ---------------------------------------------------------------------


def geo_indexes(db: Session, entry_type: str = "geo.") -> list[int]:
    """The demo's geometry entries (version 1 proposed, then signed by three), newest first."""
    db.rollback()
    found = db.scalars(
        select(LogEntry.index)
        .where(LogEntry.entry_type.startswith(entry_type))
        .order_by(LogEntry.index.desc())
    )
    return list(found)


def test_searching_by_a_type_prefix_lists_only_those_entries(
    client: TestClient, log_in: LogIn, db: Session
) -> None:
    log_in("alpha.liaison")

    page = record(client, type="geo.version.s")

    assert set(rows(page)) == set(geo_indexes(db, "geo.version.signed"))
    assert set(rows(page).values()) == {"geo.version.signed"}
    assert 'value="geo.version.s"' in page  # the form keeps the search


def test_searching_by_author_lists_only_that_keys_entries(
    client: TestClient, log_in: LogIn, db: Session
) -> None:
    log_in("supervisor.chair")
    enrolment = record(client, type="cell.key.enrolled", before=9)
    key = author_of(enrolment)

    page = record(client, author=f"{key.upper()} ")

    # ALPHA's liaison officer: its key's enrolment, and its signature of the demo's geometry
    # (the first of the three).
    assert rows(page) == {8: "cell.key.enrolled", geo_indexes(db)[2]: "geo.version.signed"}


def test_a_search_that_matches_nothing_says_so(client: TestClient, log_in: LogIn) -> None:
    log_in("alpha.liaison")

    page = record(client, type="no.such.type")

    assert rows(page) == {}
    assert "No entries you may read match this search." in page


def test_older_entries_are_a_link_away_and_keep_the_search(
    client: TestClient, log_in: LogIn, monkeypatch: pytest.MonkeyPatch, db: Session
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    log_in("alpha.liaison")

    first = record(client, type="geo.")
    older = re.search(r'<a class="older" href="([^"]+)"', first)
    assert older is not None
    target = urlsplit(older.group(1).replace("&amp;", "&"))
    second = record(client, **{k: v[0] for k, v in parse_qs(target.query).items()})

    newest = geo_indexes(db)
    assert list(rows(first)) == newest[:2]
    assert parse_qs(target.query) == {"type": ["geo."], "before": [str(newest[1])]}
    assert list(rows(second)) == newest[2:4]
    assert 'class="newest" href="/record?type=geo."' in second


def test_the_last_page_has_no_older_link(client: TestClient, log_in: LogIn) -> None:
    log_in("alpha.liaison")

    page = record(client, before=3)

    assert list(rows(page)) == [2, 1, 0]
    assert 'class="older"' not in page


def test_htmx_gets_the_list_alone_and_a_history_restore_the_whole_page(
    client: TestClient, log_in: LogIn, db: Session
) -> None:
    log_in("alpha.liaison")

    fragment = client.get("/record", params={"type": "geo."}, headers=HTMX)
    restored = client.get(
        "/record",
        params={"type": "geo."},
        headers={**HTMX, "HX-History-Restore-Request": "true"},
    )

    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith(f'<div id="{views.LIST_ID}"')
    assert "<html" not in fragment.text
    assert set(rows(fragment.text)) == set(geo_indexes(db))
    assert "HX-Target" in fragment.headers["vary"]
    assert fragment.headers["hx-push-url"] == "/record?type=geo."
    assert 'id="checkpoint"' not in fragment.text
    assert restored.text.lstrip().startswith("<!doctype html>")


def test_a_bad_before_is_refused(client: TestClient, log_in: LogIn) -> None:
    log_in("alpha.liaison")

    response = client.get("/record", params={"before": "-1"}, headers=HTML)

    assert response.status_code == 422


# --- the checkpoint ------------------------------------------------------------------------


def test_before_any_checkpoint_the_page_says_there_is_none(
    client: TestClient, log_in: LogIn
) -> None:
    log_in("alpha.liaison")

    page = record(client)

    assert 'id="no-checkpoint"' in page
    assert "data-size" not in page


def test_the_latest_checkpoint_shows_its_origin_size_root_and_time(
    app: FastAPI, client: TestClient, log_in: LogIn, db: Session
) -> None:
    log_in("alpha.liaison")
    signed = app.state.checkpointer.run_once()
    assert signed is not None

    page = record(client)

    assert f'id="checkpoint" aria-labelledby="checkpoint-heading" data-size="{signed.size}"' in page
    assert f'<dd class="checkpoint-size">{signed.size}</dd>' in page
    assert f'<code class="hash checkpoint-root">{b64(signed.root)}</code>' in page
    assert "<code>fusioncell.local/cell</code>" in page
    assert "No witnesses are configured" in page
    assert signed.note.split("\n")[2] == b64(signed.root)


@pytest.fixture
def witnessed_client(
    engine: object, settings: Settings, clock: ManualClock
) -> Iterator[TestClient]:
    """The app with one witness whose cosignature a checkpoint needs to count."""
    spec = f"{WITNESS.verifier().key_string()} http://127.0.0.1:9"
    application = create_app(replace(settings, witnesses=spec), clock=clock)
    with TestClient(application, base_url="http://testserver") as test_client:
        yield test_client
    application.state.engine.dispose()


def test_a_checkpoint_counts_once_its_witness_has_cosigned_it(
    witnessed_client: TestClient, log_in: LogIn, db: Session, clock: ManualClock
) -> None:
    log_in("alpha.liaison", on=witnessed_client)
    signed = do_sign_checkpoint(db, now=clock.now())
    assert isinstance(signed, LogCheckpoint)

    uncosigned = record(witnessed_client)
    line = cosignature_line(checkpoint_text(signed.note), WITNESS, 1_767_686_400)
    do_keep_cosignature(
        db, size=signed.size, witness=WITNESS.verifier(), line=line, now=clock.now()
    )
    cosigned = record(witnessed_client)

    assert 'id="no-checkpoint"' in uncosigned
    assert f'data-size="{signed.size}"' in cosigned
    assert '<code class="witness">witness.bravo.example/w1</code>' in cosigned


def cosign(db: Session, signed: LogCheckpoint, witness: Cosigner, clock: ManualClock) -> None:
    line = cosignature_line(checkpoint_text(signed.note), witness, 1_767_686_400)
    do_keep_cosignature(
        db, size=signed.size, witness=witness.verifier(), line=line, now=clock.now()
    )


def sign(db: Session, clock: ManualClock) -> LogCheckpoint:
    signed = do_sign_checkpoint(db, now=clock.now())
    assert isinstance(signed, LogCheckpoint)
    return signed


def missing_notice(page: str) -> str | None:
    found = _MISSING.search(page)
    return found.group(0) if found else None


@pytest.fixture
def two_witnesses(
    engine: object, settings: Settings, clock: ManualClock
) -> Iterator[Callable[[int | None], TestClient]]:
    """The app with two witnesses (ALPHA's and BRAVO's), needing ``quorum`` of them."""
    spec = "; ".join(
        f"{w.verifier().key_string()} http://127.0.0.1:9" for w in (OTHER_WITNESS, WITNESS)
    )
    with ExitStack() as stack:

        def make(quorum: int | None) -> TestClient:
            application = create_app(
                replace(settings, witnesses=spec, witness_quorum=quorum), clock=clock
            )
            stack.callback(application.state.engine.dispose)
            return stack.enter_context(TestClient(application, base_url="http://testserver"))

        yield make


def test_a_newest_checkpoint_without_the_quorum_is_named_with_the_missing_witness_and_since_when(
    two_witnesses: Callable[[int | None], TestClient],
    log_in: LogIn,
    member: Callable[[str], Viewer],
    db: Session,
    clock: ManualClock,
) -> None:
    browser = two_witnesses(None)
    log_in("alpha.liaison", on=browser)
    counted = sign(db, clock)
    cosign(db, counted, OTHER_WITNESS, clock)
    cosign(db, counted, WITNESS, clock)
    before = record(browser)
    do_set_language(db, member("bravo.liaison"), language="ar", now=clock.now())
    clock.advance(60)
    newest = sign(db, clock)
    cosign(db, newest, OTHER_WITNESS, clock)
    just_signed = record(browser)
    clock.advance(views.QUORUM_GRACE.total_seconds())

    page = record(browser)

    assert missing_notice(before) is None
    assert missing_notice(just_signed) is None  # its witnesses have had no time to cosign
    assert '<dd class="quorum">2 of 2 witnesses</dd>' in page
    assert f'aria-labelledby="checkpoint-heading" data-size="{counted.size}"' in page
    notice = missing_notice(page)
    assert notice is not None
    assert f'data-size="{newest.size}"' in notice
    assert re.findall(r'<code class="witness">([^<]+)</code>', notice) == [WITNESS.name]
    since = log_time(newest.created_at)
    assert f'Since <time datetime="{since}">Jan 6, 2026, 8:01:00\u202fAM UTC</time>' in notice
    assert "has been cosigned by 1 of the 2 witnesses it needs" in notice


def test_no_checkpoint_counting_yet_still_names_the_witnesses_it_waits_for(
    two_witnesses: Callable[[int | None], TestClient],
    log_in: LogIn,
    db: Session,
    clock: ManualClock,
) -> None:
    browser = two_witnesses(None)
    log_in("alpha.liaison", on=browser)
    sign(db, clock)
    clock.advance(views.QUORUM_GRACE.total_seconds())

    page = record(browser)

    assert 'id="no-checkpoint"' in page
    notice = missing_notice(page)
    assert notice is not None
    names = re.findall(r'<code class="witness">([^<]+)</code>', notice)
    assert names == [OTHER_WITNESS.name, WITNESS.name]


def test_a_checkpoint_that_counts_without_every_witness_says_who_has_not_cosigned(
    two_witnesses: Callable[[int | None], TestClient],
    log_in: LogIn,
    db: Session,
    clock: ManualClock,
) -> None:
    browser = two_witnesses(1)
    log_in("alpha.liaison", on=browser)
    signed = sign(db, clock)
    cosign(db, signed, OTHER_WITNESS, clock)

    page = record(browser)

    assert f'data-size="{signed.size}"' in page
    assert missing_notice(page) is None
    assert '<dd class="quorum">1 of 2 witnesses</dd>' in page
    not_cosigned = re.search(r'<p class="muted not-cosigned">(.*?)</p>', page, re.S)
    assert not_cosigned is not None
    assert f'<code class="witness">{WITNESS.name}</code>' in not_cosigned.group(1)
    assert OTHER_WITNESS.name not in not_cosigned.group(1)


# --- language and direction ----------------------------------------------------------------


def test_the_page_is_translated_and_right_to_left_in_hebrew(
    client: TestClient, log_in: LogIn
) -> None:
    csrf = log_in("alpha.liaison")
    client.post(
        "/language",
        data={"language": "he", "next": "/record", "csrf_token": csrf},
        headers=HTML,
        follow_redirects=False,
    )

    page = record(client)

    assert re.search(r'<html lang="he" dir="rtl">', page)
    assert "<h1>Record</h1>" not in page
    labels = re.search(r'id="record-i18n" hidden data-i18n="([^"]+)"', page)
    assert labels is not None
    verified = json.loads(unescape(labels.group(1)))["Verified in checkpoint %(size)s."]
    assert verified != "Verified in checkpoint %(size)s."
    assert "%(size)s" in verified
