"""Authentication: login back-off, token expiry and revocation, disabled members."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session
from tests.cell.conftest import HTML, csrf_in
from tests.conftest import DEMO_PASSWORD

from fusioncell.cell.actions.auth import do_issue_token, do_log_in
from fusioncell.cell.actions.members import do_disable_member
from fusioncell.cell.models import LoginThrottle
from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.errors import InvalidCredentials, TooManyAttempts

PROBLEM_JSON = "application/problem+json"
WRONG = "not-the-password"


@pytest.fixture
def attempt(
    db: Session, clock: ManualClock, settings: Settings, demo: None
) -> Callable[..., object]:
    def go(username: str = "alpha.liaison", password: str = DEMO_PASSWORD) -> object:
        return do_issue_token(
            db,
            username=username,
            password=password,
            totp_code=None,
            now=clock.now(),
            settings=settings,
        )

    return go


def _fail(attempt: Callable[..., object], times: int, username: str = "alpha.liaison") -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            attempt(username, WRONG)


def _throttle(db: Session, username: str) -> LoginThrottle | None:
    db.expire_all()
    row = db.get(LoginThrottle, username)
    db.commit()
    return row


def test_failures_below_the_threshold_do_not_lock_the_username(
    attempt: Callable[..., object], settings: Settings, db: Session
) -> None:
    _fail(attempt, settings.login_backoff_threshold - 1)

    throttle = _throttle(db, "alpha.liaison")
    assert throttle is not None
    assert throttle.failures == settings.login_backoff_threshold - 1
    assert throttle.locked_until is None
    assert attempt() is not None


def test_after_the_threshold_even_the_right_password_is_refused_until_the_wait_is_over(
    attempt: Callable[..., object], settings: Settings, clock: ManualClock
) -> None:
    _fail(attempt, settings.login_backoff_threshold)

    with pytest.raises(TooManyAttempts) as caught:
        attempt()
    retry_after = caught.value.extensions["retry_after"]
    assert retry_after >= settings.login_backoff_base_seconds

    clock.advance(settings.login_backoff_base_seconds)
    assert attempt() is not None


def test_each_further_failure_doubles_the_lock(
    attempt: Callable[..., object], settings: Settings, clock: ManualClock, db: Session
) -> None:
    base = settings.login_backoff_base_seconds
    _fail(attempt, settings.login_backoff_threshold)
    locks = []
    for _ in range(3):
        throttle = _throttle(db, "alpha.liaison")
        assert throttle is not None and throttle.locked_until is not None
        lock = throttle.locked_until - clock.now()
        locks.append(lock)
        # One second short of the lock's end, even the right password is refused.
        clock.advance(lock.total_seconds() - 1)
        with pytest.raises(TooManyAttempts):
            attempt()
        clock.advance(1)
        _fail(attempt, 1)

    assert locks == [timedelta(seconds=base * 2**n) for n in range(3)]


def test_the_lock_never_exceeds_the_maximum(
    attempt: Callable[..., object], settings: Settings, clock: ManualClock, db: Session
) -> None:
    _fail(attempt, settings.login_backoff_threshold)
    for _ in range(12):
        clock.advance(settings.login_backoff_max_seconds)
        _fail(attempt, 1)

    throttle = _throttle(db, "alpha.liaison")
    assert throttle is not None and throttle.locked_until is not None
    assert throttle.locked_until - clock.now() == timedelta(
        seconds=settings.login_backoff_max_seconds
    )


def test_refused_attempts_during_a_lock_do_not_lengthen_it(
    attempt: Callable[..., object], settings: Settings, db: Session
) -> None:
    _fail(attempt, settings.login_backoff_threshold)
    throttle = _throttle(db, "alpha.liaison")
    assert throttle is not None
    locked_until = throttle.locked_until

    for _ in range(5):
        with pytest.raises(TooManyAttempts):
            attempt("alpha.liaison", WRONG)

    throttle = _throttle(db, "alpha.liaison")
    assert throttle is not None
    assert (throttle.failures, throttle.locked_until) == (
        settings.login_backoff_threshold,
        locked_until,
    )


def test_unknown_usernames_are_throttled_too(
    attempt: Callable[..., object], settings: Settings, clock: ManualClock
) -> None:
    _fail(attempt, settings.login_backoff_threshold, username="nobody.here")

    with pytest.raises(TooManyAttempts) as caught:
        attempt("nobody.here", WRONG)
    assert caught.value.extensions["retry_after"] >= 1

    clock.advance(settings.login_backoff_base_seconds)
    _fail(attempt, 1, username="nobody.here")


def test_the_throttle_is_per_username(attempt: Callable[..., object], settings: Settings) -> None:
    _fail(attempt, settings.login_backoff_threshold)

    assert attempt("bravo.liaison") is not None


def test_a_successful_login_resets_the_count(
    attempt: Callable[..., object], settings: Settings, db: Session
) -> None:
    _fail(attempt, settings.login_backoff_threshold - 1)
    assert attempt() is not None
    assert _throttle(db, "alpha.liaison") is None

    _fail(attempt, settings.login_backoff_threshold - 1)
    assert attempt() is not None


def test_a_locked_username_is_refused_through_the_api_with_retry_after(
    client: TestClient, settings: Settings, demo: None, clock: ManualClock
) -> None:
    for _ in range(settings.login_backoff_threshold):
        response = client.post(
            "/api/v1/auth/token", json={"username": "alpha.liaison", "password": WRONG}
        )
        assert response.status_code == 401

    refused = client.post(
        "/api/v1/auth/token", json={"username": "alpha.liaison", "password": DEMO_PASSWORD}
    )

    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM_JSON
    body = refused.json()
    assert body["type"] == "urn:fusioncell:problem:too-many-attempts"
    assert int(refused.headers["retry-after"]) == body["retry_after"] >= 1

    clock.advance(settings.login_backoff_base_seconds)
    assert (
        client.post(
            "/api/v1/auth/token", json={"username": "alpha.liaison", "password": DEMO_PASSWORD}
        ).status_code
        == 200
    )


def test_a_locked_username_sees_the_login_form_again_with_retry_after(
    client: TestClient, settings: Settings, demo: None
) -> None:
    def post(password: str) -> Response:
        form = client.get("/login", headers=HTML)
        return client.post(
            "/login",
            data={
                "username": "alpha.liaison",
                "password": password,
                "csrf_token": csrf_in(form.text),
            },
            headers=HTML,
            follow_redirects=False,
        )

    for _ in range(settings.login_backoff_threshold):
        post(WRONG)
    refused = post(DEMO_PASSWORD)

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert 'name="csrf_token"' in refused.text
    assert "fc_session" not in client.cookies


# --- tokens --------------------------------------------------------------------------------


def _assert_invalid_token(response: Response) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == "urn:fusioncell:problem:invalid-token"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_token_works_until_its_lifetime_is_over(
    client: TestClient,
    token_for: Callable[[str], dict[str, str]],
    settings: Settings,
    clock: ManualClock,
) -> None:
    headers = token_for("alpha.liaison")

    clock.advance(settings.token_ttl_seconds - 1)
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    clock.advance(1)
    _assert_invalid_token(client.get("/api/v1/me", headers=headers))


def test_a_revoked_token_is_refused(
    client: TestClient, token_for: Callable[[str], dict[str, str]]
) -> None:
    headers = token_for("alpha.liaison")
    other = token_for("alpha.liaison")

    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204

    _assert_invalid_token(client.get("/api/v1/me", headers=headers))
    _assert_invalid_token(client.delete("/api/v1/auth/token", headers=headers))
    assert client.get("/api/v1/me", headers=other).status_code == 200


@pytest.mark.parametrize(
    "authorization", ["Bearer fct_not-a-real-token", "Bearer x", "bearer   fct_nope  "]
)
def test_an_unknown_token_is_an_error_not_anonymity(client: TestClient, authorization: str) -> None:
    _assert_invalid_token(client.get("/api/v1/me", headers={"Authorization": authorization}))


def test_a_session_ends_when_its_lifetime_is_over(
    client: TestClient,
    log_in: Callable[..., str],
    settings: Settings,
    clock: ManualClock,
) -> None:
    log_in("alpha.liaison")

    clock.advance(settings.session_ttl_seconds - 1)
    assert client.get("/", headers=HTML, follow_redirects=False).status_code == 200
    clock.advance(1)
    response = client.get("/", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


# --- disabled members ----------------------------------------------------------------------


def test_a_disabled_member_cannot_log_in_and_looks_like_a_wrong_password(
    db: Session,
    clock: ManualClock,
    settings: Settings,
    member: Callable[[str], Viewer],
    client: TestClient,
) -> None:
    do_disable_member(db, member("cell.admin"), username="alpha.liaison", now=clock.now())

    with pytest.raises(InvalidCredentials):
        do_log_in(
            db,
            username="alpha.liaison",
            password=DEMO_PASSWORD,
            totp_code=None,
            now=clock.now(),
            settings=settings,
        )
    disabled = client.post(
        "/api/v1/auth/token", json={"username": "alpha.liaison", "password": DEMO_PASSWORD}
    )
    unknown = client.post(
        "/api/v1/auth/token", json={"username": "nobody.here", "password": DEMO_PASSWORD}
    )
    assert disabled.status_code == unknown.status_code == 401
    assert disabled.json() == unknown.json()


def test_a_disabled_members_token_stops_working_at_once(
    db: Session,
    clock: ManualClock,
    member: Callable[[str], Viewer],
    client: TestClient,
    token_for: Callable[[str], dict[str, str]],
) -> None:
    headers = token_for("alpha.liaison")
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    do_disable_member(db, member("cell.admin"), username="alpha.liaison", now=clock.now())

    _assert_invalid_token(client.get("/api/v1/me", headers=headers))
