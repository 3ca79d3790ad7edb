"""``fusioncell cot``: enrol a member's TAK client, revoke it, list certificates.

The track is imported inside each command: the ``fusioncell`` command starts without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

cot_app = typer.Typer(
    help="Cursor-on-Target: certificates for members' TAK clients.", no_args_is_help=True
)

DEFAULT_PORT = 8089


@cot_app.command("enroll")
def enroll(
    username: Annotated[str, typer.Argument(help="The member whose TAK client this is.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the files into.")],
    host: Annotated[
        str, typer.Option(help="The address TAK clients reach the gateway at.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The gateway's TLS port (--cot-port).")] = DEFAULT_PORT,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Database URL.")
    ] = None,
) -> None:
    """Issue a client certificate from the cell's CA and write it with a TAK data package."""
    from fusioncell.cli import _console, _database, _settings
    from fusioncell.cli import out as console_out
    from fusioncell.clock import SystemClock
    from fusioncell.cot import ca
    from fusioncell.cot.actions.certificates import do_issue_certificate
    from fusioncell.cot.package import write_enrolment

    settings = _settings(database_url)
    now = SystemClock().now()
    authority = ca.load_or_create_authority(settings.key_dir, cell=settings.cell, now=now)
    with _database(settings) as (_engine, db):
        enrolment = do_issue_certificate(
            db, _console(db), username=username, authority=authority, now=now
        )
    written = write_enrolment(
        out,
        username=enrolment.member.username,
        issued=enrolment.issued,
        authority=authority,
        host=host,
        port=port,
    )
    console_out.print(
        f"Issued certificate {enrolment.issued.serial} to {enrolment.member.username} "
        f"(entry {enrolment.row.log_index})."
    )
    console_out.print(f"  key:          {written.key}", markup=False)
    console_out.print(f"  certificate:  {written.certificate}", markup=False)
    console_out.print(f"  CA:           {written.ca}", markup=False)
    console_out.print(f"  data package: {written.package} (for {host}:{port})", markup=False)
    console_out.print(
        f"PKCS#12 password (shown once): [bold]{written.password}[/bold]", highlight=False
    )


@cot_app.command("revoke")
def revoke(
    username: Annotated[str, typer.Argument(help="The member whose certificates to revoke.")],
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Database URL.")
    ] = None,
) -> None:
    """Revoke every certificate of the member: their clients are refused and disconnected."""
    from fusioncell.cli import _console, _database, _settings
    from fusioncell.cli import out as console_out
    from fusioncell.clock import SystemClock
    from fusioncell.cot.actions.certificates import do_revoke_certificates

    settings = _settings(database_url)
    with _database(settings) as (_engine, db):
        revoked = do_revoke_certificates(
            db, _console(db), username=username, now=SystemClock().now()
        )
        serials = ", ".join(row.serial for row in revoked)
    console_out.print(f"Revoked {len(revoked)} certificate(s) of {username}: {serials}.")
