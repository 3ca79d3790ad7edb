"""The role x route matrix: every registered route, asked by nobody and by each role.

``MATRIX`` says who may use each route. Adding a route without an entry fails
``test_every_route_is_in_the_matrix``; an entry whose route is gone fails it too. Each role
is played by a demo member; the API is called with a bearer token and the pages with a
logged-in session cookie, each request with fresh credentials so that logging out or
revoking a token in one request cannot change the next.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session
from starlette.routing import Mount
from tests.cell.factories import console, create_member, issue_token, start_session
from tests.conftest import DEMO_PASSWORD
from tests.hotline.factories import send

from fusioncell.cell.models import Role
from fusioncell.cell.queries import get_member_by_username, list_keys, viewer_of
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID, bilateral_channel_id
from fusioncell.scenario.demo import stable_id

PUBLIC = "public"
ANY_MEMBER = "any member"
Access = str | frozenset[Role]

PARTY_ROLES = frozenset({Role.LIAISON, Role.ANALYST, Role.DUTY_OFFICER})
LIST_ALL = frozenset({Role.SUPERVISOR, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})
# Who reads the cell-wide channel: its members' roles that carry hotline:message:read.
READERS = frozenset(Role) - {Role.AUDITOR, Role.ADMIN}

# Who may use each route. The target member of ``{member_id}`` belongs to ALPHA, so ALPHA's
# members see them as well as those who see every member.
MATRIX: dict[tuple[str, str], Access] = {
    # API
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("HEAD", "/api/v1/openapi.json"): PUBLIC,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("DELETE", "/api/v1/auth/token"): ANY_MEMBER,
    ("GET", "/api/v1/me"): ANY_MEMBER,
    ("PUT", "/api/v1/me/language"): ANY_MEMBER,
    ("POST", "/api/v1/me/password"): ANY_MEMBER,
    ("POST", "/api/v1/me/totp"): ANY_MEMBER,
    ("POST", "/api/v1/me/totp/confirm"): ANY_MEMBER,
    ("POST", "/api/v1/me/totp/disable"): ANY_MEMBER,
    ("GET", "/api/v1/organisations"): ANY_MEMBER,
    ("GET", "/api/v1/members"): ANY_MEMBER,
    ("GET", "/api/v1/members/{member_id}"): PARTY_ROLES | LIST_ALL,
    ("POST", "/api/v1/members"): ADMIN,
    ("POST", "/api/v1/members/{member_id}/disable"): ADMIN,
    ("POST", "/api/v1/members/{member_id}/roles"): ADMIN,
    ("DELETE", "/api/v1/members/{member_id}/roles/{role}"): ADMIN,
    # The target is an ALPHA member: only ALPHA's liaison countersigns for ALPHA.
    ("POST", "/api/v1/members/{member_id}/countersign"): frozenset({Role.LIAISON}),
    ("GET", "/api/v1/keys"): ANY_MEMBER,
    ("POST", "/api/v1/keys"): ANY_MEMBER,
    ("POST", "/api/v1/keys/{key_id}/rotate"): ANY_MEMBER,
    # The target's own key: only its owner (not an actor here) and the operator.
    ("POST", "/api/v1/keys/{key_id}/revoke"): ADMIN,
    # the hotline: the target message was sent by BRAVO into the cell-wide channel, which
    # holds the parties, the supervisor, the verifier and the host (not the auditor's role).
    ("GET", "/api/v1/channels"): ANY_MEMBER,
    ("GET", "/api/v1/channels/{channel_id}/messages"): READERS,
    ("POST", "/api/v1/channels/{channel_id}/messages"): frozenset(
        {Role.LIAISON, Role.DUTY_OFFICER, Role.SUPERVISOR, Role.VERIFIER}
    ),
    ("GET", "/api/v1/messages/{message_id}"): READERS,
    ("POST", "/api/v1/messages/{message_id}/ack"): frozenset({Role.LIAISON, Role.DUTY_OFFICER}),
    ("POST", "/api/v1/messages/{message_id}/relay"): frozenset({Role.SUPERVISOR}),
    ("GET", "/api/v1/geo/zones"): ANY_MEMBER,
    ("GET", "/api/v1/geo/sites"): ANY_MEMBER,
    # the record: leaves, proofs and checkpoints are public; bodies follow their audience
    ("GET", "/log/checkpoint"): PUBLIC,
    ("GET", "/log/tile/{path:path}"): PUBLIC,
    ("GET", "/api/v1/log/key"): PUBLIC,
    ("GET", "/api/v1/log/policy"): PUBLIC,
    ("GET", "/api/v1/log/proof/inclusion"): PUBLIC,
    ("GET", "/api/v1/log/proof/consistency"): PUBLIC,
    ("GET", "/api/v1/log/entries"): ANY_MEMBER,
    ("GET", "/api/v1/log/entries/{index}"): PUBLIC,
    ("GET", "/api/v1/log/entries/{index}/receipt"): PUBLIC,
    # pages and probes
    ("GET", "/"): ANY_MEMBER,
    ("GET", "/console"): ANY_MEMBER,
    ("POST", "/language"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): ANY_MEMBER,
    ("GET", "/account"): ANY_MEMBER,
    ("POST", "/account/password"): ANY_MEMBER,
    ("POST", "/account/totp"): ANY_MEMBER,
    ("GET", "/organisations"): ANY_MEMBER,
    ("POST", "/organisations/members/{member_id}/countersign"): frozenset({Role.LIAISON}),
    ("GET", "/map"): ANY_MEMBER,
    ("GET", "/record"): ANY_MEMBER,
    ("GET", "/api/v1/stream"): ANY_MEMBER,
    ("GET", "/hotline"): ANY_MEMBER,
    ("GET", "/hotline/deadlines"): frozenset({Role.SUPERVISOR}),
    ("POST", "/hotline/messages"): frozenset(
        {Role.LIAISON, Role.DUTY_OFFICER, Role.SUPERVISOR, Role.VERIFIER}
    ),
    ("GET", "/hotline/messages/{message_id}/row"): READERS,
    ("POST", "/hotline/messages/{message_id}/ack"): frozenset({Role.LIAISON, Role.DUTY_OFFICER}),
}

# Endpoints that never end for an authenticated client (Server-Sent Events): only the
# refusal of an unauthenticated request is checked here; tests/hotline/test_stream.py
# covers who receives what.
STREAMS = frozenset({("GET", "/api/v1/stream")})

# Where the policy hides the object itself from a role: 404 rather than 403, so that
# "not released to you" and "does not exist" look the same.
OUTSIDE_ALPHA = frozenset(Role) - PARTY_ROLES - LIST_ALL
HIDDEN: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/api/v1/members/{member_id}"): OUTSIDE_ALPHA,
    ("POST", "/api/v1/members/{member_id}/disable"): OUTSIDE_ALPHA,
    ("POST", "/api/v1/members/{member_id}/countersign"): OUTSIDE_ALPHA,
    ("POST", "/organisations/members/{member_id}/countersign"): OUTSIDE_ALPHA,
    ("POST", "/api/v1/keys/{key_id}/revoke"): frozenset(Role) - ADMIN,
    # Without hotline:message:read the channel and its messages do not exist for you.
    ("GET", "/api/v1/channels/{channel_id}/messages"): frozenset(Role) - READERS,
    ("GET", "/api/v1/messages/{message_id}"): frozenset(Role) - READERS,
    ("POST", "/api/v1/messages/{message_id}/ack"): frozenset(Role) - READERS,
    ("GET", "/hotline/messages/{message_id}/row"): frozenset(Role) - READERS,
    ("POST", "/hotline/messages/{message_id}/ack"): frozenset(Role) - READERS,
}

# One demo member per role; the auditor is created by the console for these tests.
ACTORS: dict[Role, str] = {
    Role.LIAISON: "alpha.liaison",
    Role.ANALYST: "alpha.analyst",
    Role.DUTY_OFFICER: "alpha.duty",
    Role.SUPERVISOR: "supervisor.chair",
    Role.VERIFIER: "verifier.lead",
    Role.OBSERVER: "host.observer",
    Role.AUDITOR: "host.auditor",
    Role.ADMIN: "cell.admin",
}
TARGET = "alpha.target"
TARGET_ID = stable_id("member", TARGET)
KEY = base64.b64encode(
    Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
).decode()

# What each request carries. Bodies are valid enough to reach the action (so a refusal is
# the policy's, not the validator's) and harmless for the caller's own account.
JSON_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PUT", "/api/v1/me/language"): {"language": "en"},
    ("POST", "/api/v1/me/password"): {"current_password": DEMO_PASSWORD, "new_password": "short"},
    ("POST", "/api/v1/me/totp/confirm"): {"code": "abcdef"},
    ("POST", "/api/v1/me/totp/disable"): {"code": "abcdef"},
    # A valid key, sent without the entry signed by it: refused as input, after the policy.
    ("POST", "/api/v1/keys"): {"public_key": KEY},
    ("POST", "/api/v1/keys/{key_id}/rotate"): {"public_key": KEY, "possession": "x"},
    ("POST", "/api/v1/channels/{channel_id}/messages"): {
        "precedence": "ROUTINE",
        "text": "Route matrix check",
    },
    ("POST", "/api/v1/messages/{message_id}/ack"): {},
    ("POST", "/api/v1/messages/{message_id}/relay"): {
        "channel_id": str(bilateral_channel_id(stable_id("organisation", "ALPHA")))
    },
    ("POST", "/api/v1/members/{member_id}/roles"): {"role": "analyst"},
    ("POST", "/api/v1/members/{member_id}/countersign"): {"roles": ["liaison"]},
    ("POST", "/api/v1/members"): {
        "id": str(uuid.UUID(int=42)),
        "username": "alpha.created",
        "organisation": "ALPHA",
        "roles": ["analyst"],
        "password": "a-long-enough-password",
    },
}
FORM_BODIES: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/language"): {"language": "en", "next": "/"},
    ("POST", "/account/password"): {"current_password": DEMO_PASSWORD, "new_password": "short"},
    ("POST", "/account/totp"): {"step": "begin"},
    ("POST", "/organisations/members/{member_id}/countersign"): {"roles": "liaison"},
}
QUERIES: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/api/v1/log/proof/inclusion"): {"index": 0, "tree_size": 1},
    ("GET", "/api/v1/log/proof/consistency"): {"first": 1, "second": 2},
}
PATH_PARAMETERS = {
    "member_id": str(TARGET_ID),
    "track": "hotline",
    "path": "entries/000.p/1",
    "index": "0",
    "channel_id": str(CELL_CHANNEL_ID),
    # A role the target does not hold: revoking it changes nothing.
    "role": "observer",
    # "message_id": BRAVO's message to the cell, sent once the cast exists.
    # "key_id": the target member's key, looked up once the cast exists.
}
_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


@dataclass(frozen=True)
class Actor:
    role: Role | None
    username: str | None


def registered_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers, through included routers."""
    from fastapi import routing

    iterate = getattr(routing, "iter_route_contexts", None)
    routes: Iterable[Any] = iterate(app.routes) if iterate else app.routes
    found: set[tuple[str, str]] = set()
    for route in routes:
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount) and route.path == "/static":
            continue
        assert route.methods, f"a route without methods: {route!r}"
        found |= {(method, route.path) for method in route.methods}
    return found


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    registered = registered_routes(app)

    assert sorted(registered - MATRIX.keys()) == [], "routes missing from MATRIX"
    assert sorted(MATRIX.keys() - registered) == [], "MATRIX entries without a route"
    assert HIDDEN.keys() <= MATRIX.keys()
    assert set(ACTORS) == set(Role), "every role needs an actor"


@pytest.fixture
def cast(db: Session, clock: ManualClock, demo: None) -> dict[str, str]:
    """The demo cell plus an auditor, an ALPHA member to look at and disable, and a message.

    Returns the path parameters: the ALPHA member's key to revoke and BRAVO's message.
    """
    for username, organisation, role in (
        ("host.auditor", "HOST", Role.AUDITOR),
        (TARGET, "ALPHA", Role.LIAISON),
    ):
        create_member(
            db,
            console(),
            clock,
            member_id=stable_id("member", username),
            username=username,
            display_name=username,
            organisation=organisation,
            roles=[role],
        )
    keys = [key.key_id for key in list_keys(db, console()) if key.member_id == TARGET_ID]
    bravo = viewer_of(get_member_by_username(db, console(), "bravo.liaison"))
    db.commit()
    assert len(keys) == 1
    message = send(db, bravo, now=clock.now(), precedence="ROUTINE")
    return {**PATH_PARAMETERS, "key_id": keys[0], "message_id": str(message.id)}


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


def _send(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    actor: Actor,
    method: str,
    path: str,
    parameters: dict[str, str],
) -> Response:
    # Only what this request carries: a login earlier in the loop must not leak into it.
    client.cookies.clear()
    url = _PARAMETER.sub(lambda match: parameters[match.group(1)], path)
    headers = {"Accept": "application/json" if _is_api(path) else "text/html"}
    cookies: dict[str, str] = {}
    form = dict(FORM_BODIES.get((method, path), {}))
    json_body = JSON_BODIES.get((method, path))
    username = actor.username or "alpha.liaison"
    if (method, path) == ("POST", "/api/v1/auth/token"):
        json_body = {"username": username, "password": DEMO_PASSWORD}
    if (method, path) == ("POST", "/login"):
        form = {"username": username, "password": DEMO_PASSWORD, "next": "/"}

    csrf = f"anonymous-{uuid.uuid4()}"
    if actor.username is not None and _is_api(path):
        token = issue_token(db, settings, clock, actor.username)
        headers["Authorization"] = f"Bearer {token.secret}"
    elif actor.username is not None:
        session = start_session(db, settings, clock, actor.username)
        cookies["fc_session"] = session.secret
        csrf = session.csrf_token
    if not _is_api(path) and method == "POST":
        # The session's token; before login the double-submit cookie carries the same one.
        cookies["fc_csrf"] = csrf
        form["csrf_token"] = csrf
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return client.request(
        method,
        url,
        headers=headers,
        params=QUERIES.get((method, path)),
        json=json_body,
        data=form or None,
        follow_redirects=False,
    )


def _to_login(response: Response) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def _verdict(actor: Actor, method: str, path: str, response: Response) -> str | None:
    """What is wrong with the response, or None."""
    access = MATRIX[(method, path)]
    status = response.status_code
    if access == PUBLIC or (
        actor.role is not None and (access == ANY_MEMBER or actor.role in access)
    ):
        hidden = (method, path) in HIDDEN and status == 404
        if status in {401, 403} or hidden or status >= 500 or _to_login(response):
            return f"allowed, but got {status} {response.headers.get('location', '')}"
        return None
    if actor.role is None:
        if _is_api(path):
            if status != 401 or response.headers["content-type"] != "application/problem+json":
                return f"unauthenticated API call should be a 401 problem, got {status}"
        elif not (
            _to_login(response)
            and response.headers["location"] == f"/login?next={response.request.url.path}"
        ):
            return f"unauthenticated page should redirect to login, got {status}"
        return None
    expected = 404 if actor.role in HIDDEN.get((method, path), frozenset()) else 403
    if status != expected:
        return f"refused, so {expected} was expected, got {status}"
    return None


@pytest.mark.parametrize(
    "actor",
    [Actor(None, None), *(Actor(role, username) for role, username in ACTORS.items())],
    ids=lambda actor: actor.role.value if actor.role else "unauthenticated",
)
def test_each_route_answers_each_role_as_the_matrix_says(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    cast: dict[str, str],
    actor: Actor,
) -> None:
    problems = []
    for method, path in sorted(MATRIX):
        if (method, path) in STREAMS and actor.role is not None:
            continue
        response = _send(client, db, clock, settings, actor, method, path, cast)
        if (problem := _verdict(actor, method, path, response)) is not None:
            problems.append(f"{method} {path}: {problem}")

    assert problems == [], "\n".join(problems)
