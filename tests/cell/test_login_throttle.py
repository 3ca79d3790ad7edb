"""Login back-off per (username, client address) and per address: a guesser slows only their
own attempts, the member's right password from elsewhere works at once, and the failures
still reach the log in aggregate, by username."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.conftest import DEMO_PASSWORD
from tests.helpers.pages import submit_login
from tests.helpers.problems import assert_problem

from fusioncell.cell import credentials
from fusioncell.cell.actions.auth import IssuedToken, do_issue_token
from fusioncell.cell.actions.login_throttle import (
    ADDRESS_BACKOFF_THRESHOLD,
    FORGET_AFTER_SECONDS,
    Scope,
)
from fusioncell.cell.entries import CellEntry
from fusioncell.cell.models import LoginAddressThrottle, LoginThrottle
from fusioncell.cell.views import wait_text
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.db.engine import make_sessionmaker
from fusioncell.errors import InvalidCredentials, TooManyAttempts
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import EntryBody, LogEntry

WRONG = "not-the-password"
GUESSER = "203.0.113.9"
MEMBER = "198.51.100.7"

Attempt = Callable[..., IssuedToken]


@pytest.fixture
def attempt(db: Session, clock: ManualClock, settings: Settings, demo: None) -> Attempt:
    def go(
        address: str | None, username: str = "alpha.liaison", password: str = DEMO_PASSWORD
    ) -> IssuedToken:
        return do_issue_token(
            db,
            username=username,
            password=password,
            totp_code=None,
            now=clock.now(),
            settings=settings,
            client_address=address,
        )

    return go


def _fail(
    attempt: Attempt, address: str | None, times: int, username: str = "alpha.liaison"
) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            attempt(address, username, WRONG)


def _refused(attempt: Attempt, address: str | None, username: str = "alpha.liaison") -> Any:
    """The refusal a throttled attempt gets, with the right password: its extensions."""
    with pytest.raises(TooManyAttempts) as caught:
        attempt(address, username)
    return caught.value.extensions


def _pair(db: Session, username: str, address: str) -> LoginThrottle | None:
    db.expire_all()
    row = db.get(LoginThrottle, (username, address))
    db.commit()
    return row


def _address(db: Session, address: str) -> LoginAddressThrottle | None:
    db.expire_all()
    row = db.get(LoginAddressThrottle, address)
    db.commit()
    return row


# --- per username and address --------------------------------------------------------------


def test_a_guesser_locks_only_their_own_address_and_the_member_logs_in_from_another_at_once(
    attempt: Attempt, settings: Settings, db: Session, clock: ManualClock
) -> None:
    base = settings.login_backoff_base_seconds
    _fail(attempt, GUESSER, settings.login_backoff_threshold)
    clock.advance(base)
    _fail(attempt, GUESSER, 1)

    refusal = _refused(attempt, GUESSER)
    assert (refusal["scope"], refusal["retry_after"]) == (Scope.USERNAME_FROM_ADDRESS, 2 * base)
    assert attempt(MEMBER) is not None  # the same instant, the right password, elsewhere

    guesser = _pair(db, "alpha.liaison", GUESSER)
    assert guesser is not None and guesser.failures == settings.login_backoff_threshold + 1
    assert guesser.locked_until == clock.now() + timedelta(seconds=refusal["retry_after"])
    assert _pair(db, "alpha.liaison", MEMBER) is None
    by_address = _address(db, GUESSER)
    assert by_address is not None and by_address.locked_until is None  # below its threshold


def test_the_members_own_wrong_passwords_elsewhere_do_not_add_to_the_guessers_count(
    attempt: Attempt, settings: Settings, db: Session
) -> None:
    _fail(attempt, GUESSER, settings.login_backoff_threshold - 1)
    _fail(attempt, MEMBER, settings.login_backoff_threshold - 1)

    assert attempt(GUESSER) is not None and attempt(MEMBER) is not None
    assert _pair(db, "alpha.liaison", GUESSER) is not None  # kept for the summary only
    throttle = _pair(db, "alpha.liaison", GUESSER)
    assert throttle is not None and (throttle.failures, throttle.locked_until) == (0, None)


def test_a_throttled_attempt_is_refused_before_its_password_is_hashed(
    attempt: Attempt, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail(attempt, GUESSER, settings.login_backoff_threshold)
    hashed: list[str] = []
    verify = credentials.verify_password
    monkeypatch.setattr(
        credentials,
        "verify_password",
        lambda stored, password: hashed.append(password) or verify(stored, password),
    )

    _refused(attempt, GUESSER)
    assert hashed == []
    attempt(MEMBER)
    assert hashed == [DEMO_PASSWORD]


# --- per address ---------------------------------------------------------------------------


def _spray(attempt: Attempt, settings: Settings, address: str, failures: int) -> None:
    """``failures`` wrong passwords from ``address``, over usernames that never lock."""
    per_username = settings.login_backoff_threshold - 1
    for n in range(0, failures, per_username):
        _fail(attempt, address, min(per_username, failures - n), username=f"guess.{n:03d}")


def test_guessing_many_usernames_from_one_address_slows_that_address_alone(
    attempt: Attempt, settings: Settings, db: Session, clock: ManualClock
) -> None:
    _spray(attempt, settings, GUESSER, ADDRESS_BACKOFF_THRESHOLD)

    refusal = _refused(attempt, GUESSER, "bravo.liaison")  # a right password, from there
    assert (refusal["scope"], refusal["retry_after"]) == (
        Scope.ADDRESS,
        settings.login_backoff_base_seconds,
    )
    assert attempt(MEMBER, "bravo.liaison") is not None
    by_address = _address(db, GUESSER)
    assert by_address is not None and by_address.failures == ADDRESS_BACKOFF_THRESHOLD

    clock.advance(settings.login_backoff_base_seconds)
    _fail(attempt, GUESSER, 1, username="guess.next")
    assert _refused(attempt, GUESSER, "bravo.liaison")["retry_after"] == (
        2 * settings.login_backoff_base_seconds
    )


def test_a_right_password_from_an_address_does_not_reset_its_count(
    attempt: Attempt, settings: Settings, db: Session
) -> None:
    _spray(attempt, settings, GUESSER, ADDRESS_BACKOFF_THRESHOLD - 1)
    assert attempt(GUESSER, "bravo.liaison") is not None  # the guesser's own account

    _fail(attempt, GUESSER, 1, username="guess.last")

    assert _refused(attempt, GUESSER, "bravo.liaison")["scope"] == Scope.ADDRESS


def test_the_longer_of_two_locks_is_the_wait(
    attempt: Attempt, settings: Settings, db: Session, clock: ManualClock
) -> None:
    base, threshold = settings.login_backoff_base_seconds, settings.login_backoff_threshold
    _spray(attempt, settings, GUESSER, ADDRESS_BACKOFF_THRESHOLD - threshold + 1)
    _fail(attempt, GUESSER, threshold - 1)  # the address's threshold
    clock.advance(base)
    _fail(attempt, GUESSER, 1)  # the username's threshold from there, one more for the address

    refusal = _refused(attempt, GUESSER)
    assert (refusal["scope"], refusal["retry_after"]) == (Scope.ADDRESS, 2 * base)
    pair = _pair(db, "alpha.liaison", GUESSER)
    assert pair is not None and pair.locked_until == clock.now() + timedelta(seconds=base)


def test_counts_are_forgotten_after_an_hour_without_a_failure(
    attempt: Attempt, settings: Settings, db: Session, clock: ManualClock
) -> None:
    _spray(attempt, settings, GUESSER, ADDRESS_BACKOFF_THRESHOLD - settings.login_backoff_threshold)
    _fail(attempt, GUESSER, settings.login_backoff_threshold - 1)  # one short of both locks

    clock.advance(FORGET_AFTER_SECONDS)
    _fail(attempt, GUESSER, 1)

    assert attempt(GUESSER, "bravo.liaison") is not None
    pair, by_address = _pair(db, "alpha.liaison", GUESSER), _address(db, GUESSER)
    assert pair is not None and by_address is not None
    assert (pair.failures, by_address.failures) == (1, 1)


def test_a_summary_drops_the_counts_it_no_longer_needs(
    attempt: Attempt, settings: Settings, db: Session, clock: ManualClock
) -> None:
    _fail(attempt, GUESSER, 2, username="nobody.here")
    clock.advance(FORGET_AFTER_SECONDS + settings.login_report_window_seconds)
    attempt(MEMBER)  # the next summary counts nobody.here's failures, then drops them

    clock.advance(settings.login_report_window_seconds)
    attempt(MEMBER)

    assert _pair(db, "nobody.here", GUESSER) is None
    assert _address(db, GUESSER) is None


def test_first_failures_at_once_from_one_address_all_count(
    engine: Engine,
    ledger: LedgerContext,
    settings: Settings,
    clock: ManualClock,
    attempt: Attempt,
) -> None:
    _fail(attempt, None, 1, username="first.one")  # summarised at once: the racers need not be
    sessions = make_sessionmaker(engine, ledger=ledger)
    racers = settings.login_backoff_threshold  # all of them before the lock
    start = threading.Barrier(racers)
    outcomes: list[str] = []

    def race() -> None:
        with sessions() as session:
            start.wait()
            try:
                do_issue_token(
                    session,
                    username="alpha.liaison",
                    password=WRONG,
                    totp_code=None,
                    now=clock.now(),
                    settings=settings,
                    client_address=GUESSER,
                )
            except InvalidCredentials:
                outcomes.append("refused")

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == ["refused"] * racers
    with sessions() as session:
        pair = session.get(LoginThrottle, ("alpha.liaison", GUESSER))
        by_address = session.get(LoginAddressThrottle, GUESSER)
        assert pair is not None and by_address is not None
        assert (pair.failures, by_address.failures) == (racers, racers)
        assert pair.unreported_failures == racers  # each failure once, for the next summary


# --- the summaries count by username, whatever the address ---------------------------------


def _throttled_bodies(db: Session) -> list[dict[str, Any]]:
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


def test_a_summary_adds_up_a_usernames_failures_from_every_address(
    attempt: Attempt, settings: Settings, db: Session, clock: ManualClock
) -> None:
    _fail(attempt, None, 1, username="first.one")  # the first summary, at once
    _fail(attempt, GUESSER, 2)
    _fail(attempt, MEMBER, 1)
    _fail(attempt, None, 2, username="bravo.liaison")
    clock.advance(settings.login_report_window_seconds)
    attempt(MEMBER, "bravo.liaison")

    summary = _throttled_bodies(db)[-1]
    assert (summary["failures"], summary["usernames"]) == (5, 2)
    assert summary["top"] == [
        {"username": "alpha.liaison", "failures": 3},
        {"username": "bravo.liaison", "failures": 2},
    ]
    assert _pair(db, "alpha.liaison", GUESSER) is not None  # its back-off still holds
    assert _pair(db, "bravo.liaison", "") is not None


# --- through the API and the login page ----------------------------------------------------


@pytest.fixture
def browser_at(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """A client of the app from a given address."""
    clients: list[TestClient] = []

    def make(address: str) -> TestClient:
        made = TestClient(app, base_url="http://testserver", client=(address, 50000))
        clients.append(made)
        return made

    yield make
    for made in clients:
        made.close()


def _token(browser: TestClient, password: str = DEMO_PASSWORD) -> Any:
    return browser.post(
        "/api/v1/auth/token", json={"username": "alpha.liaison", "password": password}
    )


def test_the_api_refuses_a_throttled_address_with_retry_after_and_serves_another_at_once(
    browser_at: Callable[[str], TestClient], settings: Settings, demo: None
) -> None:
    guesser, member = browser_at(GUESSER), browser_at(MEMBER)
    for _ in range(settings.login_backoff_threshold):
        assert_problem(_token(guesser, WRONG), 401, "invalid-credentials")

    refused = _token(guesser)

    body = assert_problem(refused, 429, "too-many-attempts")
    assert int(refused.headers["retry-after"]) == body["retry_after"] == 1
    assert body["scope"] == "username-from-address"
    assert "try again in 1 s" in body["detail"]
    assert _token(member).status_code == 200


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Too many wrong passwords for this username from your address. Try again in "),
        ("ar", "محاولات كثيرة"),
    ],
)
def test_the_login_page_says_how_long_to_wait_as_an_error(
    browser_at: Callable[[str], TestClient],
    settings: Settings,
    demo: None,
    language: str,
    expected: str,
) -> None:
    guesser = browser_at(GUESSER)
    guesser.headers["Accept-Language"] = language
    for _ in range(settings.login_backoff_threshold):
        assert submit_login(guesser, "alpha.liaison", WRONG).status_code == 401

    refused = submit_login(guesser, "alpha.liaison")

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) == 1
    assert f'<p class="alert error" role="alert">{expected}' in refused.text
    assert wait_text(language, 1) in refused.text
    assert submit_login(browser_at(MEMBER), "alpha.liaison").status_code == 303


@pytest.mark.parametrize(
    ("language", "seconds", "words"),
    [
        ("en", 1, "1 second"),
        ("en", 119, "119 seconds"),
        ("en", 121, "3 minutes"),
        ("en", 900, "15 minutes"),
        ("he", 900, "15 דקות"),
        ("ar", 300, "5 دقائق"),
    ],
)
def test_a_wait_is_worded_in_seconds_then_in_minutes_rounded_up(
    language: str, seconds: int, words: str
) -> None:
    assert wait_text(language, seconds) == words
