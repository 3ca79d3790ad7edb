"""The two-person rule for people: the operator proposes, the member's organisation decides.

The audit: ``POST /api/v1/members`` as the operator with ``"organisation": "ALPHA", "roles":
["analyst"]`` answered 201, and the new member read ALPHA's bilateral channel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.cell.factories import console, create_member
from tests.conftest import DEMO_PASSWORD
from tests.helpers.pages import HTML, csrf_in
from tests.helpers.problems import assert_problem

from fusioncell.cell.actions.members import (
    do_countersign_member,
    do_grant_role,
    do_revoke_role,
)
from fusioncell.cell.entries import CellEntry
from fusioncell.cell.models import Member, Role
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import viewer_of
from fusioncell.clock import ManualClock
from fusioncell.errors import Conflict, Forbidden, NotFound
from fusioncell.hotline.actions.channels import bilateral_channel_id
from fusioncell.ledger.models import EntryBody, LogEntry
from fusioncell.scenario.demo import stable_id

Lookup = Callable[[str], Viewer]
Headers = Callable[[str], dict[str, str]]
Counts = Callable[[], dict[str, int]]
PASSWORD = "a-long-enough-password"


def _propose(db: Session, actor: Viewer, clock: ManualClock, **details: Any) -> Member:
    return create_member(db, actor, clock, password=PASSWORD, **details)


def _last_entry(db: Session) -> tuple[str, str]:
    db.rollback()
    entry = db.scalars(select(LogEntry).order_by(LogEntry.index.desc()).limit(1)).one()
    body = db.get(EntryBody, entry.index)
    assert body is not None
    return entry.entry_type, body.body


def _token(client: TestClient, username: str, password: str = PASSWORD) -> int:
    return client.post(
        "/api/v1/auth/token", json={"username": username, "password": password}
    ).status_code


def _propose_through_the_api(
    client: TestClient,
    token_for: Headers,
    username: str,
    *,
    organisation: str = "ALPHA",
    roles: tuple[str, ...] = ("analyst",),
) -> dict[str, object]:
    response = client.post(
        "/api/v1/members",
        json={
            "username": username,
            "organisation": organisation,
            "roles": list(roles),
            "password": PASSWORD,
        },
        headers=token_for("cell.admin"),
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


# --- the audit's attack, through the API -----------------------------------------------------


@pytest.mark.parametrize(
    ("organisation", "roles", "countersigner"),
    [
        ("ALPHA", ["analyst"], "alpha.liaison"),
        ("SUPERVISOR", ["supervisor"], "supervisor.chair"),
        ("BRAVO", ["admin"], "bravo.liaison"),
    ],
)
def test_a_member_the_operator_creates_reads_nothing_until_their_organisation_countersigns(
    client: TestClient,
    token_for: Headers,
    organisation: str,
    roles: list[str],
    countersigner: str,
) -> None:
    admin = token_for("cell.admin")
    created = _propose_through_the_api(
        client, token_for, "planted.reader", organisation=organisation, roles=tuple(roles)
    )
    member_id = created["id"]
    assert created["awaiting_countersign"] is True

    assert _token(client, "planted.reader") == 401
    # The operator cannot put its own proposal in force.
    own = client.post(
        f"/api/v1/members/{member_id}/countersign", json={"roles": roles}, headers=admin
    )
    assert own.status_code == 403
    assert _token(client, "planted.reader") == 401

    second = client.post(
        f"/api/v1/members/{member_id}/countersign",
        json={"roles": roles},
        headers=token_for(countersigner),
    )
    assert second.status_code == 200, second.text
    assert _token(client, "planted.reader") == 200


def test_the_planted_analyst_cannot_read_alphas_bilateral_channel_before_the_countersign(
    client: TestClient, token_for: Headers
) -> None:
    _propose_through_the_api(client, token_for, "planted.analyst")
    login = client.post(
        "/login",
        data={"username": "planted.analyst", "password": PASSWORD, "next": "/hotline"},
        follow_redirects=False,
    )
    channel = bilateral_channel_id(stable_id("organisation", "ALPHA"))

    assert login.status_code != 303 or "/hotline" not in login.headers.get("location", "")
    listed = client.get(f"/api/v1/channels/{channel}/messages")
    assert listed.status_code == 401


def test_another_partys_liaison_cannot_countersign(
    client: TestClient, token_for: Headers, table_counts: Counts
) -> None:
    created = _propose_through_the_api(client, token_for, "alpha.x")
    bravo = token_for("bravo.liaison")
    before = table_counts()

    refused = client.post(
        f"/api/v1/members/{created['id']}/countersign", json={"roles": ["analyst"]}, headers=bravo
    )

    # BRAVO's liaison may not even see ALPHA's members: 404, as for any hidden object.
    assert_problem(refused, 404, "not-found")
    assert table_counts() == before


# --- the actions --------------------------------------------------------------------------


def test_a_countersign_must_name_exactly_the_roles_awaiting_it(
    db: Session, clock: ManualClock, member: Lookup, table_counts: Counts
) -> None:
    proposed = _propose(db, member("cell.admin"), clock, roles=(Role.ANALYST, Role.DUTY_OFFICER))
    before = table_counts()

    with pytest.raises(Conflict) as refused:
        do_countersign_member(
            db,
            member("alpha.liaison"),
            member_id=proposed.id,
            roles=[Role.ANALYST],
            now=clock.now(),
        )

    assert refused.value.extensions["awaiting"] == ["analyst", "duty_officer"]
    assert table_counts() == before


def test_countersigning_puts_the_member_in_force_with_one_signed_entry(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    liaison = member("alpha.liaison")
    proposed = _propose(db, member("cell.admin"), clock)
    clock.advance(30)

    signed = do_countersign_member(
        db, liaison, member_id=proposed.id, roles=[Role.ANALYST], now=clock.now()
    )
    retry = do_countersign_member(
        db, liaison, member_id=proposed.id, roles=[Role.ANALYST], now=clock.now()
    )

    assert signed.countersigned_at == clock.now()
    assert signed.roles == {Role.ANALYST} and signed.may_log_in
    assert retry.id == signed.id
    entry_type, body = _last_entry(db)
    assert entry_type == CellEntry.MEMBER_COUNTERSIGNED.value
    assert f'"member":"{proposed.id}"' in body and '"creation":true' in body


def test_the_proposer_cannot_be_the_second_person(
    db: Session, clock: ManualClock, member: Lookup, table_counts: Counts
) -> None:
    """Someone who is both the operator and ALPHA's liaison still needs another liaison."""
    founded = _propose(
        db, console(), clock, username="alpha.boss", roles=(Role.ADMIN, Role.LIAISON)
    )
    boss = viewer_of(founded)
    db.commit()
    proposed = _propose(db, boss, clock)
    before = table_counts()

    with pytest.raises(Forbidden):
        do_countersign_member(
            db, boss, member_id=proposed.id, roles=[Role.ANALYST], now=clock.now()
        )
    assert table_counts() == before

    do_countersign_member(
        db, member("alpha.liaison"), member_id=proposed.id, roles=[Role.ANALYST], now=clock.now()
    )


def test_a_granted_role_is_in_force_only_after_the_countersign(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    duty = member("alpha.duty")
    do_grant_role(
        db, member("cell.admin"), member_id=duty.member_id, role=Role.ANALYST, now=clock.now()
    )
    assert Role.ANALYST not in member("alpha.duty").roles
    entry_type, body = _last_entry(db)
    assert entry_type == CellEntry.ROLE_GRANTED.value and '"awaiting_countersign":true' in body

    do_countersign_member(
        db, member("alpha.liaison"), member_id=duty.member_id, roles=[Role.ANALYST], now=clock.now()
    )

    assert Role.ANALYST in member("alpha.duty").roles


def test_only_the_operator_grants_and_revokes_roles(
    db: Session, clock: ManualClock, member: Lookup, table_counts: Counts
) -> None:
    target = member("alpha.duty").member_id
    before = table_counts()
    for actor in ("alpha.liaison", "supervisor.chair"):
        with pytest.raises(Forbidden):
            do_grant_role(db, member(actor), member_id=target, role=Role.ANALYST, now=clock.now())
        with pytest.raises(Forbidden):
            do_revoke_role(db, member(actor), member_id=target, role=Role.LIAISON, now=clock.now())
    assert table_counts() == before


def test_revoking_a_role_takes_effect_at_once_and_ends_the_members_tokens(
    client: TestClient, db: Session, clock: ManualClock, member: Lookup, token_for: Headers
) -> None:
    admin = member("cell.admin")
    do_grant_role(
        db, admin, member_id=member("alpha.duty").member_id, role=Role.ANALYST, now=clock.now()
    )
    do_countersign_member(
        db,
        member("alpha.liaison"),
        member_id=member("alpha.duty").member_id,
        roles=[Role.ANALYST],
        now=clock.now(),
    )
    headers = token_for("alpha.duty")

    do_revoke_role(
        db, admin, member_id=member("alpha.duty").member_id, role=Role.ANALYST, now=clock.now()
    )

    assert member("alpha.duty").roles == {Role.DUTY_OFFICER}
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    entry_type, _body = _last_entry(db)
    assert entry_type == CellEntry.ROLE_REVOKED.value


def test_a_hidden_member_cannot_be_countersigned_or_granted_by_an_outsider(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    proposed = _propose(db, member("cell.admin"), clock)
    with pytest.raises(NotFound):
        do_countersign_member(
            db,
            member("verifier.lead"),
            member_id=proposed.id,
            roles=[Role.ANALYST],
            now=clock.now(),
        )


# --- the page -----------------------------------------------------------------------------


def test_alphas_liaison_countersigns_on_the_organisations_page(
    client: TestClient, log_in: Callable[..., str], token_for: Headers
) -> None:
    _propose_through_the_api(client, token_for, "alpha.page")
    log_in("alpha.liaison")
    page = client.get("/organisations", headers=HTML)
    assert page.status_code == 200
    assert "awaiting countersign" in page.text
    assert "Countersign" in page.text
    [action] = [
        line.split('action="')[1].split('"')[0]
        for line in page.text.splitlines()
        if "/countersign" in line
    ]

    done = client.post(
        action,
        data={"csrf_token": csrf_in(page.text), "roles": "analyst"},
        headers=HTML,
        follow_redirects=False,
    )

    assert done.status_code == 303
    after = client.get("/organisations", headers=HTML).text
    assert "Countersign</button>" not in after
    assert _token(client, "alpha.page") == 200


def test_the_countersign_button_shows_only_to_the_organisations_lead(
    client: TestClient, log_in: Callable[..., str], token_for: Headers
) -> None:
    _propose_through_the_api(client, token_for, "alpha.page")
    for username in ("alpha.analyst", "supervisor.chair", "cell.admin"):
        client.cookies.clear()
        log_in(username)
        page = client.get("/organisations", headers=HTML).text
        assert "Countersign</button>" not in page, username


def test_a_console_member_needs_no_countersign(
    db: Session, clock: ManualClock, client: TestClient, demo: None
) -> None:
    created = _propose(db, console(), clock, username="alpha.founding")
    assert created.may_log_in and created.roles == {Role.ANALYST}
    assert _token(client, "alpha.founding") == 200
    assert _token(client, "alpha.liaison", DEMO_PASSWORD) == 200


def test_the_operator_revokes_a_role_through_the_api(
    client: TestClient, token_for: Headers
) -> None:
    admin = token_for("cell.admin")
    duty = stable_id("member", "alpha.duty")
    client.post(f"/api/v1/members/{duty}/roles", json={"role": "analyst"}, headers=admin)

    revoked = client.delete(f"/api/v1/members/{duty}/roles/analyst", headers=admin)
    refused = client.delete(
        f"/api/v1/members/{duty}/roles/duty_officer", headers=token_for("alpha.liaison")
    )

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["roles"] == ["duty_officer"]
    assert revoked.json()["pending_roles"] == []
    assert_problem(refused, 403, "forbidden")
