"""The hotline's pages as a browser without script sees them: the inbox (delivery, countdowns,
acknowledging, filters, compose), the row and list partials htmx and hotline.js swap in, the
supervisor's deadlines, and the same in Arabic."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from html import unescape
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.cell.conftest import HTML, csrf_in
from tests.conftest import DEMO_PASSWORD

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.hotline import forms
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID, bilateral_channel_id
from fusioncell.hotline.actions.escalation import do_escalate_due
from fusioncell.hotline.actions.messages import (
    do_acknowledge_message,
    do_send_link_test,
    do_send_message,
)
from fusioncell.hotline.models import Ack, Delivery, Message
from fusioncell.hotline.views import deadlines as deadlines_page
from fusioncell.hotline.views import form as compose_form_module
from fusioncell.hotline.views import inbox as inbox_page
from fusioncell.hotline.views import render as row_render
from fusioncell.i18n import translate
from fusioncell.scenario.demo import stable_id

ALPHA = stable_id("organisation", "ALPHA")
BRAVO = stable_id("organisation", "BRAVO")
ALPHA_CHANNEL = bilateral_channel_id(ALPHA)
HTMX = {**HTML, "HX-Request": "true"}
_ROW = re.compile(r'<li class="message[^"]*" id="message-([0-9a-f-]{36})"')
INCIDENT_POINT = {"type": "Point", "coordinates": [35.5, 33.1]}

Browser = Callable[[str], TestClient]
Send = Callable[..., Message]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No background engine: the tests move the clock and escalate when they choose."""
    return replace(settings, background_checkpoints=False)


@pytest.fixture
def browser(app: FastAPI, demo: None) -> Iterator[Browser]:
    """A logged-in browser per demo member: its own cookie jar, the same app."""
    with ExitStack() as stack:

        def open_as(username: str) -> TestClient:
            client = stack.enter_context(TestClient(app, base_url="http://testserver"))
            form = client.get("/login", headers=HTML)
            response = client.post(
                "/login",
                data={
                    "username": username,
                    "password": DEMO_PASSWORD,
                    "csrf_token": csrf_in(form.text),
                },
                headers=HTML,
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text
            return client

        yield open_as


@pytest.fixture
def send(db: Session, clock: ManualClock, member: Callable[[str], Viewer]) -> Send:
    def go(
        username: str,
        text: str | None = "Convoy of two trucks at the crossing at 10:00.",
        *,
        channel: uuid.UUID = CELL_CHANNEL_ID,
        precedence: str = "ROUTINE",
        form: str = forms.TEXT,
        fields: dict[str, Any] | None = None,
    ) -> Message:
        message = do_send_message(
            db,
            member(username),
            message_id=uuid.uuid4(),
            channel_id=channel,
            precedence=precedence,
            form=form,
            text=text if form == forms.TEXT else None,
            fields=fields,
            now=clock.now(),
        )
        db.commit()
        return message

    return go


@pytest.fixture
def table_rows(db: Session) -> Callable[[], dict[str, int]]:
    """Rows per table, every table: proof that a refused request wrote nothing anywhere."""
    from fusioncell.db.registry import metadata

    def rows() -> dict[str, int]:
        db.expire_all()
        found = {
            table.name: int(db.scalar(select(func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }
        db.commit()
        return found

    return rows


@pytest.fixture
def count(db: Session) -> Callable[[type], int]:
    def rows(model: type) -> int:
        db.expire_all()
        total = db.scalar(select(func.count()).select_from(model))
        db.commit()
        return int(total or 0)

    return rows


def page_of(client: TestClient, url: str = "/hotline", **params: str) -> str:
    response = client.get(url, params=params or None, headers=HTML)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def listed(html: str) -> list[str]:
    return _ROW.findall(html)


def row_html(html: str, message_id: uuid.UUID) -> str:
    start = html.index(f'id="message-{message_id}"')
    end = html.find('<li class="message', start)
    return html[start : end if end != -1 else len(html)]


def compose_form(client: TestClient, **data: str) -> dict[str, str]:
    """What the compose form posts: its hidden fields as rendered, and the given values."""
    html = page_of(client)
    found = re.search(r'<input type="hidden" name="id" value="([0-9a-f-]{36})">', html)
    assert found is not None, "no compose form"
    return {
        "csrf_token": csrf_in(html),
        "id": found.group(1),
        "channel": str(CELL_CHANNEL_ID),
        "precedence": "ROUTINE",
        "form": "text",
        **data,
    }


# --- the inbox -----------------------------------------------------------------------------


def test_the_inbox_lists_a_members_messages_newest_first_with_sender_and_precedence(
    browser: Browser, send: Send
) -> None:
    first = send("alpha.liaison", "First report.", precedence="ROUTINE")
    second = send("alpha.liaison", "Second report.", precedence="FLASH")

    html = page_of(browser("bravo.duty"))

    assert listed(html) == [str(second.id), str(first.id)]
    newest = row_html(html, second.id)
    assert 'data-precedence="FLASH"' in newest
    assert "precedence precedence-flash" in newest
    assert "Second report." in newest
    assert "alpha.liaison" in newest and "(ALPHA)" in newest
    assert "Cell-wide channel" in newest
    assert '<script src="/static/js/hotline.js" defer></script>' in html
    assert 'data-stream="/api/v1/stream"' in html


def test_viewing_the_inbox_counts_as_delivery_to_the_viewers_organisation(
    browser: Browser, send: Send, db: Session, count: Callable[[type], int]
) -> None:
    message = send("alpha.liaison")
    assert count(Delivery) == 0

    html = page_of(browser("bravo.duty"))

    db.expire_all()
    assert db.get(Delivery, (message.id, BRAVO)) is not None
    row = row_html(html, message.id)
    assert re.search(r'data-party="BRAVO"\s+data-delivered="true"\s+data-acknowledged="false"', row)
    # The sender's own organisation viewing it is no delivery.
    page_of(browser("alpha.duty"))
    assert count(Delivery) == 1


def test_each_open_deadline_counts_down_from_the_servers_clock(
    browser: Browser, send: Send, clock: ManualClock
) -> None:
    message = send("alpha.liaison", precedence="FLASH")
    supervisor = browser("supervisor.chair")  # reads without delivering to BRAVO

    row = row_html(page_of(supervisor), message.id)
    deadline = int(message.ack_deadline.timestamp() * 1000)
    assert f'data-deadline-ms="{deadline}">2:00</time>' in row
    assert f'data-now-ms="{int(clock.now().timestamp() * 1000)}"' in row
    assert "Delivery deadline" in row  # BRAVO has not received it yet

    clock.advance(130)
    row = row_html(page_of(supervisor), message.id)
    assert f'data-deadline-ms="{deadline}">overdue by 0:10</time>' in row
    assert "countdown-ack overdue" in row


def test_countdown_text_matches_what_the_script_writes() -> None:
    assert row_render.countdown_text(5, "en") == "0:05"
    assert row_render.countdown_text(3725, "en") == "1:02:05"
    assert row_render.countdown_text(-61.5, "en") == "overdue by 1:01"


# --- acknowledging -------------------------------------------------------------------------


def test_the_acknowledge_button_acknowledges_once_and_then_disappears(
    browser: Browser, send: Send, db: Session, count: Callable[[type], int]
) -> None:
    message = send("alpha.liaison", precedence="FLASH")
    duty = browser("bravo.duty")
    html = page_of(duty)
    row = row_html(html, message.id)
    assert 'class="ack"' in row
    ack_id = re.search(r'name="ack_id" value="([0-9a-f-]{36})"', row)
    assert ack_id is not None
    # Who does not owe an ack sees no button: the sender's side, an analyst, the supervisor.
    for username in ("alpha.duty", "bravo.analyst", "supervisor.duty"):
        assert 'class="ack"' not in row_html(page_of(browser(username)), message.id), username

    data = {
        "csrf_token": csrf_in(html),
        "ack_id": ack_id.group(1),
        "next": "/hotline?precedence=FLASH",
    }
    response = duty.post(
        f"/hotline/messages/{message.id}/ack", data=data, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/hotline?precedence=FLASH"
    # A double submit is the same acknowledgement.
    again = duty.post(
        f"/hotline/messages/{message.id}/ack", data=data, headers=HTML, follow_redirects=False
    )
    assert again.status_code == 303
    assert count(Ack) == 1
    db.expire_all()
    ack = db.scalar(select(Ack))
    assert ack is not None and ack.counts and str(ack.id) == ack_id.group(1)

    row = row_html(page_of(duty), message.id)
    assert 'class="ack"' not in row
    assert re.search(r'data-party="BRAVO"\s+data-delivered="true"\s+data-acknowledged="true"', row)
    assert "(bravo.duty)" in row
    # The party has acknowledged: its liaison officer owes nothing more.
    assert 'class="ack"' not in row_html(page_of(browser("bravo.liaison")), message.id)


def test_acknowledging_from_a_stale_page_changes_nothing_more(
    browser: Browser, send: Send, count: Callable[[type], int]
) -> None:
    message = send("alpha.liaison")
    duty = browser("bravo.duty")
    csrf = csrf_in(page_of(duty))
    for _ in range(2):  # two tabs: two ack ids, one member
        response = duty.post(
            f"/hotline/messages/{message.id}/ack",
            data={"csrf_token": csrf, "ack_id": str(uuid.uuid4())},
            headers=HTML,
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/hotline"
    assert count(Ack) == 1


def test_htmx_acknowledges_in_place_and_gets_the_row_back_without_the_button(
    browser: Browser, send: Send
) -> None:
    message = send("alpha.liaison")
    duty = browser("bravo.duty")
    csrf = csrf_in(page_of(duty))

    response = duty.post(
        f"/hotline/messages/{message.id}/ack", headers={**HTMX, "X-CSRF-Token": csrf}
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith(
        f'<li class="message precedence-row-routine" id="message-{message.id}"'
    )
    assert 'class="ack"' not in response.text
    assert 'data-owed="false"' in response.text


def test_an_acknowledgement_without_the_csrf_token_is_refused(
    browser: Browser, send: Send, count: Callable[[type], int]
) -> None:
    message = send("alpha.liaison")
    duty = browser("bravo.duty")

    response = duty.post(f"/hotline/messages/{message.id}/ack", data={}, headers=HTML)

    assert response.status_code == 403
    assert count(Ack) == 0


def test_who_may_not_acknowledge_is_refused_and_nothing_is_written(
    browser: Browser, send: Send, count: Callable[[type], int]
) -> None:
    message = send("alpha.liaison")
    for username, status in (("bravo.analyst", 403), ("hum1.coordinator", 404)):
        client = browser(username)
        response = client.post(
            f"/hotline/messages/{message.id}/ack",
            data={"csrf_token": csrf_in(page_of(client))},
            headers=HTML,
        )
        assert response.status_code == status, username
    assert count(Ack) == 0


# --- composing -----------------------------------------------------------------------------


def test_the_compose_form_sends_once_however_often_it_is_submitted(
    browser: Browser, count: Callable[[type], int], db: Session
) -> None:
    liaison = browser("alpha.liaison")
    data = compose_form(liaison, precedence="IMMEDIATE", text="Request a call at 14:00.")

    first = liaison.post("/hotline/messages", data=data, headers=HTML, follow_redirects=False)
    second = liaison.post("/hotline/messages", data=data, headers=HTML, follow_redirects=False)

    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == f"/hotline#message-{data['id']}"
    assert count(Message) == 1
    db.expire_all()
    message = db.get(Message, uuid.UUID(data["id"]))
    assert message is not None
    assert (message.channel_id, message.precedence, message.text) == (
        CELL_CHANNEL_ID,
        "IMMEDIATE",
        "Request a call at 14:00.",
    )
    assert listed(page_of(browser("bravo.duty"))) == [data["id"]]


def test_the_compose_form_sends_a_template_with_its_fields(browser: Browser, db: Session) -> None:
    liaison = browser("alpha.liaison")
    data = compose_form(
        liaison,
        channel=str(ALPHA_CHANNEL),
        precedence="PRIORITY",
        form="incident_alert",
        text="ignored: a template is chosen",
        **{
            "incident_alert.occurred_at": "2026-01-06T07:45",
            "incident_alert.description": "Shots heard near the northern post.",
            "incident_alert.location": json.dumps(INCIDENT_POINT),
            # Another template's fields, still in the form without script: ignored.
            "clarification_request.subject": "leftover",
        },
    )

    response = liaison.post("/hotline/messages", data=data, headers=HTML, follow_redirects=False)

    assert response.status_code == 303, response.text
    db.expire_all()
    message = db.get(Message, uuid.UUID(data["id"]))
    assert message is not None
    assert (message.form, message.text, message.channel_id) == (
        "incident_alert",
        None,
        ALPHA_CHANNEL,
    )
    assert message.fields == {
        "occurred_at": "2026-01-06T07:45:00Z",
        "description": "Shots heard near the northern post.",
        "location": INCIDENT_POINT,
    }
    row = row_html(page_of(browser("supervisor.chair")), message.id)
    assert "Incident alert" in row
    assert "Incident at 2026-01-06T07:45:00Z: Shots heard near the northern post." in row


def test_a_template_with_a_bad_field_comes_back_with_its_problems_and_nothing_is_sent(
    browser: Browser, count: Callable[[type], int], table_rows: Callable[[], dict[str, int]]
) -> None:
    liaison = browser("alpha.liaison")
    data = compose_form(
        liaison,
        precedence="FLASH",
        form="medevac_request",
        **{
            "medevac_request.patients": "3",
            "medevac_request.urgency": "urgent",
            "medevac_request.location": "not json",
        },
    )
    before = table_rows()

    response = liaison.post("/hotline/messages", data=data, headers=HTML)

    assert response.status_code == 422
    html = unescape(response.text)
    assert "The request is not valid" in html
    assert 'id="compose-medevac_request-crossing"' in html
    assert re.search(r'id="compose-medevac_request-crossing-error">This field is required\.<', html)
    assert re.search(
        r'id="compose-medevac_request-location-error">must be a GeoJSON geometry<', html
    )
    assert f'name="id" value="{data["id"]}"' in html  # fixed, it sends once
    assert '<textarea id="compose-medevac_request-location" name="medevac_request.location"' in html
    assert ">not json</textarea>" in html
    assert '<option value="medevac_request" selected>' in html
    assert '<option value="FLASH" selected>' in html
    assert table_rows() == before
    assert count(Message) == 0


@pytest.mark.parametrize(
    ("language", "required", "geometry", "window"),
    [
        (
            "ar",
            "هذا الحقل مطلوب.",
            "يجب أن يكون شكلًا هندسيًا بصيغة GeoJSON",
            "يجب أن يكون عددًا صحيحًا من 1 إلى 500",
        ),
        (
            "he",
            "שדה חובה.",
            "חייב להיות צורה גאומטרית בתבנית GeoJSON",
            "חייב להיות מספר שלם מ-1 עד 500",
        ),
    ],
)
def test_a_templates_problems_come_back_in_the_members_language(
    browser: Browser, language: str, required: str, geometry: str, window: str
) -> None:
    liaison = browser("alpha.liaison")
    switched = liaison.post(
        "/language",
        data={"language": language, "next": "/hotline", "csrf_token": csrf_in(page_of(liaison))},
        headers=HTML,
        follow_redirects=False,
    )
    assert switched.status_code == 303
    data = compose_form(
        liaison,
        precedence="FLASH",
        form="medevac_request",
        **{
            "medevac_request.patients": "900",
            "medevac_request.urgency": "urgent",
            "medevac_request.location": "not json",
        },
    )

    response = liaison.post("/hotline/messages", data=data, headers=HTML)

    assert response.status_code == 422
    html = unescape(response.text)
    assert f'id="compose-medevac_request-crossing-error">{required}<' in html
    assert f'id="compose-medevac_request-location-error">{geometry}<' in html, re.findall(
        r"-error\">[^<]*<", html
    )
    assert f'id="compose-medevac_request-patients-error">{window}<' in html
    assert "must be" not in html


def test_a_stale_form_reusing_a_sent_id_for_new_text_gets_a_fresh_id_and_sends_nothing(
    browser: Browser, count: Callable[[type], int]
) -> None:
    liaison = browser("alpha.liaison")
    data = compose_form(liaison, text="First text.")
    sent = liaison.post("/hotline/messages", data=data, headers=HTML, follow_redirects=False)
    assert sent.status_code == 303

    stale = liaison.post("/hotline/messages", data={**data, "text": "Other text."}, headers=HTML)

    assert stale.status_code == 409
    assert "Other text.</textarea>" in stale.text
    assert f'name="id" value="{data["id"]}"' not in stale.text
    assert count(Message) == 1


def test_with_htmx_the_form_comes_back_fresh_and_names_the_message_it_sent(
    browser: Browser, count: Callable[[type], int]
) -> None:
    liaison = browser("alpha.liaison")
    data = compose_form(liaison, text="Hello from htmx.")

    response = liaison.post("/hotline/messages", data=data, headers=HTMX)

    assert response.status_code == 200
    assert json.loads(response.headers["hx-trigger"]) == {"hotline:sent": {"message": data["id"]}}
    assert response.text.lstrip().startswith('<section id="hotline-compose"')
    assert "Message sent." in response.text
    assert f'value="{data["id"]}"' not in response.text  # a new id for the next message
    assert count(Message) == 1

    refused = liaison.post(
        "/hotline/messages", data={**data, "id": str(uuid.uuid4()), "text": " "}, headers=HTMX
    )
    assert refused.status_code == 422
    assert refused.text.lstrip().startswith('<section id="hotline-compose"')
    assert "a text message needs text" in refused.text


def test_who_may_not_send_has_no_form_and_is_refused(
    browser: Browser, count: Callable[[type], int]
) -> None:
    analyst = browser("bravo.analyst")
    html = page_of(analyst)
    assert 'id="hotline-compose"' not in html

    response = analyst.post(
        "/hotline/messages",
        data={
            "csrf_token": csrf_in(html),
            "channel": str(CELL_CHANNEL_ID),
            "precedence": "ROUTINE",
            "form": "text",
            "text": "Not mine to send.",
        },
        headers=HTML,
    )

    assert response.status_code == 403
    assert count(Message) == 0


def test_every_field_of_every_composable_template_has_a_widget() -> None:
    for name in compose_form_module.COMPOSE_FORMS:
        assert set(forms.FORMS[name].fields) <= set(compose_form_module.WIDGETS), name
    assert "link_test" not in compose_form_module.COMPOSE_FORMS


# --- filters and partials ------------------------------------------------------------------


def test_filters_narrow_the_inbox_as_plain_get_parameters(
    browser: Browser, send: Send, member: Callable[[str], Viewer], db: Session, clock: ManualClock
) -> None:
    routine = send("alpha.liaison", "Routine.", precedence="ROUTINE")
    flash = send("alpha.liaison", "Flash.", precedence="FLASH")
    bilateral = send("supervisor.chair", "To BRAVO alone.", channel=bilateral_channel_id(BRAVO))
    do_acknowledge_message(
        db,
        member("bravo.duty"),
        message_id=routine.id,
        ack_id=uuid.uuid4(),
        checkpoint_size=None,
        now=clock.now(),
    )
    db.commit()
    duty = browser("bravo.duty")

    # Unfiltered, what BRAVO owes comes first (FLASH first), then the rest newest first.
    assert listed(page_of(duty)) == [str(flash.id), str(bilateral.id), str(routine.id)]
    assert listed(page_of(duty, precedence="FLASH")) == [str(flash.id)]
    assert listed(page_of(duty, channel=str(CELL_CHANNEL_ID))) == [str(flash.id), str(routine.id)]
    assert listed(page_of(duty, unacknowledged="1")) == [str(bilateral.id), str(flash.id)]
    html = page_of(duty, unacknowledged="1", precedence="ROUTINE", channel=str(CELL_CHANNEL_ID))
    assert listed(html) == []
    assert "No messages match these filters." in html
    # The form shows the filters in force.
    assert 'name="unacknowledged" type="checkbox" value="1" checked' in html
    assert '<option value="ROUTINE" selected>' in html
    # Nonsense is no filter.
    assert len(listed(page_of(duty, precedence="URGENT", channel="nope"))) == 3


def test_htmx_asks_for_the_list_alone_and_gets_a_clean_address(
    browser: Browser, send: Send
) -> None:
    flash = send("alpha.liaison", precedence="FLASH")
    send("alpha.liaison")
    duty = browser("bravo.duty")

    response = duty.get(
        "/hotline",
        params={"precedence": "FLASH", "channel": "", "unacknowledged": ""},
        headers={**HTMX, "HX-Target": inbox_page.LIST_ID},
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<div id="{inbox_page.LIST_ID}"')
    assert "<html" not in response.text
    assert listed(response.text) == [str(flash.id)]
    assert response.headers["hx-push-url"] == "/hotline?precedence=FLASH"
    assert "HX-Target" in response.headers["vary"]


def test_the_inbox_pages_by_fifty(browser: Browser, send: Send) -> None:
    sent = [send("alpha.liaison", f"Report {i}.") for i in range(inbox_page.PAGE_SIZE + 2)]
    duty = browser("bravo.duty")

    html = page_of(duty)
    # All 52 are owed: the pinned list shows them (the oldest deadline first) above the pages.
    pinned = html.partition(f'id="{inbox_page.LIST_ID}"')[0]
    assert len(listed(pinned)) == inbox_page.PAGE_SIZE
    assert len(listed(html)) == len(sent)
    older = re.search(r'<a class="older" href="([^"]+)"', html)
    assert older is not None
    rest = page_of(duty, unescape(older.group(1)))
    assert listed(rest) == [str(sent[1].id), str(sent[0].id)]
    assert 'data-has-newer="true"' in rest


def test_the_row_partial_is_one_message_and_counts_as_delivery(
    browser: Browser, send: Send, db: Session
) -> None:
    message = send("alpha.liaison", precedence="FLASH")

    response = browser("bravo.duty").get(f"/hotline/messages/{message.id}/row", headers=HTML)

    assert response.status_code == 200
    assert listed(response.text) == [str(message.id)]
    assert "<html" not in response.text
    assert 'data-mine="false"' in response.text and 'data-owed="true"' in response.text
    db.expire_all()
    assert db.get(Delivery, (message.id, BRAVO)) is not None


# --- who sees what -------------------------------------------------------------------------


def test_observers_see_only_the_channels_they_are_members_of(browser: Browser, send: Send) -> None:
    cell = send("alpha.liaison", "To the whole cell.")
    bilateral = send("supervisor.chair", "To ALPHA alone.", channel=ALPHA_CHANNEL)

    humanitarian = browser("hum1.coordinator")
    html = page_of(humanitarian)
    assert listed(html) == []
    assert "You are not a member of any hotline channel." in html
    assert 'id="hotline-compose"' not in html
    assert "To the whole cell." not in html
    response = humanitarian.get(f"/hotline/messages/{cell.id}/row", headers=HTML)
    assert response.status_code == 404

    host = page_of(browser("host.observer"))
    assert listed(host) == [str(cell.id)]
    assert 'id="hotline-compose"' not in host
    assert listed(page_of(browser("bravo.duty"))) == [str(cell.id)]
    assert listed(page_of(browser("alpha.duty"))) == [str(bilateral.id), str(cell.id)]


def test_the_inbox_needs_a_login(client: TestClient) -> None:
    response = client.get("/hotline", headers=HTML, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/hotline"


# --- the supervisor's deadlines ------------------------------------------------------------


def test_the_deadlines_page_is_for_the_supervisor_only(browser: Browser) -> None:
    for username in ("supervisor.duty", "supervisor.chair"):
        assert "Open deadlines" in page_of(browser(username), "/hotline/deadlines")
    assert 'href="/hotline/deadlines"' in page_of(browser("supervisor.duty"))
    for username in ("alpha.liaison", "bravo.duty", "host.observer", "cell.admin"):
        response = browser(username).get("/hotline/deadlines", headers=HTML)
        assert response.status_code == 403, username
    assert 'href="/hotline/deadlines"' not in page_of(browser("alpha.liaison"))


def test_the_deadlines_page_shows_each_open_deadline_with_its_escalations(
    browser: Browser, send: Send, db: Session, clock: ManualClock, member: Callable[[str], Viewer]
) -> None:
    flash = send("alpha.liaison", "Unanswered flash.", precedence="FLASH")
    answered = send("alpha.liaison", "Answered.", precedence="ROUTINE")
    to_both = send("supervisor.chair", "To both parties.", precedence="IMMEDIATE")
    do_acknowledge_message(
        db,
        member("bravo.duty"),
        message_id=answered.id,
        ack_id=uuid.uuid4(),
        checkpoint_size=None,
        now=clock.now(),
    )
    do_acknowledge_message(
        db,
        member("alpha.duty"),
        message_id=to_both.id,
        ack_id=uuid.uuid4(),
        checkpoint_size=None,
        now=clock.now(),
    )
    db.commit()
    clock.advance(125)
    do_escalate_due(db, now=clock.now())
    db.commit()
    supervisor = browser("supervisor.duty")

    html = page_of(supervisor, "/hotline/deadlines")

    owing = re.findall(
        r'<tr class="deadline[^"]*" data-message="([0-9a-f-]{36})"\s+data-party="(\w+)"', html
    )
    assert owing == [(str(flash.id), "BRAVO"), (str(to_both.id), "BRAVO")]
    start = html.index(f'data-message="{flash.id}"')
    flash_row = html[start : html.index("</tr>", start)]
    assert "Unanswered flash." in flash_row
    steps = re.findall(r'<li class="escalation" data-step="(\d+)">', flash_row)
    assert steps == ["0", "1"]  # never delivered, then the first rung at two minutes
    assert "Delivery deadline missed" in flash_row and "Escalation step 1" in flash_row
    assert "the party&#39;s duty officer and the supervisor&#39;s duty officer" in flash_row
    assert "overdue by 0:05" in flash_row
    assert "No link test has been missed." in html

    partial = supervisor.get(
        "/hotline/deadlines", headers={**HTMX, "HX-Target": deadlines_page.DEADLINES_ID}
    )
    assert partial.text.lstrip().startswith(f'<div id="{deadlines_page.DEADLINES_ID}"')
    assert "<html" not in partial.text


def test_missed_link_tests_are_listed_per_party(
    browser: Browser, db: Session, clock: ManualClock, member: Callable[[str], Viewer]
) -> None:
    tests = do_send_link_test(db, sequence=7, now=clock.now())
    db.commit()
    alpha_test = next(m for m in tests if m.channel_id == ALPHA_CHANNEL)
    do_acknowledge_message(
        db,
        member("alpha.duty"),
        message_id=alpha_test.id,
        ack_id=uuid.uuid4(),
        checkpoint_size=None,
        now=clock.now(),
    )
    db.commit()
    supervisor = browser("supervisor.duty")
    assert "No link test has been missed." in page_of(supervisor, "/hotline/deadlines")

    clock.advance(601)
    html = page_of(supervisor, "/hotline/deadlines")

    missed = re.findall(
        r'<tr class="missed-link-test" data-message="[0-9a-f-]{36}" data-party="(\w+)"', html
    )
    assert missed == ["BRAVO"]
    assert "Link test number 7: please acknowledge." in html


# --- right to left -------------------------------------------------------------------------


def test_the_arabic_inbox_is_right_to_left_and_renders_templates_in_arabic(
    browser: Browser, send: Send
) -> None:
    message = send(
        "alpha.liaison",
        None,
        form="incident_alert",
        precedence="FLASH",
        fields={
            "occurred_at": "2026-01-06T07:45:00Z",
            "description": "Shots heard.",
            "location": INCIDENT_POINT,
        },
    )
    duty = browser("bravo.duty")
    switched = duty.post(
        "/language",
        data={"language": "ar", "next": "/hotline", "csrf_token": csrf_in(page_of(duty))},
        headers=HTML,
        follow_redirects=False,
    )
    assert switched.status_code == 303

    html = page_of(duty)

    assert re.search(r'<html lang="ar" dir="rtl">', html)
    row = row_html(html, message.id)
    title = forms.title("incident_alert", "ar")
    assert title != "Incident alert" and title in row
    # The sentence in Arabic, each value isolated so that it keeps its direction.
    sentence = translate(
        "ar",
        "Incident at %(occurred_at)s: %(description)s",
        occurred_at="\u20682026-01-06T07:45:00Z\u2069",
        description="\u2068Shots heard.\u2069",
    )
    assert not sentence.startswith("Incident at")
    assert f'<p class="message-text" dir="auto">{sentence}</p>' in unescape(row)
    acknowledge = translate("ar", "Acknowledge")
    assert acknowledge != "Acknowledge"
    assert f'<button type="submit" class="ack">{acknowledge}</button>' in row
