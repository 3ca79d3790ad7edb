"""Authentication: password back-off and its summaries, second factors, token expiry and
revocation, disabled members."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.cell.factories import issue_token, start_session, totp_code
from tests.conftest import DEMO_PASSWORD
from tests.helpers.pages import HTML, submit_login
from tests.helpers.problems import assert_problem

from fusioncell.cell import credentials
from fusioncell.cell.actions.account import (
    do_begin_totp_enrolment,
    do_change_password,
    do_confirm_totp,
)
from fusioncell.cell.actions.auth import do_issue_token
from fusioncell.cell.actions.members import do_disable_member
from fusioncell.cell.entries import CellEntry
from fusioncell.cell.models import LoginThrottle
from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.errors import InvalidCredentials, TooManyAttempts
from fusioncell.ledger.entries import log_time
from fusioncell.ledger.models import EntryBody, LogEntry

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


def _throttle(db: Session, username: str, address: str = "") -> LoginThrottle | None:
    """The back-off of ``username`` from ``address`` (empty: attempts naming no address)."""
    db.expire_all()
    row = db.get(LoginThrottle, (username, address))
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
    throttle = _throttle(db, "alpha.liaison")  # kept only until the failures are summarised
    assert throttle is None or (throttle.failures, throttle.locked_until) == (0, None)

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

    body = assert_problem(refused, 429, "too-many-attempts")
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
    for _ in range(settings.login_backoff_threshold):
        submit_login(client, "alpha.liaison", WRONG)
    refused = submit_login(client, "alpha.liaison")

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert 'name="csrf_token"' in refused.text
    assert "fc_session" not in client.cookies


# --- tokens --------------------------------------------------------------------------------


def _assert_invalid_token(response: Response) -> None:
    assert_problem(response, 401, "invalid-token")
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
        start_session(db, settings, clock, "alpha.liaison")
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


# --- failed logins reach the log in aggregate ----------------------------------------------


def _throttled_bodies(db: Session) -> list[dict[str, Any]]:
    """The bodies of the ``cell.login.throttled`` entries, oldest first."""
    db.rollback()
    rows = db.execute(
        select(EntryBody.body)
        .join(LogEntry, LogEntry.index == EntryBody.entry_index)
        .where(LogEntry.entry_type == CellEntry.LOGIN_THROTTLED)
        .order_by(LogEntry.index)
    )
    bodies = [json.loads(body) for (body,) in rows]
    db.rollback()
    return bodies


def _fail_as(
    db: Session, clock: ManualClock, settings: Settings, username: str, times: int
) -> None:
    for _ in range(times):
        with pytest.raises((InvalidCredentials, TooManyAttempts)):
            do_issue_token(
                db,
                username=username,
                password=WRONG,
                totp_code=None,
                now=clock.now(),
                settings=settings,
            )


def test_fresh_usernames_failing_in_one_window_add_one_entry_and_the_next_counts_them_all(
    db: Session, clock: ManualClock, settings: Settings, demo: None
) -> None:
    usernames = [f"guess.{n:02d}" for n in range(12)]
    for username in usernames:
        _fail_as(db, clock, settings, username, 3)

    # The first failure is summarised at once; the 35 after it wait for the window to pass.
    assert _throttled_bodies(db) == [
        {"failures": 1, "usernames": 1, "top": [{"username": "guess.00", "failures": 1}]}
    ]
    assert all(_throttle(db, u) is not None for u in usernames)  # each still backs off

    first_at = clock.now()
    clock.advance(settings.login_report_window_seconds)
    _fail_as(db, clock, settings, "late.comer", 1)

    first, second = _throttled_bodies(db)
    assert second == {
        "failures": 36,
        "usernames": 13,
        "top": [
            *({"username": u, "failures": 3} for u in usernames[1:]),
            {"username": "guess.00", "failures": 2},
            {"username": "late.comer", "failures": 1},
        ],
        "since": log_time(first_at),
    }
    assert first["failures"] + second["failures"] == 12 * 3 + 1  # every failure, once


def test_a_summary_names_the_usernames_with_most_failures_and_counts_all_of_them(
    db: Session, clock: ManualClock, settings: Settings, demo: None
) -> None:
    settings = replace(settings, login_report_top=2)
    _fail_as(db, clock, settings, "first.one", 1)  # the first summary, at once
    for username, times in [("one.time", 1), ("three.times", 3), ("two.times", 2)]:
        _fail_as(db, clock, settings, username, times)
    clock.advance(settings.login_report_window_seconds)
    issue_token(db, settings, clock, "alpha.liaison")

    summary = _throttled_bodies(db)[-1]
    assert summary["failures"] == 6 and summary["usernames"] == 3
    assert summary["top"] == [
        {"username": "three.times", "failures": 3},
        {"username": "two.times", "failures": 2},
    ]


def test_failures_not_yet_summarised_survive_a_right_password_which_takes_the_summary(
    db: Session, clock: ManualClock, settings: Settings, attempt: Callable[..., object]
) -> None:
    _fail(attempt, 1, username="bravo.liaison")  # the first summary, at once
    _fail(attempt, settings.login_backoff_threshold - 1)
    assert attempt() is not None  # alpha.liaison's back-off ends; its failures are counted
    assert len(_throttled_bodies(db)) == 1

    clock.advance(settings.login_report_window_seconds)
    assert attempt() is not None

    summary = _throttled_bodies(db)[-1]
    assert (summary["failures"], summary["top"]) == (
        settings.login_backoff_threshold - 1,
        [{"username": "alpha.liaison", "failures": settings.login_backoff_threshold - 1}],
    )
    assert _throttle(db, "alpha.liaison") is None  # summarised, so nothing left to keep
    clock.advance(settings.login_report_window_seconds)
    assert attempt() is not None
    assert len(_throttled_bodies(db)) == 2  # nothing pending, nothing written


# --- a second factor confirms nothing about the password ------------------------------------


def test_with_a_second_factor_a_right_password_without_a_code_answers_as_a_wrong_one(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    member: Callable[[str], Viewer],
) -> None:
    liaison = member("alpha.liaison")
    secret = do_begin_totp_enrolment(db, liaison, now=clock.now()).secret
    do_confirm_totp(db, liaison, code=totp_code(secret, clock.now()), now=clock.now())
    clock.advance(30)

    def token(password: str, totp: str | None = None) -> Response:
        body = {"username": "alpha.liaison", "password": password, "totp": totp}
        return client.post("/api/v1/auth/token", json=body)

    right, wrong = token(DEMO_PASSWORD), token(WRONG)
    assert right.status_code == wrong.status_code == 401
    assert right.json() == wrong.json()
    assert right.json()["type"] == "urn:fusioncell:problem:invalid-credentials"
    # Counted alike, too: the back-off does not tell them apart either.
    throttle = _throttle(db, "alpha.liaison", "testclient")
    assert throttle is not None and throttle.failures == 2
    assert token(DEMO_PASSWORD, totp_code(secret, clock.now())).status_code == 200


# --- the current password of a password change is a guess like a login's -------------------


def _change_password(client: TestClient, headers: dict[str, str], current: str) -> Response:
    return client.post(
        "/api/v1/me/password",
        json={"current_password": current, "new_password": "a-new-and-long-password"},
        headers=headers,
    )


def test_wrong_current_passwords_back_off_with_retry_after_but_do_not_lock_the_login(
    client: TestClient,
    token_for: Callable[[str], dict[str, str]],
    settings: Settings,
    clock: ManualClock,
) -> None:
    headers = token_for("alpha.liaison")
    for _ in range(settings.login_backoff_threshold):
        assert _change_password(client, headers, WRONG).status_code == 401

    refused = _change_password(client, headers, DEMO_PASSWORD)

    assert_problem(refused, 429, "too-many-attempts")
    assert int(refused.headers["retry-after"]) == refused.json()["retry_after"] >= 1
    # Guesses through an open session count apart from logins: they cannot lock the member out.
    login = client.post(
        "/api/v1/auth/token", json={"username": "alpha.liaison", "password": DEMO_PASSWORD}
    )
    assert login.status_code == 200

    clock.advance(settings.login_backoff_base_seconds)
    assert _change_password(client, headers, DEMO_PASSWORD).status_code == 204


def test_the_current_password_is_verified_and_the_new_one_hashed_outside_the_write_transaction(
    db: Session,
    clock: ManualClock,
    settings: Settings,
    member: Callable[[str], Viewer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inside: list[tuple[str, bool]] = []
    verify, hash_password = credentials.verify_password, credentials.hash_password

    def watched_verify(stored: str, password: str) -> bool:
        inside.append(("verify", bool(db.info.get("fusioncell_in_action"))))
        return verify(stored, password)

    def watched_hash(password: str, *, profile: str) -> str:
        inside.append(("hash", bool(db.info.get("fusioncell_in_action"))))
        return hash_password(password, profile=profile)

    monkeypatch.setattr(credentials, "verify_password", watched_verify)
    monkeypatch.setattr(credentials, "hash_password", watched_hash)
    do_change_password(
        db,
        member("alpha.liaison"),
        current_password=DEMO_PASSWORD,
        new_password="a-new-and-long-password",
        now=clock.now(),
        hash_profile=settings.password_hash_profile,
    )

    assert inside == [("verify", False), ("hash", False)]
