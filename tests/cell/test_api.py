"""The cell's REST API, through the ASGI app: tokens, the own account, members, errors."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import DEMO_PASSWORD
from tests.helpers.problems import assert_problem

from fusioncell.config import Settings

Tokens = Callable[[str], dict[str, str]]
NEW_PASSWORD = "a-new-and-long-password"


def _new_member(**change: Any) -> dict[str, Any]:
    return {
        "username": "alpha.new",
        "display_name": "New analyst",
        "organisation": "ALPHA",
        "roles": ["analyst"],
        "password": "a-long-enough-password",
        **change,
    }


# --- tokens --------------------------------------------------------------------------------


def test_a_token_is_issued_for_the_right_password(
    client: TestClient, demo: None, settings: Settings
) -> None:
    response = client.post(
        "/api/v1/auth/token", json={"username": "alpha.liaison", "password": DEMO_PASSWORD}
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.token_ttl_seconds
    assert body["access_token"].startswith("fct_")


def test_me_names_the_member_their_organisation_and_roles(
    client: TestClient, token_for: Tokens
) -> None:
    response = client.get("/api/v1/me", headers=token_for("supervisor.duty"))

    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "supervisor.duty"
    assert body["organisation"]["slug"] == "SUPERVISOR"
    assert body["organisation"]["kind"] == "supervisor"
    assert body["roles"] == ["duty_officer", "supervisor"]
    assert body["language"] == "en"
    assert body["totp_enabled"] is False
    assert "password_hash" not in body and "totp_secret" not in body


def test_a_wrong_password_and_an_unknown_user_look_the_same(client: TestClient, demo: None) -> None:
    wrong = client.post(
        "/api/v1/auth/token", json={"username": "alpha.liaison", "password": "not-the-password"}
    )
    unknown = client.post(
        "/api/v1/auth/token", json={"username": "nobody.here", "password": "not-the-password"}
    )

    assert_problem(wrong, 401, "invalid-credentials")
    assert_problem(unknown, 401, "invalid-credentials")
    assert wrong.json() == unknown.json()
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"]


def test_me_without_a_token_is_401(client: TestClient) -> None:
    body = assert_problem(client.get("/api/v1/me"), 401, "not-authenticated")
    assert body["instance"] == "/api/v1/me"


def test_revoking_the_token_ends_it(client: TestClient, token_for: Tokens) -> None:
    headers = token_for("alpha.liaison")

    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204

    assert_problem(client.get("/api/v1/me", headers=headers), 401, "invalid-token")


# --- request errors ------------------------------------------------------------------------


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/token",
        content=b'{"username": "alpha.liaison", ',
        headers={"Content-Type": "application/json"},
    )

    assert_problem(response, 400, "malformed-json")


def test_a_missing_field_is_422_with_the_errors_listed(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "alpha.liaison"})

    body = assert_problem(response, 422, "invalid-input")
    assert body["errors"] == [
        {"location": ["body", "password"], "message": body["errors"][0]["message"]}
    ]
    assert "password" in body["detail"]


def test_an_unknown_field_is_422(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/token", json={"username": "a", "password": "b", "admin": True}
    )

    body = assert_problem(response, 422, "invalid-input")
    assert ["body", "admin"] in [error["location"] for error in body["errors"]]


def test_a_body_over_the_limit_is_413(client: TestClient, settings: Settings) -> None:
    response = client.post(
        "/api/v1/auth/token",
        content=b"x" * (settings.max_body_bytes + 1),
        headers={"Content-Type": "application/json"},
    )

    body = assert_problem(response, 413, "payload-too-large")
    assert body["limit"] == settings.max_body_bytes


def test_a_chunked_body_over_the_limit_is_413_without_a_content_length(
    client: TestClient, settings: Settings
) -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(settings.max_body_bytes // 65536 + 2):
            sent.append(65536)
            yield b" " * 65536

    response = client.post(
        "/api/v1/auth/token", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 413, "payload-too-large")
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert sum(sent) > settings.max_body_bytes


def test_a_body_at_the_limit_is_read(client: TestClient, settings: Settings) -> None:
    padding = settings.max_body_bytes - len(b'{"username": "a", "password": "b"}')
    body = b'{"username": "a", "password": "b"}' + b" " * padding
    assert len(body) == settings.max_body_bytes

    response = client.post(
        "/api/v1/auth/token", content=body, headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 401, "invalid-credentials")


def test_an_unknown_route_is_a_404_problem(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/no-such-thing"), 404, "not-found")


def test_a_wrong_method_is_a_405_problem(client: TestClient) -> None:
    assert_problem(client.patch("/api/v1/me", json={}), 405, "method-not-allowed")


def test_an_unknown_member_id_is_a_404_problem(client: TestClient, token_for: Tokens) -> None:
    assert_problem(
        client.get(f"/api/v1/members/{uuid.uuid4()}", headers=token_for("cell.admin")),
        404,
        "not-found",
    )


def test_a_malformed_member_id_is_a_422_problem(client: TestClient, token_for: Tokens) -> None:
    assert_problem(
        client.get("/api/v1/members/not-a-uuid", headers=token_for("cell.admin")),
        422,
        "invalid-input",
    )


# --- the member's own account --------------------------------------------------------------


def test_an_unoffered_language_is_refused(client: TestClient, token_for: Tokens) -> None:
    headers = token_for("alpha.liaison")

    body = assert_problem(
        client.put("/api/v1/me/language", json={"language": "xx"}, headers=headers),
        422,
        "unsupported-language",
    )

    assert set(body["offered"]) == {"en", "ar", "he"}
    assert client.get("/api/v1/me", headers=headers).json()["language"] == "en"


def test_a_chosen_language_is_kept(client: TestClient, token_for: Tokens) -> None:
    headers = token_for("alpha.liaison")

    response = client.put("/api/v1/me/language", json={"language": "ar"}, headers=headers)

    assert response.status_code == 204
    assert client.get("/api/v1/me", headers=headers).json()["language"] == "ar"
    fresh = token_for("alpha.liaison")
    assert client.get("/api/v1/me", headers=fresh).json()["language"] == "ar"


def test_after_a_password_change_the_old_password_fails(
    client: TestClient, token_for: Tokens
) -> None:
    headers = token_for("alpha.liaison")

    response = client.post(
        "/api/v1/me/password",
        json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
        headers=headers,
    )

    assert response.status_code == 204
    old = client.post(
        "/api/v1/auth/token", json={"username": "alpha.liaison", "password": DEMO_PASSWORD}
    )
    assert_problem(old, 401, "invalid-credentials")
    new = client.post(
        "/api/v1/auth/token", json={"username": "alpha.liaison", "password": NEW_PASSWORD}
    )
    assert new.status_code == 200


def test_a_password_change_through_the_api_keeps_the_calling_token_and_ends_the_others(
    client: TestClient, token_for: Tokens
) -> None:
    calling, other = token_for("alpha.liaison"), token_for("alpha.liaison")

    response = client.post(
        "/api/v1/me/password",
        json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
        headers=calling,
    )

    assert response.status_code == 204
    assert client.get("/api/v1/me", headers=calling).status_code == 200
    assert_problem(client.get("/api/v1/me", headers=other), 401, "invalid-token")


def test_a_password_change_with_the_wrong_current_password_is_401(
    client: TestClient, token_for: Tokens
) -> None:
    headers = token_for("alpha.liaison")

    response = client.post(
        "/api/v1/me/password",
        json={"current_password": "not-the-password", "new_password": NEW_PASSWORD},
        headers=headers,
    )

    assert_problem(response, 401, "invalid-credentials")
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_a_weak_new_password_is_422(client: TestClient, token_for: Tokens) -> None:
    response = client.post(
        "/api/v1/me/password",
        json={"current_password": DEMO_PASSWORD, "new_password": "short"},
        headers=token_for("alpha.liaison"),
    )

    assert_problem(response, 422, "weak-password")


# --- members -------------------------------------------------------------------------------


def test_the_operator_creates_a_member(client: TestClient, token_for: Tokens) -> None:
    response = client.post("/api/v1/members", json=_new_member(), headers=token_for("cell.admin"))

    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "alpha.new"
    assert body["organisation"] == "ALPHA"
    assert body["roles"] == []
    assert body["pending_roles"] == ["analyst"]
    assert body["awaiting_countersign"] is True
    assert body["disabled"] is False
    assert "password" not in body
    credentials = {"username": "alpha.new", "password": "a-long-enough-password"}
    assert client.post("/api/v1/auth/token", json=credentials).status_code == 401

    countersigned = client.post(
        f"/api/v1/members/{body['id']}/countersign",
        json={"roles": ["analyst"]},
        headers=token_for("alpha.liaison"),
    )

    assert countersigned.status_code == 200
    assert countersigned.json()["roles"] == ["analyst"]
    assert countersigned.json()["awaiting_countersign"] is False
    assert client.post("/api/v1/auth/token", json=credentials).status_code == 200


def _usernames(client: TestClient, headers: dict[str, str]) -> list[str]:
    response = client.get("/api/v1/members", headers=headers)
    assert response.status_code == 200
    return [member["username"] for member in response.json()]


def test_a_retry_with_the_same_id_returns_the_same_member(
    client: TestClient, token_for: Tokens
) -> None:
    headers = token_for("cell.admin")
    member_id = str(uuid.uuid4())

    first = client.post("/api/v1/members", json=_new_member(id=member_id), headers=headers)
    second = client.post("/api/v1/members", json=_new_member(id=member_id), headers=headers)

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert first.json()["id"] == member_id
    assert _usernames(client, headers).count("alpha.new") == 1


def test_a_retry_with_the_same_idempotency_key_returns_the_same_member(
    client: TestClient, token_for: Tokens
) -> None:
    headers = {**token_for("cell.admin"), "Idempotency-Key": "create-alpha-new-1"}

    first = client.post("/api/v1/members", json=_new_member(), headers=headers)
    second = client.post("/api/v1/members", json=_new_member(), headers=headers)

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert _usernames(client, headers).count("alpha.new") == 1


def test_an_idempotency_key_reused_for_another_member_is_409(
    client: TestClient, token_for: Tokens
) -> None:
    headers = {**token_for("cell.admin"), "Idempotency-Key": "create-alpha-new-1"}
    client.post("/api/v1/members", json=_new_member(), headers=headers)

    response = client.post(
        "/api/v1/members", json=_new_member(username="alpha.other"), headers=headers
    )

    assert_problem(response, 409, "idempotency-conflict")
    assert "alpha.other" not in _usernames(client, headers)


def test_an_id_reused_for_another_member_is_409(client: TestClient, token_for: Tokens) -> None:
    headers = token_for("cell.admin")
    member_id = str(uuid.uuid4())
    client.post("/api/v1/members", json=_new_member(id=member_id), headers=headers)

    response = client.post(
        "/api/v1/members", json=_new_member(id=member_id, roles=["liaison"]), headers=headers
    )

    assert_problem(response, 409, "idempotency-conflict")


def test_an_id_and_an_idempotency_key_together_are_refused(
    client: TestClient, token_for: Tokens
) -> None:
    headers = {**token_for("cell.admin"), "Idempotency-Key": "k"}

    response = client.post(
        "/api/v1/members", json=_new_member(id=str(uuid.uuid4())), headers=headers
    )

    assert_problem(response, 422, "invalid-input")
    assert "alpha.new" not in _usernames(client, headers)


def test_a_taken_username_is_409(client: TestClient, token_for: Tokens) -> None:
    response = client.post(
        "/api/v1/members",
        json=_new_member(username="alpha.liaison"),
        headers=token_for("cell.admin"),
    )

    assert_problem(response, 409, "conflict")


@pytest.mark.parametrize("username", ["alpha.liaison", "supervisor.chair", "verifier.lead"])
def test_only_the_operator_creates_members(
    client: TestClient, token_for: Tokens, username: str
) -> None:
    response = client.post("/api/v1/members", json=_new_member(), headers=token_for(username))

    assert_problem(response, 403, "forbidden")
    assert "alpha.new" not in _usernames(client, token_for("cell.admin"))


def test_a_party_member_lists_only_their_own_party(client: TestClient, token_for: Tokens) -> None:
    response = client.get("/api/v1/members", headers=token_for("alpha.liaison"))

    assert response.status_code == 200
    assert {member["organisation"] for member in response.json()} == {"ALPHA"}
    assert sorted(member["username"] for member in response.json()) == [
        "alpha.analyst",
        "alpha.duty",
        "alpha.liaison",
    ]


def test_the_supervisor_lists_every_member(client: TestClient, token_for: Tokens) -> None:
    usernames = _usernames(client, token_for("supervisor.chair"))

    assert len(usernames) == 12
    assert {"alpha.liaison", "bravo.liaison", "hum1.coordinator", "cell.admin"} <= set(usernames)


def test_another_partys_member_is_hidden_as_not_found(
    client: TestClient, token_for: Tokens
) -> None:
    bravo = client.get("/api/v1/members", headers=token_for("bravo.liaison")).json()[0]

    response = client.get(f"/api/v1/members/{bravo['id']}", headers=token_for("alpha.liaison"))

    assert_problem(response, 404, "not-found")


def test_the_operator_disables_a_member_and_their_token_stops_working(
    client: TestClient, token_for: Tokens
) -> None:
    admin = token_for("cell.admin")
    victim = token_for("bravo.liaison")
    bravo_id = client.get("/api/v1/me", headers=victim).json()["id"]

    response = client.post(f"/api/v1/members/{bravo_id}/disable", headers=admin)

    assert response.status_code == 200
    assert response.json()["disabled"] is True
    assert_problem(client.get("/api/v1/me", headers=victim), 401, "invalid-token")


def test_the_organisations_are_listed_for_every_member(
    client: TestClient, token_for: Tokens
) -> None:
    response = client.get("/api/v1/organisations", headers=token_for("host.observer"))

    assert response.status_code == 200
    assert [o["slug"] for o in response.json()] == [
        "ALPHA",
        "BRAVO",
        "HOST",
        "HUM-1",
        "SUPERVISOR",
        "VERIFIER",
    ]


# --- probes and the schema -----------------------------------------------------------------


def test_the_health_probe_answers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_readiness_probe_answers_on_a_migrated_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_the_openapi_schema_lists_the_api_routes(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths["/api/v1/auth/token"]) == {"post", "delete"}
    assert "get" in paths["/api/v1/me"]
    assert set(paths["/api/v1/members"]) == {"get", "post"}
    assert "post" in paths["/api/v1/members/{member_id}/disable"]
    assert "get" in paths["/api/v1/geo/zones"]
    # Pages are not part of the API.
    assert not {"/", "/login", "/account", "/organisations"} & paths.keys()


# --- CSRF for cookie-authenticated API calls -----------------------------------------------


def test_a_cookie_authenticated_api_write_needs_the_csrf_header(
    client: TestClient, log_in: Callable[..., str]
) -> None:
    csrf = log_in("alpha.liaison")

    refused = client.put("/api/v1/me/language", json={"language": "ar"})
    wrong = client.put(
        "/api/v1/me/language", json={"language": "ar"}, headers={"X-CSRF-Token": "forged"}
    )
    assert_problem(refused, 403, "csrf-failed")
    assert_problem(wrong, 403, "csrf-failed")
    assert client.get("/api/v1/me").json()["language"] == "en"

    accepted = client.put(
        "/api/v1/me/language", json={"language": "ar"}, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 204
    assert client.get("/api/v1/me").json()["language"] == "ar"
