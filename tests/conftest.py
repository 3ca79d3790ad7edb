"""Fixtures shared by the whole suite.

The database is real: SQLite by default, PostgreSQL with ``--db postgresql`` (what
``make test`` runs second). Each run gets its own fresh database built by ``alembic upgrade
head``; each test starts from empty tables.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tests.helpers import tables

from fusioncell.app import create_app
from fusioncell.cell.models import Member, Role
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import viewer_of
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.db import migrate
from fusioncell.db.engine import create_db_engine, make_sessionmaker, normalise_url
from fusioncell.db.registry import metadata
from fusioncell.ledger.context import LedgerContext, build_ledger_context
from fusioncell.scenario.demo import stable_id

# Every app process a test starts (servers, the demo, the CLI) lives seconds: a warm-up
# worker would only take CPU from the other tests. In-process apps take their own settings.
os.environ["FUSIONCELL_WARM_UP"] = "0"

DEMO_PASSWORD = "demo-password-for-tests"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default=os.environ.get("FUSIONCELL_TEST_DB", "sqlite"),
        help="database backend for the tests",
    )
    parser.addoption(
        "--share-between-databases",
        action="store_true",
        help="run each browser story (tests/e2e) and each share of the generated requests "
        "(marked share) on one of the two databases only, alternating in collection order: "
        "SQLite takes the first, PostgreSQL the second (make test)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"fusioncell database backend: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    value: str = request.config.getoption("--db")
    return value


def _fresh_postgres_database() -> Iterator[str]:
    server = normalise_url(os.environ.get("FUSIONCELL_TEST_PG_URL", DEFAULT_PG_URL))
    name = f"fusioncell_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
            # The suite's own database does not wait for each commit's WAL to reach the disk:
            # a crash of the app (which the durability tests cause) loses nothing either way,
            # only a crash of the database server would; the cell's own database keeps the
            # server's setting.
            connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    except Exception as exc:  # pragma: no cover - the environment is broken
        pytest.exit(f"PostgreSQL is required for --db postgresql: {exc}", returncode=3)
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "postgresql":
        yield from _fresh_postgres_database()
    else:
        yield f"sqlite:///{_sqlite_folder(tmp_path_factory) / 'fusioncell.db'}"


def _sqlite_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The suite's SQLite file, in memory-backed storage where the machine has it: the app
    syncs every commit to the disk (``synchronous=FULL``), and the suite's thousands of
    commits need not wait for a disk that no test crashes."""
    shared_memory = Path("/dev/shm")
    if shared_memory.is_dir() and os.access(shared_memory, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="fusioncell-test-", dir=shared_memory))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        return folder
    return tmp_path_factory.mktemp("db")


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _empty_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
        connection.execute(text("INSERT INTO log_sequence (id, next_index) VALUES (1, 0)"))


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    _empty_tables(migrated_engine)
    yield migrated_engine
    _empty_tables(migrated_engine)


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture
def ledger(settings: Settings) -> LedgerContext:
    return build_ledger_context(settings)


@pytest.fixture
def db(engine: Engine, ledger: LedgerContext) -> Iterator[Session]:
    with make_sessionmaker(engine, ledger=ledger)() as session:
        yield session


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(database_url: str, key_dir: Path) -> Settings:
    return replace(
        Settings(),
        database_url=database_url,
        password_hash_profile="fast-insecure",
        key_dir=key_dir,
        # Tests sign checkpoints and run the hotline engine explicitly, so runs are repeatable.
        background_checkpoints=False,
    )


@pytest.fixture
def app(engine: Engine, settings: Settings, clock: ManualClock) -> Iterator[FastAPI]:
    application = create_app(settings, clock=clock)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


# The demo's rows as ``load_demo`` first wrote them, per (database, keys, clock): loading it
# signs some hundred entries and hashes a dozen passwords, a third of a second that most tests
# paid again. Its output depends only on those three (the ids are stable, the clock manual),
# so later tests get the same rows back; the signing keys they verify against stay in the
# session's key folder.
_DEMO_ROWS: dict[tuple[str, str, datetime], tables.Rows] = {}


@pytest.fixture
def demo(db: Session, clock: ManualClock, engine: Engine, settings: Settings) -> None:
    from fusioncell.scenario.demo import load_demo

    key = (settings.database_url, str(settings.key_dir), clock.now())
    if (rows := _DEMO_ROWS.get(key)) is not None:
        tables.restore(engine, rows)
        return
    load_demo(db, password=DEMO_PASSWORD, now=clock.now(), hash_profile="fast-insecure")
    db.commit()
    _DEMO_ROWS[key] = tables.snapshot(engine)


@pytest.fixture
def demo_password() -> str:
    return DEMO_PASSWORD


@pytest.fixture
def member(db: Session, demo: None) -> Callable[[str], Viewer]:
    """A demo member by name, like Zulip's ``example_user("hamlet")``."""

    def lookup(username: str) -> Viewer:
        from fusioncell.cell.models import Member

        found = db.get(Member, stable_id("member", username))
        assert found is not None, username
        viewer = viewer_of(found)
        db.commit()
        return viewer

    return lookup


@pytest.fixture
def token_for(client: TestClient, demo: None) -> Callable[[str], dict[str, str]]:
    """Bearer headers for a demo member, obtained through the real token endpoint."""

    def issue(username: str) -> dict[str, str]:
        response = client.post(
            "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return issue


def database_is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def add_member_at_console(
    db: Session,
    clock: ManualClock,
    username: str,
    *,
    organisation: str,
    roles: list[Role],
    password: str = DEMO_PASSWORD,
) -> Member:
    """A member the console creates: in force at once (the console founds the cell)."""
    from tests.cell.factories import console, create_member

    return create_member(
        db,
        console(),
        clock,
        username=username,
        organisation=organisation,
        roles=roles,
        password=password,
    )


# --- rows, and a browser's pages ------------------------------------------------------------


@pytest.fixture
def count_rows(db: Session) -> Callable[[type], int]:
    """How many rows a table holds, read fresh from the database."""
    return partial(tables.count_rows, db)


@pytest.fixture
def table_counts(db: Session) -> Callable[[], dict[str, int]]:
    """Rows per table, every table: proof that a refused action wrote nothing anywhere."""
    return partial(tables.table_counts, db)


@pytest.fixture
def new_client(app: FastAPI) -> Iterator[Callable[[], TestClient]]:
    """A second browser: its own cookie jar, the same app."""
    with ExitStack() as stack:

        def make() -> TestClient:
            return stack.enter_context(TestClient(app, base_url="http://testserver"))

        yield make


@pytest.fixture
def log_in(client: TestClient, demo: None) -> Callable[..., str]:
    """Log in through the login form (on ``client`` unless given another browser); returns
    the session's CSRF token."""
    from tests.helpers.pages import HTML, csrf_in, log_in_through_form

    def go(
        username: str,
        password: str = DEMO_PASSWORD,
        *,
        totp: str = "",
        on: TestClient | None = None,
    ) -> str:
        browser = on or client
        log_in_through_form(browser, username, password, totp=totp)
        account = browser.get("/account", headers=HTML)
        assert account.status_code == 200, account.text
        return csrf_in(account.text)

    return go


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, only the tests that touch a database: a test that asks for no database
    (pure functions, parsers, the STIX validator, the Merkle tree) ran the same way on SQLite,
    and running it again would only lengthen CI."""
    if config.getoption("--share-between-databases"):
        _share_between_databases(config, items)
    # The long tests first, then the browser stories, then the rest (each in its order): the
    # workers start on what takes longest instead of finishing on it one by one.
    items.sort(
        key=lambda item: (item.get_closest_marker("long") is None, "/e2e/" not in item.nodeid)
    )
    if config.getoption("--db") != "postgresql":
        return
    kept, dropped = [], []
    for item in items:
        uses = set(getattr(item, "fixturenames", ()))
        (kept if uses & {"database_url", "backend"} else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _share_between_databases(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A browser story drives the same pages and scripts over either database, and every route
    it calls is tested on both by the in-process tests; run one after another, each story on
    both would take a third of CI's time. The same holds for the requests Schemathesis
    generates from the OpenAPI document (dealt out in shares of the operations, marked
    ``share``). So ``make test`` runs each on one database: they are taken in collection order
    and dealt out in turn, the stories and the shares each on their own."""
    for shared in (
        [item for item in items if item.nodeid.startswith("tests/e2e/")],
        [item for item in items if item.get_closest_marker("share") is not None],
    ):
        _deal_out(config, items, shared)


def _deal_out(config: pytest.Config, items: list[pytest.Item], shared: list[pytest.Item]) -> None:
    stories = sorted(shared, key=lambda i: i.nodeid)
    turn = 0 if config.getoption("--db") == "sqlite" else 1
    elsewhere = {item.nodeid for n, item in enumerate(stories) if n % 2 != turn}
    if elsewhere:
        config.hook.pytest_deselected(items=[i for i in items if i.nodeid in elsewhere])
        items[:] = [item for item in items if item.nodeid not in elsewhere]
