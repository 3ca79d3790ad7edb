"""``fusioncell taxii``: bring a medallion server's collections over."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fusioncell.clock import SystemClock
from fusioncell.config import Settings
from fusioncell.errors import InvalidInput

taxii_app = typer.Typer(help="The TAXII 2.1 server's data.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)


def reserved_segments() -> frozenset[str]:
    """The first path segments the app serves: an imported API root may take none of them."""
    from fusioncell import bootstrap
    from fusioncell.live import stream
    from fusioncell.web import views

    routers = (*bootstrap.API_ROUTERS, stream.router, views.router, *bootstrap.PAGE_ROUTERS)
    segments = {
        path.strip("/").split("/")[0]
        for router in routers
        for route in router.routes
        if (path := getattr(route, "path", "")) and not path.startswith("/{")
    }
    return frozenset(segments | {"static", "api", "taxii2"})


@taxii_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A medallion memory-backend data file (JSON).")],
    replace_: Annotated[
        bool,
        typer.Option("--replace", help="Drop what an earlier import brought over first."),
    ] = False,
    members: Annotated[
        str,
        typer.Option(
            "--members",
            help="Comma-separated usernames given each collection's can_read/can_write.",
        ),
    ] = "",
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Database URL.")
    ] = None,
) -> None:
    """Import a medallion server's discovery, API roots (served at the paths the file gives
    them), collections, objects (with their date_added) and status resources."""
    from fusioncell.cell.queries import console_of_cell
    from fusioncell.db import migrate
    from fusioncell.db.engine import create_db_engine, make_sessionmaker
    from fusioncell.intel.taxii.actions.medallion import do_import_medallion
    from fusioncell.ledger.context import build_ledger_context

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}") from None
    except ValueError as exc:
        raise InvalidInput(f"{file} is not JSON: {exc}") from None
    settings = Settings.from_env()
    if database_url:
        settings = replace(settings, database_url=database_url)
    engine = create_db_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
        with make_sessionmaker(engine, ledger=build_ledger_context(settings))() as db:
            console = console_of_cell(db)
            if console is None:
                raise InvalidInput("this database holds no cell yet: run `fusioncell init` first")
            done = do_import_medallion(
                db,
                console,
                data=data,
                members=[m.strip() for m in members.split(",") if m.strip()],
                replace=replace_,
                reserved=reserved_segments(),
                now=SystemClock().now(),
            )
    finally:
        engine.dispose()
    out.print(
        f"Imported {done.collections} collections with {done.objects} object versions and "
        f"{done.statuses} status resources into API roots "
        + (", ".join(f"/{root}/" for root in done.roots) or "(none)")
        + (f"; granted to {', '.join(done.members)}." if done.members else "; granted to nobody.")
    )
