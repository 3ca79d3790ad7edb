"""The ``fusioncell`` command, run as a real process against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select
from tests.conftest import DEMO_PASSWORD
from tests.servers import free_port, serve_cell

from fusioncell import __version__
from fusioncell.cell.models import LoginThrottle, Member, Organisation
from fusioncell.config import Settings

# What a command prints does not depend on the database behind it: make test runs each of these
# on one of the two (marker share); the commands' database work is tested on both elsewhere.
SHARED = pytest.mark.share


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


@SHARED
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


@SHARED
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


@SHARED
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


@SHARED
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


# --- what a member's command could not do is one line, never a traceback -------------------


def one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    """The command failed, printed nothing on standard output and one line on standard error;
    returns that line."""
    assert result.returncode != 0, result.stdout
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("fusioncell: ")
    return lines[0]


def as_member(*args: str, password: str = DEMO_PASSWORD) -> subprocess.CompletedProcess[str]:
    return fusioncell(*args, FUSIONCELL_PASSWORD=password)


def hotline_send(server: str, key: Path) -> tuple[str, ...]:
    return (
        "hotline", "send", "--server", server, "--user", "alpha.liaison", "--key", str(key),
        "--channel", "Cell-wide channel", "--precedence", "FLASH", "--text", "Checkpoint open",
    )  # fmt: skip


def keys_enroll(server: str, key: Path) -> tuple[str, ...]:
    return ("keys", "enroll", "--server", server, "--user", "alpha.liaison", "--key", str(key))


def hotline_tail(server: str) -> tuple[str, ...]:
    return ("hotline", "tail", "--server", server, "--user", "alpha.liaison", "--count", "1")


def _garbage(path: Path) -> Path:
    path.write_text("not a key\n")
    path.chmod(0o600)
    return path


def _shared(path: Path) -> Path:
    generated = fusioncell("keys", "generate", "--out", str(path))
    assert generated.returncode == 0, generated.stderr
    path.chmod(0o644)
    return path


KEY_PROBLEMS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing": (lambda path: path, "cannot read the key file {key}: No such file or directory"),
    "a directory": (lambda path: path.mkdir() or path, "the key file {key} is not a file"),
    "not a key": (
        _garbage,
        "the key file {key} does not hold an unencrypted Ed25519 private key "
        "(make one with `fusioncell keys generate`)",
    ),
    "readable by others": (_shared, "the key file {key} is readable by others: chmod 600 {key}"),
}


@pytest.mark.parametrize("problem", KEY_PROBLEMS)
@pytest.mark.parametrize("command", [hotline_send, keys_enroll])
def test_a_key_file_that_cannot_be_used_is_one_line_before_any_request(
    tmp_path: Path, problem: str, command: Callable[[str, Path], tuple[str, ...]]
) -> None:
    make, said = KEY_PROBLEMS[problem]
    key = make(tmp_path / "alpha.pem")

    line = one_line_failure(as_member(*command(f"http://127.0.0.1:{free_port()}", key)))

    assert line == "fusioncell: " + said.format(key=key)


def test_keys_generate_never_overwrites_and_says_so_in_one_line(tmp_path: Path) -> None:
    key = tmp_path / "alpha.pem"
    assert fusioncell("keys", "generate", "--out", str(key)).returncode == 0
    before = key.read_bytes()

    again = one_line_failure(fusioncell("keys", "generate", "--out", str(key)))
    nowhere = one_line_failure(fusioncell("keys", "generate", "--out", str(tmp_path / "no/k.pem")))

    assert again == f"fusioncell: the key file {key} exists; refusing to overwrite a key"
    assert nowhere == (
        f"fusioncell: cannot write the key file {tmp_path / 'no/k.pem'}: No such file or directory"
    )
    assert key.read_bytes() == before


@pytest.fixture
def member_key(tmp_path: Path) -> Path:
    key = tmp_path / "alpha.pem"
    assert fusioncell("keys", "generate", "--out", str(key)).returncode == 0
    return key


@pytest.mark.parametrize("command", ["send", "enroll", "tail"])
def test_an_unreachable_server_is_one_line(member_key: Path, command: str) -> None:
    server = f"http://127.0.0.1:{free_port()}"
    args = {
        "send": hotline_send(server, member_key),
        "enroll": keys_enroll(server, member_key),
        "tail": hotline_tail(server),
    }[command]

    line = one_line_failure(as_member(*args))

    assert line.startswith(f"fusioncell: cannot reach {server}: ")
    assert "onnection refused" in line


@SHARED
def test_a_wrong_password_is_one_line_that_says_it_once(
    database_url: str, settings: Settings, demo: None, member_key: Path
) -> None:
    with serve_cell(database_url, settings) as (server, _process):
        lines = [
            one_line_failure(as_member(*args, password="not-the-password"))
            for args in (
                hotline_send(server, member_key),
                keys_enroll(server, member_key),
                hotline_tail(server),
            )
        ]

    refused = (
        f"fusioncell: {server} refused the login of alpha.liaison: wrong username or password, "
        "or a missing or wrong one-time code"
    )
    assert lines == [refused] * 3
