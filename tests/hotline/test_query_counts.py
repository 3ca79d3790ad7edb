"""The hotline's lists cost the same number of SQL statements whatever their length: the inbox,
the deadlines, a row, the channel's messages and the channels, each measured with a little
traffic and again with more (deliveries, acknowledgements, escalations among it)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.hotline.factories import acknowledge, send
from tests.querycount import assert_constant, measure, signed_in

from fusioncell.cell.actions.organisations import do_create_organisation
from fusioncell.cell.models import OrganisationKind
from fusioncell.cell.policy import Viewer, console_viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID, do_open_channels
from fusioncell.hotline.actions.deadline_actions import do_note_deadline_action
from fusioncell.hotline.actions.escalation import do_escalate_due
from fusioncell.hotline.actions.messages import do_mark_delivered
from fusioncell.hotline.models import Message
from fusioncell.scenario.demo import stable_id

Browse = Callable[[str], TestClient]
Traffic = Callable[[int], list[Message]]


@pytest.fixture
def browse(app: FastAPI, db: Session, clock: ManualClock, settings: Settings) -> Iterator[Browse]:
    """A demo member's browser, by name."""
    with ExitStack() as stack:

        def open_as(username: str) -> TestClient:
            return stack.enter_context(signed_in(app, db, clock, settings, username))

        yield open_as


@pytest.fixture
def traffic(db: Session, clock: ManualClock, member: Callable[[str], Viewer]) -> Traffic:
    """``count`` rounds in the cell channel: a FLASH from ALPHA that BRAVO receives and nobody
    answers (so it escalates), and a ROUTINE message from BRAVO that ALPHA receives and
    acknowledges twice (only the first counts)."""

    def make(count: int) -> list[Message]:
        alpha, alpha_duty = member("alpha.liaison"), member("alpha.duty")
        bravo, bravo_duty = member("bravo.liaison"), member("bravo.duty")
        sent = []
        for round_ in range(count):
            flash = send(
                db, alpha, now=clock.now(), text=f"Round {round_}: movement near the line."
            )
            do_mark_delivered(db, bravo_duty, message_ids=[flash.id], now=clock.now())
            routine = send(
                db, bravo, now=clock.now(), precedence="ROUTINE", text=f"Round {round_}: convoy."
            )
            do_mark_delivered(db, alpha_duty, message_ids=[routine.id], now=clock.now())
            acknowledge(db, alpha_duty, routine.id, now=clock.now())
            acknowledge(db, alpha, routine.id, now=clock.now())
            sent += [flash, routine]
        clock.advance(150)  # past the FLASH acknowledgement deadline and its first step
        do_escalate_due(db, now=clock.now())
        db.commit()
        return sent

    return make


def test_the_inbox_costs_the_same_statements_for_many_messages_as_for_few(
    app: FastAPI, browse: Browse, traffic: Traffic
) -> None:
    traffic(2)
    bravo = browse("bravo.duty")

    after = assert_constant(app.state.engine, lambda: bravo.get("/hotline"), lambda: traffic(10))

    assert bravo.get("/hotline").text.count('<li class="message') == 24
    # (two of them the header strip's deconfliction obligations, one verification's, two the
    # diplomatic track's: a constant number per track)
    assert after.count <= 21, str(after)


@pytest.mark.parametrize(
    ("username", "url", "headers"),
    [
        # BRAVO owes every FLASH an acknowledgement; ALPHA sees both precedences.
        ("bravo.duty", "/hotline?unacknowledged=1", {}),
        (
            "alpha.duty",
            "/hotline?precedence=FLASH",
            {"HX-Request": "true", "HX-Target": "hotline-messages"},
        ),
    ],
)
def test_the_filtered_inbox_and_its_partial_cost_the_same_statements_whatever_they_list(
    app: FastAPI,
    browse: Browse,
    traffic: Traffic,
    username: str,
    url: str,
    headers: dict[str, str],
) -> None:
    traffic(1)
    browser = browse(username)

    assert_constant(app.state.engine, lambda: browser.get(url, headers=headers), lambda: traffic(6))

    assert browser.get(url, headers=headers).text.count('<li class="message') == 7


def test_an_older_page_of_the_inbox_costs_what_the_newest_does(
    app: FastAPI, browse: Browse, traffic: Traffic
) -> None:
    traffic(30)  # 60 messages: two pages
    bravo = browse("bravo.duty")
    bravo.get("/hotline")
    newest = measure(app.state.engine, lambda: bravo.get("/hotline"))
    older_id = bravo.get("/hotline").text.split('href="/hotline?before=')[1].split('"')[0]

    bravo.get(f"/hotline?before={older_id}")
    older = measure(app.state.engine, lambda: bravo.get(f"/hotline?before={older_id}"))

    # One statement more: the cursor's own message, read through the policy.
    assert older.count == newest.count + 1, f"newest: {newest}\nolder: {older}"


def test_the_deadlines_cost_the_same_statements_whatever_they_list(
    app: FastAPI,
    db: Session,
    clock: ManualClock,
    browse: Browse,
    traffic: Traffic,
    member: Callable[[str], Viewer],
) -> None:
    """Each FLASH BRAVO owes is a row, with what the supervisor's duty officer did about it:
    a call and a follow-up, read for every row at once."""

    def worked(count: int) -> None:
        duty = member("supervisor.duty")
        for message in traffic(count):
            if message.precedence != "FLASH":
                continue
            for kind in ("call", "follow_up"):
                do_note_deadline_action(
                    db,
                    duty,
                    action_id=uuid.uuid4(),
                    message_id=message.id,
                    organisation_id=stable_id("organisation", "BRAVO"),
                    kind=kind,
                    note=f"{kind} about {message.text}",
                    now=clock.now(),
                )
        db.commit()

    worked(2)
    supervisor = browse("supervisor.duty")

    assert_constant(
        app.state.engine, lambda: supervisor.get("/hotline/deadlines"), lambda: worked(8)
    )
    html = supervisor.get("/hotline/deadlines").text
    assert html.count('<li class="deadline-action" data-kind="call">') == 10
    assert html.count('<li class="deadline-action" data-kind="follow_up">') == 10


def test_a_row_costs_the_same_statements_however_much_has_happened_to_its_message(
    app: FastAPI,
    db: Session,
    clock: ManualClock,
    browse: Browse,
    traffic: Traffic,
    member: Callable[[str], Viewer],
) -> None:
    """What hotline.js fetches for a new message, or a delivery: one message, whatever the
    number of its deliveries, acknowledgements and escalations."""
    quiet, busy = traffic(1)[1], traffic(1)[0]
    acknowledge(db, member("bravo.duty"), busy.id, now=clock.now())
    supervisor = browse("supervisor.duty")
    engine = app.state.engine

    supervisor.get(f"/hotline/messages/{quiet.id}/row")
    supervisor.get(f"/hotline/messages/{busy.id}/row")
    first = measure(engine, lambda: supervisor.get(f"/hotline/messages/{quiet.id}/row"))
    second = measure(engine, lambda: supervisor.get(f"/hotline/messages/{busy.id}/row"))

    assert second.count == first.count, f"quiet: {first}\nbusy: {second}"


def test_the_channels_messages_cost_the_same_statements_whatever_they_list(
    app: FastAPI, traffic: Traffic, token_for: Callable[[str], dict[str, str]], client: TestClient
) -> None:
    traffic(2)
    bravo = token_for("bravo.duty")
    url = f"/api/v1/channels/{CELL_CHANNEL_ID}/messages"

    assert_constant(app.state.engine, lambda: client.get(url, headers=bravo), lambda: traffic(10))

    assert len(client.get(url, headers=bravo).json()) == 24


def test_the_channels_cost_the_same_statements_however_many_there_are(
    app: FastAPI,
    db: Session,
    clock: ManualClock,
    token_for: Callable[[str], dict[str, str]],
    client: TestClient,
) -> None:
    console = console_viewer(stable_id("organisation", "SUPERVISOR"))
    supervisor = token_for("supervisor.duty")

    def more_parties() -> None:
        for number in range(4):
            do_create_organisation(
                db,
                console,
                organisation_id=uuid.uuid4(),
                slug=f"PARTY-{number}",
                name=f"Party {number}",
                kind=OrganisationKind.PARTY,
                now=clock.now(),
            )
        do_open_channels(db, console, now=clock.now())  # a bilateral channel for each

    assert_constant(
        app.state.engine,
        lambda: client.get("/api/v1/channels", headers=supervisor),
        more_parties,
    )

    assert len(client.get("/api/v1/channels", headers=supervisor).json()) == 7


def test_the_engines_pass_with_nothing_due_costs_the_same_statements_whatever_the_traffic(
    app: FastAPI, db: Session, clock: ManualClock, traffic: Traffic
) -> None:
    """The engine looks at every message of the last two days every second: its pass must not
    read once per message."""
    traffic(2)

    def nothing_new() -> None:
        assert do_escalate_due(db, now=clock.now()) == []
        db.commit()

    assert_constant(app.state.engine, nothing_new, lambda: traffic(12))
