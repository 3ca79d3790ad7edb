"""``fusioncell witness``: make a witness key, and run a party's witness for the cell's log.

The log's key is trusted on first use: unless ``--log-key`` names it, ``serve`` fetches it from
the log once and pins it in the state file, and from then on refuses to start if the log offers
another. A changed log key is an event the party should look at, not something a restart absorbs.
"""

from __future__ import annotations

import copy
import fcntl
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from fusioncell.clock import SystemClock
from fusioncell.ledger.checkpoint import Cosigner
from fusioncell.ledger.errors import NoteError
from fusioncell.ledger.note import Ed25519Signer, Ed25519Verifier
from fusioncell.ledger.witness import (
    DEFAULT_BURST,
    DEFAULT_RATE,
    RateLimiter,
    WitnessState,
    WitnessStateError,
    create_witness_app,
)

LOG_KEY_PATH = "/api/v1/log/key"
FETCH_TIMEOUT = 10.0

witness_app = typer.Typer(
    help="A party's witness: cosign the log's checkpoints (C2SP tlog-witness).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class WitnessSetupError(Exception):
    """Why the witness cannot start, in one line."""


@witness_app.command()
def keygen(
    name: Annotated[str, typer.Option(help="Key name, e.g. witness.alpha.example/w1.")],
    out: Annotated[Path, typer.Option(help="Private key file to create (mode 0600).")],
) -> None:
    """Create a witness key and print the verifier key to give the log operator."""
    with _one_line_errors():
        vkey = write_key_file(out, name)
    typer.echo(vkey)


@witness_app.command()
def serve(
    log_url: Annotated[str, typer.Option(help="The log's base URL, for its key.")],
    key: Annotated[Path, typer.Option(help="The witness key file (from `keygen`).")],
    port: Annotated[int, typer.Option(help="TCP port to listen on.")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    state: Annotated[
        Path | None, typer.Option(help="State file (default: <key>.state.json).")
    ] = None,
    log_key: Annotated[
        str | None, typer.Option(help="The log's verifier key, instead of fetching it.")
    ] = None,
    rate: Annotated[
        float, typer.Option(help="add-checkpoint requests a second per client address.")
    ] = DEFAULT_RATE,
    burst: Annotated[int, typer.Option(help="Requests a client address may send at once.")] = (
        DEFAULT_BURST
    ),
) -> None:
    """Serve POST /add-checkpoint for one log until interrupted."""
    import uvicorn

    with _one_line_errors():
        try:
            limiter = RateLimiter(rate=rate, burst=burst)
        except ValueError as error:
            raise WitnessSetupError(f"--rate {rate} --burst {burst}: {error}") from None
        cosigner = read_key_file(key)
        state_path = state if state is not None else default_state_path(key)
        with hold_state_lock(state_path):
            witness_state = WitnessState.load(state_path)
            log_verifier = choose_log_verifier(witness_state, log_url=log_url, log_key=log_key)
            app = create_witness_app(
                cosigner=cosigner,
                log_verifier=log_verifier,
                state=witness_state,
                clock=lambda: int(SystemClock().now().timestamp()),
                limiter=limiter,
            )
            _say(f"witness key {cosigner.verifier().key_string()}")
            _say(f"witnessing {log_verifier.key_string()}; state and evidence in {state_path}")
            uvicorn.run(app, host=host, port=port, log_config=_logging_config())


def default_state_path(key: Path) -> Path:
    return key.with_name(key.name + ".state.json")


def write_key_file(path: Path, name: str) -> str:
    """Create ``path`` holding a new private key; return the cosignature verifier key string."""
    try:
        # Cosigner reads the plain Ed25519 signer-key format, as Go's witnesses do.
        private = Ed25519Signer.generate(name).key_string()
    except NoteError:
        raise WitnessSetupError(f"invalid key name {name!r}") from None
    cosigner = Cosigner.from_key_string(private)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise WitnessSetupError(f"{path} already exists; not overwriting a key") from None
    except OSError as error:
        raise WitnessSetupError(f"cannot create {path}: {error.strerror}") from None
    with os.fdopen(fd, "w") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(private + "\n")
        file.flush()
        os.fsync(file.fileno())
    return cosigner.verifier().key_string()


def read_key_file(path: Path) -> Cosigner:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as error:
        raise WitnessSetupError(f"cannot read key file {path}: {error.strerror}") from None
    with os.fdopen(fd, "rb") as file:
        mode = stat.S_IMODE(os.fstat(file.fileno()).st_mode)
        if mode & 0o077:
            raise WitnessSetupError(
                f"key file {path} is open to group or others (mode {mode:04o}); chmod 600 it"
            )
        raw = file.read()
    try:
        return Cosigner.from_key_string(raw.decode().strip())
    except (UnicodeDecodeError, NoteError):
        raise WitnessSetupError(f"key file {path} does not hold a witness key") from None


def fetch_log_key(log_url: str) -> Ed25519Verifier:
    url = log_url.rstrip("/") + LOG_KEY_PATH
    try:
        response = httpx.get(url, timeout=FETCH_TIMEOUT)
        response.raise_for_status()
        data = response.json()
        vkey, origin = data["verifier_key"], data["origin"]
    except httpx.HTTPError as error:
        raise WitnessSetupError(f"cannot fetch the log key from {url}: {error}") from None
    except (ValueError, KeyError, TypeError):
        raise WitnessSetupError(f"{url} did not answer with the log key JSON") from None
    verifier = _parse_log_key(vkey, url)
    if origin != verifier.name:
        raise WitnessSetupError(f"{url} gives origin {origin!r} for key {verifier.name!r}")
    return verifier


def choose_log_verifier(
    state: WitnessState, *, log_url: str, log_key: str | None
) -> Ed25519Verifier:
    """The log key to trust: the pinned one, pinning what is offered if none is yet."""
    if log_key is not None:
        source, offered = "--log-key", _parse_log_key(log_key, "--log-key")
    else:
        try:
            source, offered = log_url, fetch_log_key(log_url)
        except WitnessSetupError as error:
            if state.log_key is None:
                raise
            _say(f"{error}; using the pinned log key")  # the log may simply be down
            return _parse_log_key(state.log_key, f"the pinned key in {state.path}")
    if state.log_key is None:
        state.pin_log_key(offered.key_string())
        _say(f"pinned log key {offered.key_string()} from {source} in {state.path}")
        return offered
    pinned = _parse_log_key(state.log_key, f"the pinned key in {state.path}")
    if offered.key_string() != pinned.key_string():
        raise WitnessSetupError(
            f"{source} offers log key {offered.key_string()} but {state.path} pins "
            f"{pinned.key_string()}; refusing to start (to trust a new log key, remove "
            "log_key from the state file deliberately)"
        )
    return pinned


@contextmanager
def hold_state_lock(state_path: Path) -> Iterator[None]:
    """Keep a second witness process off the same state, which would undo the lock inside."""
    lock_path = state_path.with_name(state_path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise WitnessSetupError(f"cannot open {lock_path}: {error.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WitnessSetupError(f"another witness is using {state_path}") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _parse_log_key(vkey: object, source: str) -> Ed25519Verifier:
    if not isinstance(vkey, str):
        raise WitnessSetupError(f"{source} does not give a log key string")
    try:
        return Ed25519Verifier.from_key_string(vkey)
    except NoteError as error:
        raise WitnessSetupError(f"{source} does not give a usable log key: {error}") from None


def _logging_config() -> dict[str, Any]:
    """Uvicorn's own logging, with the witness's refusals and cosignatures on the same stream."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["fusioncell"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _say(message: str) -> None:
    typer.echo(f"fusioncell witness: {message}", err=True)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except (WitnessSetupError, WitnessStateError) as error:
        _say(str(error))
        raise typer.Exit(1) from None
    except OSError as error:  # e.g. the state file's directory is not writable
        _say(f"{error.filename or 'error'}: {error.strerror}")
        raise typer.Exit(1) from None
