"""``fusioncell agreements sign``: a member signs an agreement version's content hash with
their own key (it never leaves this machine). The command reads the version, recomputes the
hash of the content it was served (RFC 8785, SHA-256) and refuses to sign when that differs
from the hash the server states, or from the hash the member says they read (``--hash``)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console

from fusioncell.client import CellClient, ClientError
from fusioncell.diplomacy.content import content_hash, signature_body
from fusioncell.diplomacy.entries import DiplomacyEntry
from fusioncell.ledger.keyring import KeyFileError
from fusioncell.own_key import load_key_file

agreements_app = typer.Typer(
    help="Agreements, signed with your own key (it never leaves this machine).",
    no_args_is_help=True,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

Server = Annotated[str, typer.Option(help="The cell's URL, e.g. http://127.0.0.1:8000")]
User = Annotated[str, typer.Option(help="Your username.")]
Key = Annotated[Path, typer.Option(help="Your private key file.")]


class SignRefused(Exception):
    """The version served is not the one the member means to sign."""


def sign_version(
    client: CellClient,
    private: Ed25519PrivateKey,
    agreement_id: uuid.UUID,
    *,
    number: int | None = None,
    expected: str | None = None,
) -> dict[str, Any]:
    """Sign version ``number`` (default: the latest) of the agreement; the signature's entry
    is signed here by ``private``. Returns the signature as the server records it."""
    agreement = client.get(f"/api/v1/agreements/{agreement_id}")
    versions = {v["number"]: v for v in agreement["versions"]}
    version = versions.get(number if number is not None else max(versions))
    if version is None:
        raise SignRefused(f"agreement {agreement_id} has no version {number}")
    digest = content_hash(version["content"])
    if digest != version["content_hash"]:
        raise SignRefused(
            f"the content served hashes to {digest}, not to the {version['content_hash']} "
            "the server states: nothing was signed"
        )
    if expected is not None and expected != digest:
        raise SignRefused(
            f"version {version['number']} hashes to {digest}, not to the {expected} you read: "
            "nothing was signed"
        )
    me = client.me()
    body = signature_body(
        agreement_id=agreement_id,
        version_id=version["id"],
        number=version["number"],
        digest=digest,
        organisation=me["organisation"]["slug"],
        member_id=me["id"],
        readers=agreement["released_to"],
    )
    signed: dict[str, Any] = client.signed(
        "POST",
        f"/api/v1/agreements/{agreement_id}/versions/{version['number']}/signatures",
        private,
        entry_type=DiplomacyEntry.VERSION_SIGNED.value,
        body=body,
        json={"content_hash": digest},
    )
    return signed


@agreements_app.command("sign")
def sign(
    agreement: Annotated[uuid.UUID, typer.Argument(help="The agreement's id.")],
    server: Server,
    user: User,
    key: Key,
    version: Annotated[
        int | None, typer.Option(help="The version's number (default: the latest).")
    ] = None,
    expected: Annotated[
        str | None,
        typer.Option("--hash", help="The content hash you read; refused if it differs."),
    ] = None,
) -> None:
    """Sign an agreement version's content hash with your key; print the entry's index."""
    try:
        private = load_key_file(key)
        password = os.environ.get("FUSIONCELL_PASSWORD") or typer.prompt(
            "Password", hide_input=True
        )
        with CellClient(server) as client:
            client.log_in(user, password)
            signed = sign_version(client, private, agreement, number=version, expected=expected)
    except (KeyFileError, ClientError, SignRefused) as exc:
        err.print(f"fusioncell agreements sign: {exc}")
        raise typer.Exit(1) from None
    out.print(
        f"signed {signed['content_hash']} for {signed['organisation']} as entry "
        f"{signed['log_index']}"
    )
