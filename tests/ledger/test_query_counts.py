"""The record's lists cost the same number of SQL statements whatever their length: the Record
page (and its list partial) and the API's entries, measured with a few entries and with
more."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.hotline.factories import send
from tests.querycount import assert_constant, signed_in

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings

Entries = Callable[[int], None]


@pytest.fixture
def entries(db: Session, clock: ManualClock, member: Callable[[str], Viewer]) -> Entries:
    """``count`` entries every member of the cell channel may read: hotline messages."""

    def write(count: int) -> None:
        alpha = member("alpha.liaison")
        for number in range(count):
            send(db, alpha, now=clock.now(), precedence="ROUTINE", text=f"Report {number}.")

    return write


@pytest.fixture
def chair(
    app: FastAPI, db: Session, clock: ManualClock, settings: Settings, demo: None
) -> Iterator[TestClient]:
    with signed_in(app, db, clock, settings, "supervisor.chair") as browser:
        yield browser


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        # Filtered to the messages, so that both counts are of less than a page.
        ("/record?type=hotline.message.sent", {}),
        (
            "/record?type=hotline.message.sent",
            {"HX-Request": "true", "HX-Target": "record-entries"},
        ),
    ],
)
def test_the_record_page_costs_the_same_statements_whatever_it_lists(
    app: FastAPI, chair: TestClient, entries: Entries, url: str, headers: dict[str, str]
) -> None:
    entries(2)

    assert_constant(app.state.engine, lambda: chair.get(url, headers=headers), lambda: entries(20))

    assert chair.get(url, headers=headers).text.count("Report ") == 22


def test_the_entries_cost_the_same_statements_whatever_they_list(
    app: FastAPI, client: TestClient, token_for: Callable[[str], dict[str, str]], entries: Entries
) -> None:
    entries(2)
    bravo = token_for("bravo.duty")

    assert_constant(
        app.state.engine,
        lambda: client.get("/api/v1/log/entries?limit=100", headers=bravo),
        lambda: entries(20),
    )

    assert len(client.get("/api/v1/log/entries?limit=100", headers=bravo).json()) >= 22
