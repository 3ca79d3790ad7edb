"""The cell's actions: the rows each writes, who may, retries, and what ends with what."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from tests.cell.factories import (
    create_member,
    fresh,
    issue_token,
    member_row,
    session_row,
    start_session,
    token_row,
    totp_code,
)
from tests.conftest import DEMO_PASSWORD

from fusioncell.cell import credentials
from fusioncell.cell.actions.account import (
    do_begin_totp_enrolment,
    do_change_password,
    do_confirm_totp,
    do_disable_totp,
    do_set_language,
)
from fusioncell.cell.actions.auth import (
    do_log_out,
    do_revoke_token,
)
from fusioncell.cell.actions.members import do_create_member, do_disable_member
from fusioncell.cell.actions.organisations import do_create_organisation
from fusioncell.cell.entries import CellEntry
from fusioncell.cell.models import (
    ApiToken,
    Member,
    Organisation,
    OrganisationKind,
    Role,
    RoleGrant,
    WebSession,
)
from fusioncell.cell.policy import Viewer, console_viewer
from fusioncell.cell.queries import viewer_for_session, viewer_for_token
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.db.transaction import atomic
from fusioncell.errors import (
    Conflict,
    Forbidden,
    IdempotencyConflict,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    InvalidTotpCode,
    NotAuthenticated,
    NotFound,
    UnsupportedLanguage,
    WeakPassword,
)
from fusioncell.ledger.entries import LedgerEntry

Count = Callable[[type], int]
Counts = Callable[[], dict[str, int]]
Lookup = Callable[[str], Viewer]
NEW_PASSWORD = "a-new-and-long-password"


# --- organisations -------------------------------------------------------------------------


def test_creating_an_organisation_writes_one_row_with_a_normalised_slug(
    db: Session, clock: ManualClock, count_rows: Count
) -> None:
    console = console_viewer(uuid.uuid4())
    organisation_id = uuid.uuid4()

    created = do_create_organisation(
        db,
        console,
        organisation_id=organisation_id,
        slug=" hum-2 ",
        name="Humanitarian organisation 2",
        kind=OrganisationKind.HUMANITARIAN,
        now=clock.now(),
    )

    assert count_rows(Organisation) == 1
    row = fresh(db, Organisation, organisation_id)
    assert isinstance(row, Organisation)
    assert (row.slug, row.name, row.kind) == (
        "HUM-2",
        "Humanitarian organisation 2",
        "humanitarian",
    )
    assert row.created_at == clock.now()
    assert created.id == organisation_id


def test_an_organisation_created_twice_with_one_id_is_one_row(
    db: Session, clock: ManualClock, count_rows: Count
) -> None:
    console = console_viewer(uuid.uuid4())
    organisation_id = uuid.uuid4()
    arguments = {
        "organisation_id": organisation_id,
        "slug": "HUM-2",
        "name": "  Humanitarian organisation 2  ",
        "kind": OrganisationKind.HUMANITARIAN,
    }

    first = do_create_organisation(db, console, now=clock.now(), **arguments)  # type: ignore[arg-type]
    clock.advance(60)
    second = do_create_organisation(db, console, now=clock.now(), **arguments)  # type: ignore[arg-type]

    assert count_rows(Organisation) == 1
    assert second.id == first.id
    assert second.created_at == first.created_at


def test_an_organisation_id_reused_for_another_organisation_is_a_conflict(
    db: Session, clock: ManualClock, count_rows: Count
) -> None:
    console = console_viewer(uuid.uuid4())
    organisation_id = uuid.uuid4()
    do_create_organisation(
        db,
        console,
        organisation_id=organisation_id,
        slug="HUM-2",
        name="Humanitarian organisation 2",
        kind=OrganisationKind.HUMANITARIAN,
        now=clock.now(),
    )

    with pytest.raises(IdempotencyConflict):
        do_create_organisation(
            db,
            console,
            organisation_id=organisation_id,
            slug="HUM-3",
            name="Humanitarian organisation 3",
            kind=OrganisationKind.HUMANITARIAN,
            now=clock.now(),
        )
    assert count_rows(Organisation) == 1


def test_a_second_organisation_with_a_taken_short_name_is_refused(
    db: Session, clock: ManualClock, demo: None, count_rows: Count
) -> None:
    before = count_rows(Organisation)
    with pytest.raises(Conflict):
        do_create_organisation(
            db,
            console_viewer(uuid.uuid4()),
            organisation_id=uuid.uuid4(),
            slug="alpha",
            name="Another ALPHA",
            kind=OrganisationKind.PARTY,
            now=clock.now(),
        )
    assert count_rows(Organisation) == before


@pytest.mark.parametrize("slug", ["", "has space", "x" * 33, "ÄLPHA"])
def test_an_organisation_with_a_malformed_short_name_is_refused(
    db: Session, clock: ManualClock, count_rows: Count, slug: str
) -> None:
    with pytest.raises(InvalidInput):
        do_create_organisation(
            db,
            console_viewer(uuid.uuid4()),
            organisation_id=uuid.uuid4(),
            slug=slug,
            name="Some name",
            kind=OrganisationKind.PARTY,
            now=clock.now(),
        )
    assert count_rows(Organisation) == 0


def test_a_liaison_officer_cannot_create_an_organisation(
    db: Session, clock: ManualClock, member: Lookup, table_counts: Counts
) -> None:
    before = table_counts()
    with pytest.raises(Forbidden):
        do_create_organisation(
            db,
            member("alpha.liaison"),
            organisation_id=uuid.uuid4(),
            slug="CHARLIE",
            name="Party CHARLIE",
            kind=OrganisationKind.PARTY,
            now=clock.now(),
        )
    assert table_counts() == before


# --- members -------------------------------------------------------------------------------


def test_creating_a_member_writes_the_member_and_one_grant_per_role(
    db: Session, clock: ManualClock, member: Lookup, count_rows: Count
) -> None:
    members_before, grants_before = count_rows(Member), count_rows(RoleGrant)
    member_id = uuid.uuid4()

    create_member(
        db,
        member("cell.admin"),
        clock,
        member_id=member_id,
        username="  Alpha.New ",
        roles=(Role.ANALYST, Role.LIAISON),
    )

    assert count_rows(Member) == members_before + 1
    assert count_rows(RoleGrant) == grants_before + 2
    row = member_row(db, "alpha.new")
    assert row.id == member_id
    assert row.organisation.slug == "ALPHA"
    # Proposed by the operator: nothing is in force until ALPHA countersigns.
    assert row.roles == frozenset()
    assert row.pending_roles == {Role.ANALYST, Role.LIAISON}
    assert row.countersigned_at is None
    assert not row.may_log_in
    assert row.language == "en"
    assert row.disabled_at is None
    assert row.created_at == clock.now()
    assert row.password_hash != DEMO_PASSWORD
    assert credentials.verify_password(row.password_hash, DEMO_PASSWORD)


def test_a_liaison_officer_cannot_create_a_member(
    db: Session, clock: ManualClock, member: Lookup, table_counts: Counts
) -> None:
    before = table_counts()
    with pytest.raises(Forbidden):
        create_member(db, member("alpha.liaison"), clock, member_id=uuid.uuid4())
    assert table_counts() == before


def test_the_supervisor_cannot_create_a_member(
    db: Session, clock: ManualClock, member: Lookup, table_counts: Counts
) -> None:
    before = table_counts()
    with pytest.raises(Forbidden):
        create_member(db, member("supervisor.chair"), clock, member_id=uuid.uuid4())
    assert table_counts() == before


def test_a_member_created_twice_with_one_id_is_one_member(
    db: Session, clock: ManualClock, member: Lookup, count_rows: Count
) -> None:
    admin = member("cell.admin")
    before = count_rows(Member)
    member_id = uuid.uuid4()

    first = create_member(db, admin, clock, member_id=member_id)
    clock.advance(60)
    second = create_member(db, admin, clock, member_id=member_id)

    assert count_rows(Member) == before + 1
    assert second.id == first.id == member_id
    assert second.created_at == first.created_at


@pytest.mark.parametrize(
    "change",
    [
        {"username": "alpha.other"},
        {"organisation": "BRAVO"},
        {"roles": (Role.LIAISON,)},
    ],
    ids=["username", "organisation", "roles"],
)
def test_a_member_id_reused_for_a_different_member_is_a_conflict(
    db: Session,
    clock: ManualClock,
    member: Lookup,
    count_rows: Count,
    change: dict[str, object],
) -> None:
    admin = member("cell.admin")
    member_id = uuid.uuid4()
    create_member(db, admin, clock, member_id=member_id)
    before = count_rows(Member)

    with pytest.raises(IdempotencyConflict):
        create_member(db, admin, clock, member_id=member_id, **change)  # type: ignore[arg-type]
    assert count_rows(Member) == before
    assert member_row(db, "alpha.new").pending_roles == {Role.ANALYST}


def test_a_taken_username_is_refused_under_a_new_id(
    db: Session, clock: ManualClock, member: Lookup, count_rows: Count
) -> None:
    before = count_rows(Member)
    with pytest.raises(Conflict) as caught:
        create_member(
            db, member("cell.admin"), clock, member_id=uuid.uuid4(), username="alpha.liaison"
        )
    assert not isinstance(caught.value, IdempotencyConflict)
    assert count_rows(Member) == before


@pytest.mark.parametrize(
    ("password", "error"),
    [("short", WeakPassword), ("my-name-is-alpha.new!", WeakPassword)],
    ids=["too short", "contains the username"],
)
def test_a_member_with_a_weak_password_is_refused(
    db: Session,
    clock: ManualClock,
    member: Lookup,
    count_rows: Count,
    password: str,
    error: type[Exception],
) -> None:
    before = count_rows(Member)
    with pytest.raises(error):
        create_member(db, member("cell.admin"), clock, password=password)
    assert count_rows(Member) == before


@pytest.mark.parametrize(
    "change",
    [
        {"username": "Bad Name"},
        {"roles": ()},
        {"organisation_slug": "NOWHERE"},
        {"language": "xx"},
    ],
    ids=["username", "no roles", "organisation", "language"],
)
def test_a_member_with_invalid_details_is_refused(
    db: Session,
    clock: ManualClock,
    member: Lookup,
    count_rows: Count,
    change: dict[str, object],
) -> None:
    arguments: dict[str, object] = {
        "member_id": uuid.uuid4(),
        "username": "alpha.new",
        "display_name": "",
        "organisation_slug": "ALPHA",
        "roles": [Role.ANALYST],
        "password": DEMO_PASSWORD,
        "language": "en",
        "now": clock.now(),
        "hash_profile": "fast-insecure",
    }
    before = count_rows(Member)
    with pytest.raises(InvalidInput):
        do_create_member(db, member("cell.admin"), **{**arguments, **change})  # type: ignore[arg-type]
    assert count_rows(Member) == before


def test_disabling_a_member_ends_every_session_and_token_they_hold(
    db: Session, clock: ManualClock, settings: Settings, member: Lookup
) -> None:
    tokens = [issue_token(db, settings, clock, "alpha.liaison").secret for _ in range(2)]
    sessions = [start_session(db, settings, clock, "alpha.liaison").secret for _ in range(2)]
    other_token = issue_token(db, settings, clock, "bravo.liaison").secret
    clock.advance(5)

    do_disable_member(db, member("cell.admin"), username="alpha.liaison", now=clock.now())

    assert member_row(db, "alpha.liaison").disabled_at == clock.now()
    for secret in tokens:
        assert token_row(db, secret).revoked_at == clock.now()
        assert viewer_for_token(db, secret, now=clock.now()) is None
    for secret in sessions:
        assert session_row(db, secret).revoked_at == clock.now()
        assert viewer_for_session(db, secret, now=clock.now()) is None
    assert token_row(db, other_token).revoked_at is None


def test_disabling_a_member_twice_keeps_the_first_time(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    admin = member("cell.admin")
    first_time = clock.now()
    do_disable_member(db, admin, username="alpha.liaison", now=first_time)
    clock.advance(60)

    again = do_disable_member(db, admin, username="alpha.liaison", now=clock.now())

    assert again.disabled_at == first_time
    assert member_row(db, "alpha.liaison").disabled_at == first_time


def test_disabling_an_unknown_member_is_not_found(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    with pytest.raises(NotFound):
        do_disable_member(db, member("cell.admin"), username="nobody", now=clock.now())


def test_a_liaison_officer_cannot_disable_a_member(
    db: Session, clock: ManualClock, settings: Settings, member: Lookup, table_counts: Counts
) -> None:
    token = issue_token(db, settings, clock, "bravo.liaison").secret
    liaison = member("alpha.liaison")
    before = table_counts()

    with pytest.raises(Forbidden):
        do_disable_member(db, liaison, username="bravo.liaison", now=clock.now())

    assert table_counts() == before
    assert member_row(db, "bravo.liaison").disabled_at is None
    assert token_row(db, token).revoked_at is None


# --- tokens and sessions -------------------------------------------------------------------


def test_issuing_a_token_stores_only_its_digest_and_expiry(
    db: Session, clock: ManualClock, settings: Settings, demo: None, count_rows: Count
) -> None:
    issued = issue_token(db, settings, clock, "  Alpha.Liaison ")

    assert count_rows(ApiToken) == 1
    row = fresh(db, ApiToken, issued.token_id)
    assert isinstance(row, ApiToken)
    assert row.token_hash == credentials.digest(issued.secret) != issued.secret
    assert row.member_id == member_row(db, "alpha.liaison").id
    assert row.created_at == clock.now()
    assert issued.expires_at == row.expires_at
    assert row.expires_at == clock.now() + timedelta(seconds=settings.token_ttl_seconds)
    assert row.revoked_at is None
    viewer = viewer_for_token(db, issued.secret, now=clock.now())
    assert viewer is not None
    assert viewer.username == "alpha.liaison"


def test_a_wrong_password_issues_no_token(
    db: Session, clock: ManualClock, settings: Settings, demo: None, count_rows: Count
) -> None:
    with pytest.raises(InvalidCredentials):
        issue_token(db, settings, clock, "alpha.liaison", password="not-the-password")
    assert count_rows(ApiToken) == 0


def test_logging_in_stores_a_session_under_the_digest_of_its_secret(
    db: Session, clock: ManualClock, settings: Settings, demo: None, count_rows: Count
) -> None:
    started = start_session(db, settings, clock, "alpha.liaison")

    assert count_rows(WebSession) == 1
    row = session_row(db, started.secret)
    assert row.id != started.secret
    assert row.csrf_token == started.csrf_token
    assert row.member_id == member_row(db, "alpha.liaison").id
    assert row.expires_at == clock.now() + timedelta(seconds=settings.session_ttl_seconds)
    viewer = viewer_for_session(db, started.secret, now=clock.now())
    assert viewer is not None
    assert viewer.csrf_token == started.csrf_token


def test_a_wrong_password_starts_no_session(
    db: Session, clock: ManualClock, settings: Settings, demo: None, count_rows: Count
) -> None:
    with pytest.raises(InvalidCredentials):
        start_session(db, settings, clock, "alpha.liaison", password="not-the-password")
    assert count_rows(WebSession) == 0


def test_logging_out_ends_only_that_session(
    db: Session, clock: ManualClock, settings: Settings, member: Lookup
) -> None:
    leaving = start_session(db, settings, clock, "alpha.liaison").secret
    staying = start_session(db, settings, clock, "alpha.liaison").secret
    clock.advance(5)

    do_log_out(db, member("alpha.liaison"), session_secret=leaving, now=clock.now())

    assert session_row(db, leaving).revoked_at == clock.now()
    assert viewer_for_session(db, leaving, now=clock.now()) is None
    assert session_row(db, staying).revoked_at is None


def test_logging_out_someone_elses_session_changes_nothing(
    db: Session, clock: ManualClock, settings: Settings, member: Lookup
) -> None:
    theirs = start_session(db, settings, clock, "bravo.liaison").secret

    do_log_out(db, member("alpha.liaison"), session_secret=theirs, now=clock.now())

    assert session_row(db, theirs).revoked_at is None


def test_revoking_a_token_ends_it_and_a_second_revocation_keeps_the_first_time(
    db: Session, clock: ManualClock, settings: Settings, member: Lookup
) -> None:
    viewer = member("alpha.liaison")
    secret = issue_token(db, settings, clock, "alpha.liaison").secret
    kept = issue_token(db, settings, clock, "alpha.liaison").secret
    revoked_at = clock.now()

    do_revoke_token(db, viewer, token_secret=secret, now=revoked_at)
    clock.advance(60)
    do_revoke_token(db, viewer, token_secret=secret, now=clock.now())

    assert token_row(db, secret).revoked_at == revoked_at
    assert viewer_for_token(db, secret, now=clock.now()) is None
    assert token_row(db, kept).revoked_at is None


def test_revoking_someone_elses_token_is_not_found_and_changes_nothing(
    db: Session, clock: ManualClock, settings: Settings, member: Lookup
) -> None:
    theirs = issue_token(db, settings, clock, "bravo.liaison").secret

    with pytest.raises(NotFound):
        do_revoke_token(db, member("alpha.liaison"), token_secret=theirs, now=clock.now())

    assert token_row(db, theirs).revoked_at is None


def test_revoking_an_unknown_token_is_an_invalid_token(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    with pytest.raises(InvalidToken):
        do_revoke_token(db, member("alpha.liaison"), token_secret="fct_unknown", now=clock.now())


# --- password ------------------------------------------------------------------------------


def test_changing_the_password_keeps_the_current_session_and_ends_the_rest(
    db: Session, clock: ManualClock, settings: Settings, member: Lookup
) -> None:
    viewer = member("alpha.liaison")
    current = start_session(db, settings, clock, "alpha.liaison").secret
    other = start_session(db, settings, clock, "alpha.liaison").secret
    token = issue_token(db, settings, clock, "alpha.liaison").secret
    bravo = issue_token(db, settings, clock, "bravo.liaison").secret
    clock.advance(5)

    do_change_password(
        db,
        viewer,
        current_password=DEMO_PASSWORD,
        new_password=NEW_PASSWORD,
        now=clock.now(),
        hash_profile="fast-insecure",
        keep_session=current,
    )

    row = member_row(db, "alpha.liaison")
    assert credentials.verify_password(row.password_hash, NEW_PASSWORD)
    assert not credentials.verify_password(row.password_hash, DEMO_PASSWORD)
    assert session_row(db, current).revoked_at is None
    assert viewer_for_session(db, current, now=clock.now()) is not None
    assert session_row(db, other).revoked_at == clock.now()
    assert token_row(db, token).revoked_at == clock.now()
    assert token_row(db, bravo).revoked_at is None


def test_a_wrong_current_password_changes_nothing(
    db: Session, clock: ManualClock, settings: Settings, member: Lookup
) -> None:
    viewer = member("alpha.liaison")
    token = issue_token(db, settings, clock, "alpha.liaison").secret
    hash_before = member_row(db, "alpha.liaison").password_hash

    with pytest.raises(InvalidCredentials):
        do_change_password(
            db,
            viewer,
            current_password="not-the-password",
            new_password=NEW_PASSWORD,
            now=clock.now(),
            hash_profile="fast-insecure",
        )

    assert member_row(db, "alpha.liaison").password_hash == hash_before
    assert token_row(db, token).revoked_at is None


def test_a_weak_new_password_changes_nothing(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    hash_before = member_row(db, "alpha.liaison").password_hash

    with pytest.raises(WeakPassword):
        do_change_password(
            db,
            member("alpha.liaison"),
            current_password=DEMO_PASSWORD,
            new_password="short",
            now=clock.now(),
            hash_profile="fast-insecure",
        )

    assert member_row(db, "alpha.liaison").password_hash == hash_before


def test_a_disabled_members_old_viewer_cannot_change_anything(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    stale = member("alpha.liaison")
    do_disable_member(db, member("cell.admin"), username="alpha.liaison", now=clock.now())
    hash_before = member_row(db, "alpha.liaison").password_hash

    with pytest.raises(NotAuthenticated):
        do_change_password(
            db,
            stale,
            current_password=DEMO_PASSWORD,
            new_password=NEW_PASSWORD,
            now=clock.now(),
            hash_profile="fast-insecure",
        )
    with pytest.raises(NotAuthenticated):
        do_set_language(db, stale, language="ar", now=clock.now())
    with pytest.raises(NotAuthenticated):
        do_begin_totp_enrolment(db, stale, now=clock.now())

    row = member_row(db, "alpha.liaison")
    assert (row.password_hash, row.language, row.totp_secret) == (hash_before, "en", None)


# --- second factor -------------------------------------------------------------------------


def test_beginning_enrolment_stores_a_secret_but_does_not_enable_it(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    enrolment = do_begin_totp_enrolment(db, member("alpha.liaison"), now=clock.now())

    row = member_row(db, "alpha.liaison")
    assert row.totp_secret == enrolment.secret
    assert row.totp_enabled is False
    assert enrolment.uri.startswith("otpauth://totp/")
    assert "alpha.liaison" in enrolment.uri


def test_confirming_enrolment_with_a_current_code_enables_the_second_factor(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    viewer = member("alpha.liaison")
    enrolment = do_begin_totp_enrolment(db, viewer, now=clock.now())

    do_confirm_totp(db, viewer, code=totp_code(enrolment.secret, clock.now()), now=clock.now())

    row = member_row(db, "alpha.liaison")
    assert row.totp_enabled is True
    assert row.totp_last_step == int(clock.now().timestamp()) // 30


def test_a_wrong_code_does_not_enable_the_second_factor(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    viewer = member("alpha.liaison")
    enrolment = do_begin_totp_enrolment(db, viewer, now=clock.now())
    stale_code = totp_code(enrolment.secret, clock.now() - timedelta(minutes=10))

    for code in (stale_code, "abcdef", "12345"):
        with pytest.raises(InvalidTotpCode):
            do_confirm_totp(db, viewer, code=code, now=clock.now())

    row = member_row(db, "alpha.liaison")
    assert (row.totp_enabled, row.totp_last_step) == (False, None)


def test_confirming_before_enrolment_or_twice_is_a_conflict(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    viewer = member("alpha.liaison")
    with pytest.raises(Conflict):
        do_confirm_totp(db, viewer, code="123456", now=clock.now())

    enrolment = do_begin_totp_enrolment(db, viewer, now=clock.now())
    do_confirm_totp(db, viewer, code=totp_code(enrolment.secret, clock.now()), now=clock.now())
    clock.advance(30)
    with pytest.raises(Conflict):
        do_confirm_totp(db, viewer, code=totp_code(enrolment.secret, clock.now()), now=clock.now())
    with pytest.raises(Conflict):
        do_begin_totp_enrolment(db, viewer, now=clock.now())
    assert member_row(db, "alpha.liaison").totp_secret == enrolment.secret


def test_a_totp_code_logs_in_once_and_its_replay_is_refused(
    db: Session, clock: ManualClock, settings: Settings, member: Lookup, count_rows: Count
) -> None:
    viewer = member("alpha.liaison")
    enrolment = do_begin_totp_enrolment(db, viewer, now=clock.now())
    do_confirm_totp(db, viewer, code=totp_code(enrolment.secret, clock.now()), now=clock.now())

    def log_in(code: str | None) -> None:
        start_session(db, settings, clock, "alpha.liaison", totp_code=code)

    with pytest.raises(InvalidCredentials):  # as a wrong password is: nothing confirmed
        log_in(None)
    # The code that confirmed enrolment has been used.
    with pytest.raises(InvalidCredentials):
        log_in(totp_code(enrolment.secret, clock.now()))
    clock.advance(30)
    fresh = totp_code(enrolment.secret, clock.now())
    log_in(fresh)
    assert count_rows(WebSession) == 1
    with pytest.raises(InvalidCredentials):
        log_in(fresh)
    assert count_rows(WebSession) == 1


def test_turning_the_second_factor_off_needs_an_unused_code(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    viewer = member("alpha.liaison")
    enrolment = do_begin_totp_enrolment(db, viewer, now=clock.now())
    used = totp_code(enrolment.secret, clock.now())
    do_confirm_totp(db, viewer, code=used, now=clock.now())

    with pytest.raises(InvalidTotpCode):
        do_disable_totp(db, viewer, code=used, now=clock.now())
    assert member_row(db, "alpha.liaison").totp_enabled is True

    clock.advance(30)
    do_disable_totp(db, viewer, code=totp_code(enrolment.secret, clock.now()), now=clock.now())

    row = member_row(db, "alpha.liaison")
    assert (row.totp_enabled, row.totp_secret, row.totp_last_step) == (False, None, None)
    with pytest.raises(Conflict):
        do_disable_totp(db, viewer, code="123456", now=clock.now())


# --- language ------------------------------------------------------------------------------


def test_setting_the_language_is_kept_on_the_account(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    do_set_language(db, member("alpha.liaison"), language="ar", now=clock.now())

    assert member_row(db, "alpha.liaison").language == "ar"
    assert member("alpha.liaison").language == "ar"


def test_an_unoffered_language_changes_nothing(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    with pytest.raises(UnsupportedLanguage):
        do_set_language(db, member("alpha.liaison"), language="xx", now=clock.now())

    assert member_row(db, "alpha.liaison").language == "en"


# --- transactions --------------------------------------------------------------------------


def test_atomic_inside_atomic_raises(db: Session) -> None:
    with atomic(db), pytest.raises(RuntimeError, match="must not nest"), atomic(db):
        pass


def test_an_action_refuses_to_run_inside_another_actions_transaction(
    db: Session, clock: ManualClock, member: Lookup
) -> None:
    viewer = member("alpha.liaison")
    with atomic(db), pytest.raises(RuntimeError, match="must not nest"):
        do_set_language(db, viewer, language="he", now=clock.now())

    assert member_row(db, "alpha.liaison").language == "en"


# --- the record ----------------------------------------------------------------------------


def test_each_change_appends_its_own_entry_and_a_retry_appends_none(
    db: Session, clock: ManualClock, settings: Settings, member: Lookup
) -> None:
    from fusioncell.ledger.queries import current_size, list_entries

    admin, liaison = member("cell.admin"), member("alpha.liaison")
    organisation_id, member_id = uuid.uuid4(), uuid.uuid4()

    def appended(change: Callable[[], object]) -> list[str]:
        before = current_size(db)
        db.commit()
        change()
        clock.advance(30)
        entries = [e for e in list_entries(db, admin, limit=500) if e.index >= before]
        db.commit()
        return sorted(entry.entry_type for entry in entries)

    def new_organisation() -> object:
        return do_create_organisation(
            db,
            admin,
            organisation_id=organisation_id,
            slug="HUM-2",
            name="Humanitarian organisation 2",
            kind=OrganisationKind.HUMANITARIAN,
            now=clock.now(),
        )

    session = start_session(db, settings, clock, "alpha.liaison").secret
    token = issue_token(db, settings, clock, "alpha.liaison").secret
    secret: dict[str, str] = {}

    def begin() -> None:
        secret["totp"] = do_begin_totp_enrolment(db, liaison, now=clock.now()).secret

    steps: list[tuple[Callable[[], object], list[str]]] = [
        (new_organisation, [CellEntry.ORGANISATION_CREATED]),
        (new_organisation, []),
        (
            lambda: create_member(db, admin, clock, member_id=member_id),
            sorted([CellEntry.MEMBER_CREATED, LedgerEntry.KEY_ENROLLED]),
        ),
        (lambda: create_member(db, admin, clock, member_id=member_id), []),
        (
            lambda: do_disable_member(db, admin, username="alpha.new", now=clock.now()),
            [CellEntry.MEMBER_DISABLED],
        ),
        (
            lambda: issue_token(db, settings, clock, "bravo.liaison").secret,
            [CellEntry.TOKEN_ISSUED],
        ),
        (
            lambda: start_session(db, settings, clock, "bravo.liaison").secret,
            [CellEntry.SESSION_STARTED],
        ),
        (
            lambda: do_set_language(db, liaison, language="he", now=clock.now()),
            [CellEntry.LANGUAGE_SET],
        ),
        (begin, [CellEntry.TOTP_ENROLMENT_STARTED]),
        (
            lambda: do_confirm_totp(
                db, liaison, code=totp_code(secret["totp"], clock.now()), now=clock.now()
            ),
            [CellEntry.TOTP_ENABLED],
        ),
        (
            lambda: do_disable_totp(
                db, liaison, code=totp_code(secret["totp"], clock.now()), now=clock.now()
            ),
            [CellEntry.TOTP_DISABLED],
        ),
        (
            lambda: do_revoke_token(db, liaison, token_secret=token, now=clock.now()),
            [CellEntry.TOKEN_REVOKED],
        ),
        (
            lambda: do_log_out(db, liaison, session_secret=session, now=clock.now()),
            [CellEntry.SESSION_ENDED],
        ),
        (
            lambda: do_change_password(
                db,
                liaison,
                current_password=DEMO_PASSWORD,
                new_password=NEW_PASSWORD,
                now=clock.now(),
                hash_profile="fast-insecure",
            ),
            [CellEntry.PASSWORD_CHANGED],
        ),
    ]

    assert [appended(change) for change, _ in steps] == [expected for _, expected in steps]
