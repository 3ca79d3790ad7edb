"""``fusioncell keys``: a member's own signing key, generated and kept on their machine."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fusioncell.client import CellClient
from fusioncell.ledger.entries import b64, key_id
from fusioncell.ledger.keyring import KeyFileError
from fusioncell.own_key import generate_key_file, load_key_file, public_key_of

keys_app = typer.Typer(
    help="Your own signing key (it never leaves this machine).", no_args_is_help=True
)
out = Console(highlight=False, soft_wrap=True)


@keys_app.command("generate")
def generate(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the private key (0600).")],
) -> None:
    """Generate an Ed25519 key pair; print the public key and its id."""
    if out_file.exists():
        raise KeyFileError(f"the key file {out_file} exists; refusing to overwrite a key")
    private = generate_key_file(out_file)
    public = public_key_of(private)
    out.print(f"key {key_id(public)} public {b64(public)} written to {out_file} (mode 0600)")


@keys_app.command("enroll")
def enroll(
    server: Annotated[str, typer.Option(help="The cell's URL, e.g. http://127.0.0.1:8000")],
    user: Annotated[str, typer.Option(help="Your username.")],
    key: Annotated[Path, typer.Option(help="Your private key file.")],
) -> None:
    """Enrol your public key, proving possession by signing the enrolment with it.

    The password is read from $FUSIONCELL_PASSWORD or asked for.
    """
    private = load_key_file(key)
    password = os.environ.get("FUSIONCELL_PASSWORD") or typer.prompt("Password", hide_input=True)
    with CellClient(server) as client:
        client.log_in(user, password)
        enrolled = client.enroll(private)
    out.print(f"enrolled key {enrolled['key_id']} at log entry {enrolled['enrolled_index']}")
