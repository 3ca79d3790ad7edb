"""The ``fusioncell`` command, run as a real process against the test database."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import Engine, func, select
from tests.servers import serve_cell

from fusioncell import __version__
from fusioncell.cell.models import LoginThrottle, Member, Organisation
from fusioncell.config import Settings


def fusioncell(
    *args: str, database_url: str | None = None, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "FUSIONCELL_PASSWORD_HASH_PROFILE": "fast-insecure", **env}
    command = [sys.executable, "-m", "fusioncell.cli", *args]
    if database_url is not None:
        command += ["--database-url", database_url]
    return subprocess.run(
        command, capture_output=True, text=True, input=stdin, env=environment, timeout=60
    )


def count(engine: Engine, model: type[Member] | type[Organisation]) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def test_version_prints_the_package_version() -> None:
    result = fusioncell("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"fusioncell {__version__}"


def test_init_creates_an_empty_cell_with_one_admin_and_refuses_to_run_twice(
    engine: Engine, database_url: str
) -> None:
    first = fusioncell("init", database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert "Admin password (shown once)" in first.stdout
    assert count(engine, Organisation) == 1
    assert count(engine, Member) == 1

    second = fusioncell("init", database_url=database_url)
    assert second.returncode == 1
    assert (
        second.stderr.strip()
        == "fusioncell: this database already holds a cell; nothing was changed"
    )
    assert count(engine, Member) == 1


def test_users_add_list_and_disable_manage_members(engine: Engine, database_url: str) -> None:
    assert fusioncell("init", database_url=database_url).returncode == 0
    added = fusioncell(
        "users",
        "add",
        "gamma.liaison",
        "--org",
        "SUPERVISOR",
        "--role",
        "liaison",
        "--role",
        "duty_officer",
        "--password-stdin",
        database_url=database_url,
        stdin="a-long-enough-password\n",
    )
    assert added.returncode == 0, added.stderr
    assert "Added gamma.liaison (SUPERVISOR: duty_officer, liaison)." in added.stdout

    listed = fusioncell("users", "list", database_url=database_url)
    assert listed.returncode == 0
    assert "gamma.liaison" in listed.stdout and "active" in listed.stdout

    disabled = fusioncell("users", "disable", "gamma.liaison", database_url=database_url)
    assert disabled.returncode == 0, disabled.stderr
    with engine.connect() as connection:
        when = connection.scalar(
            select(Member.disabled_at).where(Member.username == "gamma.liaison")
        )
    assert when is not None


def test_users_add_reports_bad_input_in_one_line_and_writes_nothing(
    engine: Engine, database_url: str
) -> None:
    assert fusioncell("init", database_url=database_url).returncode == 0
    before = count(engine, Member)
    result = fusioncell(
        "users",
        "add",
        "x.y",
        "--org",
        "NOWHERE",
        "--role",
        "liaison",
        database_url=database_url,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "fusioncell: no organisation 'NOWHERE'"
    assert count(engine, Member) == before


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://somewhere/db", "fusioncell: unsupported database 'mysql'"),
        ("not a url", "fusioncell: not a database URL"),
        ("postgresql://nobody@127.0.0.1:1/none", "fusioncell: cannot use the database:"),
    ],
)
def test_a_wrong_or_unreachable_database_is_reported_in_one_line(url: str, message: str) -> None:
    result = fusioncell("users", "list", database_url=url)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(message)
    assert "Traceback" not in result.stderr


def test_demo_without_serving_loads_the_scenario_once_and_prints_the_logins(
    engine: Engine, database_url: str
) -> None:
    first = fusioncell("demo", "--no-serve", database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert "alpha.liaison" in first.stdout and "hum1.coordinator" in first.stdout
    assert "Demo password for every login (shown once)" in first.stdout
    members = count(engine, Member)
    assert members == 12

    again = fusioncell("demo", "--no-serve", database_url=database_url)
    assert again.returncode == 0
    assert "shown once" not in again.stdout
    assert count(engine, Member) == members


def test_the_demo_password_comes_from_the_environment_when_set(database_url: str) -> None:
    result = fusioncell(
        "demo",
        "--no-serve",
        database_url=database_url,
        FUSIONCELL_DEMO_PASSWORD="from-the-environment-1",
    )
    assert result.returncode == 0
    assert "from-the-environment-1" not in result.stdout
    assert "FUSIONCELL_DEMO_PASSWORD" in result.stdout


def test_serve_believes_x_forwarded_for_only_from_the_proxies_it_is_told_of(
    engine: Engine, database_url: str, settings: Settings, demo: None
) -> None:
    """The login back-off counts by the client's address: taken from the connection unless the
    connection comes from a proxy named by --forwarded-allow-ips."""
    wrong = {"username": "nobody.here", "password": "not-the-password"}
    forwarded = {"X-Forwarded-For": "192.0.2.7"}
    with serve_cell(database_url, settings) as (base, _process):
        assert httpx.post(f"{base}/api/v1/auth/token", json=wrong, headers=forwarded).is_error
    proxy = {"FUSIONCELL_FORWARDED_ALLOW_IPS": "127.0.0.1"}
    with serve_cell(database_url, settings, env=proxy) as (base, _process):
        assert httpx.post(f"{base}/api/v1/auth/token", json=wrong, headers=forwarded).is_error

    with engine.connect() as connection:
        counted = connection.execute(
            select(LoginThrottle.client_address, LoginThrottle.failures)
            .where(LoginThrottle.username == "nobody.here")
            .order_by(LoginThrottle.client_address)
        ).all()
    assert [tuple(row) for row in counted] == [("127.0.0.1", 1), ("192.0.2.7", 1)]
