"""``fusioncell verify``: check a cell's log, from its database or from its public endpoints.

Exit status: 0 when every check holds, 1 when one fails (the line names the first entry at
fault), 2 when the log cannot be read at all (bad URL, server or database unreachable, no key).
Over ``--url`` without ``--log-key`` the server's own word for its key is taken, which proves
only that the log is consistent with itself: pin the key a party received out of band.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated

import httpx
import typer

from fusioncell.config import Settings
from fusioncell.ledger.checkpoint import CosignatureVerifier
from fusioncell.ledger.errors import NoteError
from fusioncell.ledger.keyring import LOG_KEY_FILE
from fusioncell.ledger.note import Ed25519Signer, Ed25519Verifier
from fusioncell.ledger.verify import (
    DatabaseSource,
    HttpSource,
    LogSource,
    SourceError,
    StateCheck,
    verify_log,
)
from fusioncell.ledger.verify.replay import ReplayFactory

LOG_KEY_PATH = "/api/v1/log/key"
TIMEOUT_SECONDS = 30.0
PREFIX = "fusioncell verify"


class SetupError(Exception):
    """Why verification cannot start, in one line."""


Tracks = tuple[Sequence[StateCheck], Sequence[ReplayFactory]]


def verify_command(tracks: Callable[[], Tracks]) -> Callable[..., None]:
    """The command, checking a database's served state with the tracks' state checks and
    replaying the log with their replays: ``tracks()`` gives both, called only when the
    command runs, so the other commands do not import every track."""

    def verify(
        url: Annotated[
            str | None,
            typer.Option("--url", help="The cell's base URL: check what it serves publicly."),
        ] = None,
        database_url: Annotated[
            str | None,
            typer.Option(
                "--database-url",
                help="Check a database directly (default: $FUSIONCELL_DATABASE_URL or the "
                "SQLite file), its served rows and audiences included.",
            ),
        ] = None,
        log_key: Annotated[
            str | None,
            typer.Option(
                "--log-key",
                help="The log's verifier key (default: asked of --url, or read from the key dir).",
            ),
        ] = None,
        witness: Annotated[
            list[str] | None,
            typer.Option("--witness", help="A witness's verifier key; repeat for several."),
        ] = None,
        quorum: Annotated[
            int | None,
            typer.Option(help="How many of the witnesses must have cosigned (default: all)."),
        ] = None,
    ) -> None:
        """Check the log: checkpoint, tree, every signature, the key history and the bodies;
        from a database, also every served row and audience against the bodies."""
        state_checks, replays = tracks()
        _run(url, database_url, log_key, witness, quorum, state_checks, replays)

    return verify


def _run(
    url: str | None,
    database_url: str | None,
    log_key: str | None,
    witness: list[str] | None,
    quorum: int | None,
    state_checks: Sequence[StateCheck],
    replays: Sequence[ReplayFactory],
) -> None:
    try:
        witnesses = [_witness_key(text) for text in witness or []]
        if quorum is not None and quorum < 0:
            raise SetupError("--quorum must not be negative")
        if quorum is not None and quorum > len(witnesses):
            raise SetupError(f"--quorum {quorum} exceeds the {len(witnesses)} --witness keys given")
        with _open_source(url, database_url) as (source, client):
            verifier = _log_key(log_key, url, client)
            report = verify_log(
                source,
                log_key=verifier,
                witnesses=witnesses,
                quorum=quorum,
                state_checks=state_checks,
                replays=replays,
            )
    except (SetupError, SourceError) as exc:
        typer.echo(f"{PREFIX}: {exc}", err=True)
        raise typer.Exit(2) from None
    if not report.ok:
        typer.echo(f"{PREFIX}: {report.summary()}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{PREFIX}: {report.summary()}")


@contextmanager
def _open_source(
    url: str | None, database_url: str | None
) -> Iterator[tuple[LogSource, httpx.Client | None]]:
    if url is not None and database_url is not None:
        raise SetupError("give --url or --database-url, not both")
    if url is not None:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
            yield HttpSource(url, client), client
        return
    with DatabaseSource(database_url or Settings.from_env().database_url) as source:
        yield source, None


def _log_key(given: str | None, url: str | None, client: httpx.Client | None) -> Ed25519Verifier:
    if given is not None:
        return _parse_log_key(given, "--log-key")
    if url is not None and client is not None:
        verifier = _fetch_log_key(url, client)
        typer.echo(
            f"{PREFIX}: trusting the log key {url} offers; pin it with --log-key "
            f"{verifier.key_string()}",
            err=True,
        )
        return verifier
    return _deployment_log_key()


def _fetch_log_key(url: str, client: httpx.Client) -> Ed25519Verifier:
    address = url.rstrip("/") + LOG_KEY_PATH
    try:
        response = client.get(address)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise SetupError(f"bad URL {url!r}: {exc}") from None
    except httpx.HTTPError as exc:
        raise SetupError(f"cannot reach {address}: {exc}") from None
    try:
        response.raise_for_status()
        offer = response.json()
        vkey, origin = offer["verifier_key"], offer["origin"]
    except (httpx.HTTPStatusError, ValueError, KeyError, TypeError):
        raise SetupError(f"{address} did not answer with the log's key") from None
    verifier = _parse_log_key(vkey, address)
    if origin != verifier.name:
        raise SetupError(f"{address} gives origin {origin!r} for a key of {verifier.name!r}")
    return verifier


def _deployment_log_key() -> Ed25519Verifier:
    """The log key from the deployment's key dir: whoever holds the database holds it too."""
    path = Settings.from_env().key_dir / LOG_KEY_FILE
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise SetupError(
            f"cannot read the log key {path} ({exc.strerror}): pass --log-key, or set "
            "FUSIONCELL_KEY_DIR"
        ) from None
    try:
        return Ed25519Signer.from_key_string(text).verifier()
    except NoteError as exc:
        raise SetupError(f"{path} does not hold a log key: {exc}") from None


def _parse_log_key(text: object, source: str) -> Ed25519Verifier:
    if not isinstance(text, str):
        raise SetupError(f"{source} does not give a log key")
    try:
        return Ed25519Verifier.from_key_string(text)
    except NoteError as exc:
        raise SetupError(f"{source} is not a usable log key: {exc}") from None


def _witness_key(text: str) -> CosignatureVerifier:
    try:
        return CosignatureVerifier.from_key_string(text)
    except NoteError as exc:
        raise SetupError(f"--witness {text!r} is not a witness key: {exc}") from None
