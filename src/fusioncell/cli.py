"""The ``fusioncell`` command: set up a cell, serve it, manage members, run the demo."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session

from fusioncell import __version__
from fusioncell.cell import credentials
from fusioncell.cell.actions.members import do_create_member, do_disable_member
from fusioncell.cell.actions.organisations import do_create_organisation
from fusioncell.cell.keys_cli import keys_app
from fusioncell.cell.models import OrganisationKind, Role
from fusioncell.cell.policy import Viewer, console_viewer
from fusioncell.cell.queries import console_of_cell, is_empty, list_members
from fusioncell.client import ClientError
from fusioncell.clock import SystemClock
from fusioncell.config import Settings
from fusioncell.cot.cli import cot_app
from fusioncell.db import migrate
from fusioncell.db.engine import create_db_engine, make_sessionmaker, normalise_url
from fusioncell.diplomacy.cli import agreements_app
from fusioncell.errors import FusioncellError
from fusioncell.hotline.cli import hotline_app
from fusioncell.intel.cli import intel_app
from fusioncell.intel.taxii_cli import taxii_app
from fusioncell.ledger.context import build_ledger_context
from fusioncell.ledger.keyring import KeyFileError
from fusioncell.ledger.verify_cli import Tracks, verify_command
from fusioncell.ledger.witness_cli import WitnessSetupError, witness_app

app = typer.Typer(
    help="fusioncell: a supervised joint fusion cell on a signed, verifiable log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
users_app = typer.Typer(help="Manage the cell's members.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(witness_app, name="witness")
app.add_typer(hotline_app, name="hotline")
app.add_typer(intel_app, name="intel")
app.add_typer(taxii_app, name="taxii")
app.add_typer(cot_app, name="cot")
app.add_typer(agreements_app, name="agreements")


def _tracks() -> Tracks:
    """Each track's check of its rows and audiences against the log, and its replay: the
    only list of them (imported when ``verify`` runs: the other commands need no track)."""
    from fusioncell import bootstrap

    return bootstrap.STATE_CHECKS, bootstrap.REPLAYS


app.command("verify")(verify_command(_tracks))

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="Database URL (default: $FUSIONCELL_DATABASE_URL or a SQLite file)."
    ),
]


ForwardedOption = Annotated[
    str | None,
    typer.Option(
        "--forwarded-allow-ips",
        envvar="FUSIONCELL_FORWARDED_ALLOW_IPS",
        help="Reverse proxies (comma-separated addresses) whose X-Forwarded-For and "
        "X-Forwarded-Proto to believe. By default none: a client's address is the "
        "connection's, which the login back-off counts by.",
    ),
]


CotPortOption = Annotated[
    int | None,
    typer.Option(
        "--cot-port",
        help="Also listen for TAK clients (Cursor-on-Target over TLS, client certificates "
        "from `fusioncell cot enroll`) on this port.",
    ),
]
CotHostOption = Annotated[
    str, typer.Option("--cot-host", help="Address the CoT TLS port listens on.")
]
CotPlainPortOption = Annotated[
    int | None,
    typer.Option(
        "--cot-plain-port",
        help="Plain CoT over TCP on loopback, acting for --cot-plain-member (tests only).",
    ),
]
CotPlainMemberOption = Annotated[
    str | None, typer.Option("--cot-plain-member", help="The member plain CoT acts for.")
]


def _cot_environment(
    port: int | None, host: str, plain_port: int | None, plain_member: str | None
) -> None:
    """The CoT gateway is one of the app's workers: it reads its ports from the environment."""
    if port is not None:
        os.environ["FUSIONCELL_COT_PORT"] = str(port)
        os.environ["FUSIONCELL_COT_HOST"] = host
        out.print(f"TAK clients (CoT over TLS): {host}:{port}")
    if plain_port is not None:
        os.environ["FUSIONCELL_COT_PLAIN_PORT"] = str(plain_port)
        if plain_member:
            os.environ["FUSIONCELL_COT_PLAIN_MEMBER"] = plain_member


class CliError(Exception):
    """A failure to report in one line."""


def _version(value: bool) -> None:
    if value:
        out.print(f"fusioncell {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """fusioncell command line."""


def _settings(database_url: str | None) -> Settings:
    settings = Settings.from_env()
    if database_url:
        settings = replace(settings, database_url=database_url)
    return settings


@contextmanager
def _database(settings: Settings, *, upgrade: bool = True) -> Iterator[tuple[Engine, Session]]:
    # Every track registers its entry types, read permissions and rules sections: the rules
    # document the ledger context binds into each entry is made of them.
    from fusioncell import bootstrap  # noqa: F401

    normalise_url(settings.database_url)
    engine = create_db_engine(settings.database_url)
    try:
        if upgrade:
            migrate.upgrade(engine)
        ledger = build_ledger_context(settings)
        with make_sessionmaker(engine, ledger=ledger)() as db:
            yield engine, db
    finally:
        engine.dispose()


def _console(db: Session) -> Viewer:
    console = console_of_cell(db)
    if console is None:
        raise CliError("this database holds no cell yet: run `fusioncell init` first")
    return console


def _serve(settings: Settings, host: str, port: int, forwarded: str | None) -> None:
    import uvicorn

    from fusioncell.app import create_app

    # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise; a local client
    # could then pick its address for every attempt and escape the login back-off.
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        proxy_headers=forwarded is not None,
        forwarded_allow_ips=forwarded,
    )


@app.command()
def init(
    database_url: DatabaseOption = None,
    admin_username: Annotated[str, typer.Option(help="The operator's username.")] = "admin",
) -> None:
    """Create an empty cell: the supervising organisation and one admin."""
    settings = _settings(database_url)
    clock = SystemClock()
    with _database(settings) as (_engine, db):
        if not is_empty(db):
            raise CliError("this database already holds a cell; nothing was changed")
        password = os.environ.get("FUSIONCELL_ADMIN_PASSWORD") or credentials.generate_password()
        organisation_id = uuid.uuid4()
        console = console_viewer(organisation_id)
        do_create_organisation(
            db,
            console,
            organisation_id=organisation_id,
            slug="SUPERVISOR",
            name="Supervising cell",
            kind=OrganisationKind.SUPERVISOR,
            now=clock.now(),
        )
        do_create_member(
            db,
            console,
            member_id=uuid.uuid4(),
            username=admin_username,
            display_name="Cell operator",
            organisation_slug="SUPERVISOR",
            roles=[Role.ADMIN],
            password=password,
            language=settings.default_language,
            now=clock.now(),
            hash_profile=settings.password_hash_profile,
        )
    out.print(f"Created an empty cell with the admin [bold]{admin_username}[/bold].")
    if "FUSIONCELL_ADMIN_PASSWORD" not in os.environ:
        out.print(f"Admin password (shown once): [bold]{password}[/bold]")


@app.command()
def serve(
    database_url: DatabaseOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    forwarded_allow_ips: ForwardedOption = None,
    cot_port: CotPortOption = None,
    cot_host: CotHostOption = "0.0.0.0",  # noqa: S104 (TAK devices connect with certificates)
    cot_plain_port: CotPlainPortOption = None,
    cot_plain_member: CotPlainMemberOption = None,
) -> None:
    """Serve the cell (migrating the database first)."""
    settings = _settings(database_url)
    _cot_environment(cot_port, cot_host, cot_plain_port, cot_plain_member)
    with _database(settings):
        pass
    _serve(settings, host, port, forwarded_allow_ips)


@app.command()
def demo(
    database_url: DatabaseOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Set up only.")] = False,
    no_witnesses: Annotated[
        bool, typer.Option("--no-witnesses", help="Serve without the parties' witnesses.")
    ] = False,
    forwarded_allow_ips: ForwardedOption = None,
    cot_port: CotPortOption = None,
    cot_host: CotHostOption = "0.0.0.0",  # noqa: S104 (TAK devices connect with certificates)
    cot_plain_port: CotPlainPortOption = None,
    cot_plain_member: CotPlainMemberOption = None,
) -> None:
    """Create the demo cell if the database is empty, then serve it with a witness per party."""
    from fusioncell.scenario.commercial_story import load_commercial_story
    from fusioncell.scenario.deconfliction_story import load_deconfliction_story
    from fusioncell.scenario.deescalation_story import load_deescalation_story
    from fusioncell.scenario.demo import MEMBERS, load_demo
    from fusioncell.scenario.diplomacy_story import STORY_SPAN, load_diplomacy_story
    from fusioncell.scenario.hotline_story import LEAD, load_hotline_story
    from fusioncell.scenario.intel_story import load_intel_story
    from fusioncell.scenario.protection_story import load_protection_story
    from fusioncell.scenario.verification_story import STORY_LEAD, load_verification_story

    settings = _settings(database_url)
    with _database(settings) as (_engine, db):
        fresh = is_empty(db)
        given = os.environ.get("FUSIONCELL_DEMO_PASSWORD")
        password = given or credentials.generate_password()
        if fresh:
            # The hotline's story starts a little over half an hour ago, so that it has
            # happened by now: its deadlines met, missed and escalated. The cell is set up
            # days before, for the diplomatic and the disputes' stories (their comment
            # windows last 72 hours), told one after the other.
            start = SystemClock().now() - LEAD - timedelta(minutes=1)
            set_up = start - STORY_LEAD - STORY_SPAN - timedelta(minutes=20)
            load_demo(
                db,
                password=password,
                now=set_up,
                hash_profile=settings.password_hash_profile,
            )
            load_diplomacy_story(db, start=set_up + timedelta(minutes=1))
            disputes = set_up + STORY_SPAN + timedelta(minutes=10)
            load_verification_story(db, start=disputes, end=start)
            load_commercial_story(db, start=start - timedelta(minutes=45), set_up=set_up)
            load_hotline_story(db, start=start + timedelta(seconds=30))
            load_deescalation_story(db, start=start + timedelta(seconds=30))
            load_intel_story(db, start=start + LEAD + timedelta(seconds=35))
            load_protection_story(db, start=start + LEAD + timedelta(seconds=40))
            load_deconfliction_story(db, start=start + LEAD + timedelta(seconds=50))
    table = Table(title="Demo logins")
    table.add_column("username")
    table.add_column("organisation")
    table.add_column("roles")
    for member in MEMBERS:
        table.add_row(member.username, member.organisation, ", ".join(member.roles))
    out.print(table)
    if fresh and not given:
        out.print(f"Demo password for every login (shown once): [bold]{password}[/bold]")
    elif given:
        out.print("Demo password: the value of FUSIONCELL_DEMO_PASSWORD.")
    else:
        out.print(
            "The demo database already existed; its password was printed when it was created. "
            "Delete the database file to start afresh."
        )
    if no_serve:
        return
    _cot_environment(cot_port, cot_host, cot_plain_port, cot_plain_member)
    if no_witnesses or settings.witnesses:
        if settings.witnesses:
            out.print("Witnesses: those in FUSIONCELL_WITNESSES.")
        out.print(f"Serving on http://{host}:{port}")
        _serve(settings, host, port, forwarded_allow_ips)
        return
    _serve_demo_with_witnesses(settings, host, port, forwarded_allow_ips, fresh=fresh)


def _serve_demo_with_witnesses(
    settings: Settings, host: str, port: int, forwarded: str | None, *, fresh: bool
) -> None:
    """Serve the demo with ALPHA's, BRAVO's and the verifier's witnesses, stopping them after."""
    import signal

    from fusioncell.scenario import witnesses as demo_witnesses

    # uvicorn re-raises SIGTERM once it has shut down; as an exception, it lets `finally` stop
    # the witnesses instead of leaving them running.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    directory = settings.key_dir.parent / "witnesses"
    log_key = build_ledger_context(settings).keyring.log_signer.verifier().key_string()
    # The witnesses reach the cell on loopback when it listens on every address.
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 (no bind)
    try:
        started = demo_witnesses.start(
            directory, log_url=f"http://{local}:{port}", log_key=log_key, fresh_log=fresh
        )
    except (WitnessSetupError, OSError) as exc:
        raise CliError(str(exc)) from None
    try:
        quorum = len(started) if settings.witness_quorum is None else settings.witness_quorum
        settings = replace(
            settings,
            witnesses=demo_witnesses.witnesses_setting(started),
            witness_quorum=quorum,
        )
        table = Table(title=f"Witnesses: a checkpoint counts once {quorum} of them cosign it")
        table.add_column("witness")
        table.add_column("address")
        table.add_column("process")
        for witness in started:
            table.add_row(witness.name, witness.url, str(witness.process.pid))
        out.print(table)
        out.print(f"Their keys, state and logs are in {directory}.")
        out.print(
            "Stop one (kill its process) and the Record page shows the quorum missing; "
            "start it again and it catches up:"
        )
        for witness in started:
            out.print(f"  {demo_witnesses.command_line(witness)}", markup=False)
        out.print(f"Serving on http://{host}:{port}")
        _serve(settings, host, port, forwarded)
    finally:
        demo_witnesses.stop(started)


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="The new member's username.")],
    organisation: Annotated[str, typer.Option("--org", help="Organisation short name.")],
    role: Annotated[list[Role], typer.Option("--role", help="A role; repeat for several.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    language: Annotated[str, typer.Option(help="en, ar or he.")] = "en",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Add a member. The password is read from stdin, or generated and shown once."""
    settings = _settings(database_url)
    given = sys.stdin.readline().rstrip("\n") if password_stdin else None
    password = given or credentials.generate_password()
    with _database(settings) as (_engine, db):
        member = do_create_member(
            db,
            _console(db),
            member_id=uuid.uuid4(),
            username=username,
            display_name=name,
            organisation_slug=organisation,
            roles=role,
            password=password,
            language=language,
            now=SystemClock().now(),
            hash_profile=settings.password_hash_profile,
        )
        roles = ", ".join(sorted(member.roles))
        out.print(f"Added {member.username} ({member.organisation.slug}: {roles}).")
    if given is None:
        out.print(f"Generated password (shown once): [bold]{password}[/bold]")


@users_app.command("list")
def users_list(database_url: DatabaseOption = None) -> None:
    """List the cell's members."""
    settings = _settings(database_url)
    with _database(settings) as (_engine, db):
        table = Table()
        for column in ("username", "organisation", "roles", "status"):
            table.add_column(column)
        for member in list_members(db, _console(db)):
            table.add_row(
                member.username,
                member.organisation.slug,
                ", ".join(sorted(member.roles)),
                "disabled" if member.disabled_at else "active",
            )
        out.print(table)


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="The member to disable.")],
    database_url: DatabaseOption = None,
) -> None:
    """Disable a member and end their sessions and tokens."""
    settings = _settings(database_url)
    with _database(settings) as (_engine, db):
        member = do_disable_member(db, _console(db), username=username, now=SystemClock().now())
        out.print(f"Disabled {member.username}; their sessions and tokens are revoked.")


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseOption = None) -> None:
    """Apply every pending migration."""
    settings = _settings(database_url)
    with _database(settings) as (engine, _db):
        out.print(f"Database at revision {migrate.current_revision(engine)}.")


def run(command: typer.Typer) -> None:
    """Run ``command``; what it could not do is one line on standard error, never a traceback."""
    try:
        command()
    except (CliError, KeyFileError, ClientError) as exc:
        _fail(str(exc))
    except FusioncellError as exc:
        _fail(exc.detail)
    except (OperationalError, DBAPIError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else exc.__class__.__name__
        _fail(f"cannot use the database: {reason}")
    except ArgumentError as exc:
        _fail(f"bad database URL: {exc}", status=2)


def _fail(reason: str, *, status: int = 1) -> NoReturn:
    first = reason.strip().splitlines()[0] if reason.strip() else "failed"
    err.print(f"fusioncell: {first}", markup=False)
    raise SystemExit(status) from None


def main() -> None:
    run(app)


if __name__ == "__main__":
    main()
