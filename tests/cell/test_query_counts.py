"""The cell's lists cost the same number of SQL statements whatever their length: the
Organisations page, and the API's organisations, members and keys, measured with the demo
cell and again with more organisations and members (and so their keys)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.querycount import assert_constant, signed_in

from fusioncell.cell.actions.members import do_create_member
from fusioncell.cell.actions.organisations import do_create_organisation
from fusioncell.cell.models import OrganisationKind, Role
from fusioncell.cell.policy import Viewer, console_viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.scenario.demo import stable_id

Grow = Callable[[], None]


@pytest.fixture
def grow(db: Session, clock: ManualClock, member: Callable[[str], Viewer], demo: None) -> Grow:
    """Two more organisations, each with three members of different roles: the console's are
    in force, the operator's third one awaits its organisation's countersign."""
    console = console_viewer(stable_id("organisation", "SUPERVISOR"))
    operator = member("cell.admin")
    made = 0

    def more() -> None:
        nonlocal made
        for _ in range(2):
            made += 1
            slug = f"PARTY-{made}"
            do_create_organisation(
                db,
                console,
                organisation_id=uuid.uuid4(),
                slug=slug,
                name=f"Party {made}",
                kind=OrganisationKind.PARTY,
                now=clock.now(),
            )
            for creator, role in (
                (console, Role.LIAISON),
                (console, Role.DUTY_OFFICER),
                (operator, Role.ANALYST),
            ):
                do_create_member(
                    db,
                    creator,
                    member_id=uuid.uuid4(),
                    username=f"party{made}.{role.value}",
                    display_name="",
                    organisation_slug=slug,
                    roles=[role],
                    password="a long enough password",
                    language="en",
                    now=clock.now(),
                    hash_profile="fast-insecure",
                )

    return more


@pytest.fixture
def chair(
    app: FastAPI, db: Session, clock: ManualClock, settings: Settings, demo: None
) -> Iterator[TestClient]:
    """supervisor.chair sees every organisation, member and key."""
    with signed_in(app, db, clock, settings, "supervisor.chair") as browser:
        yield browser


def test_the_organisations_page_costs_the_same_statements_whatever_it_lists(
    app: FastAPI, chair: TestClient, grow: Grow
) -> None:
    assert_constant(app.state.engine, lambda: chair.get("/organisations"), grow)

    page = chair.get("/organisations").text
    assert "party1.liaison" in page and "party2.analyst" in page


@pytest.mark.parametrize("path", ["/api/v1/organisations", "/api/v1/members", "/api/v1/keys"])
def test_the_cells_api_lists_cost_the_same_statements_whatever_they_list(
    app: FastAPI,
    client: TestClient,
    token_for: Callable[[str], dict[str, str]],
    grow: Grow,
    path: str,
) -> None:
    chair = token_for("supervisor.chair")
    listed = len(client.get(path, headers=chair).json())

    assert_constant(app.state.engine, lambda: client.get(path, headers=chair), grow)

    assert len(client.get(path, headers=chair).json()) > listed
