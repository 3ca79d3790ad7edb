"""``fusioncell hotline``: send, acknowledge and follow hotline messages with your own key.

Every entry is signed on this machine (no custody): ``send`` and ``ack`` build the body the
server will record and sign its hash, so the server can record it only as signed. Nothing a
server says is shown as fact before it is checked: ``ack`` cites a checkpoint whose log
signature it verified and in which it proved the message included; ``tail`` prints a message
only once its entry is proven in a verified checkpoint, and checks each newer checkpoint
extends the one before (a fork shows up as a failed consistency proof).

The log key is the server's own word unless pinned with ``--log-key`` (the verifier key a
party received out of band), as for ``fusioncell verify``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from fusioncell.client import CellClient, ClientError
from fusioncell.client_stream import Follower, follow_once, newest_messages, open_stream
from fusioncell.hotline.labels import channel_label
from fusioncell.ledger.checkpoint import Checkpoint
from fusioncell.ledger.entries import unb64
from fusioncell.ledger.errors import NoteError
from fusioncell.ledger.note import Ed25519Verifier
from fusioncell.own_key import load_key_file

hotline_app = typer.Typer(
    help="The hotline, signed with your own key (it never leaves this machine).",
    no_args_is_help=True,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

Server = Annotated[str, typer.Option(help="The cell's URL, e.g. http://127.0.0.1:8000")]
User = Annotated[str, typer.Option(help="Your username.")]
Key = Annotated[Path, typer.Option(help="Your private key file.")]
LogKey = Annotated[
    str | None,
    typer.Option(
        "--log-key", help="The log's verifier key, received out of band (default: ask the server)."
    ),
]


def _connect(server: str, user: str) -> CellClient:
    """Log in; the password is read from $FUSIONCELL_PASSWORD or asked for."""
    password = os.environ.get("FUSIONCELL_PASSWORD") or typer.prompt("Password", hide_input=True)
    client = CellClient(server)
    client.log_in(user, password)
    return client


def _log_key(client: CellClient, pinned: str | None) -> Ed25519Verifier:
    if pinned is None:
        served = client.log_key()
        err.print(
            f"trusting the log key {client.server} offers; pin it with --log-key "
            f"{served.key_string()}"
        )
        return served
    try:
        return Ed25519Verifier.from_key_string(pinned)
    except NoteError as exc:
        raise ClientError(f"--log-key is not a verifier key: {exc}") from None


def _channel_names(client: CellClient) -> dict[str, str]:
    """The member's channels by id, named as the pages name them for the member."""
    language = str(client.me().get("language") or "en")
    return {
        str(c["id"]): channel_label(c["kind"], c["name"], language)
        for c in client.get("/api/v1/channels")
    }


def _channel_id(client: CellClient, wanted: str) -> uuid.UUID:
    """A channel by id, by its name as the pages show it ("Cell-wide channel", "ALPHA /
    SUPERVISOR"), in the member's language or English, or by its stored name or kind."""
    channels = client.get("/api/v1/channels")
    language = str(client.me().get("language") or "en")
    for channel in channels:
        names = {
            str(channel["name"]),
            channel_label(channel["kind"], channel["name"], language),
            channel_label(channel["kind"], channel["name"], "en"),
        }
        if wanted in {channel["id"], channel["kind"]} or wanted.casefold() in {
            name.casefold() for name in names
        }:
            return uuid.UUID(channel["id"])
    yours = ", ".join(repr(channel_label(c["kind"], c["name"], language)) for c in channels)
    raise ClientError(f"no channel {wanted!r} of yours; yours: {yours or 'none'}")


def _fields(pairs: list[str], given: str | None) -> dict[str, Any]:
    """``--fields`` as a JSON object, then each ``--field name=value`` (a JSON value, or text)."""
    fields: dict[str, Any] = {}
    if given is not None:
        try:
            fields = json.loads(given)
        except ValueError as exc:
            raise ClientError(f"--fields is not JSON: {exc}") from None
        if not isinstance(fields, dict):
            raise ClientError("--fields must be a JSON object")
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise ClientError(f"--field {pair!r}: write name=value")
        try:
            fields[name] = json.loads(value)
        except ValueError:
            fields[name] = value
    return fields


def _attachment(path: Path) -> dict[str, Any]:
    """Attachments travel by hash: the message binds the file's SHA-256, size and name."""
    data = path.read_bytes()
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "name": path.name}


@hotline_app.command("send")
def send(
    server: Server,
    user: User,
    key: Key,
    channel: Annotated[
        str, typer.Option(help='The channel: its id or its name, e.g. "Cell-wide channel".')
    ],
    precedence: Annotated[str, typer.Option(help="FLASH, IMMEDIATE, PRIORITY or ROUTINE.")],
    text: Annotated[str | None, typer.Option(help="A free-text message.")] = None,
    template: Annotated[
        str | None, typer.Option(help="A structured message, e.g. medevac_request.")
    ] = None,
    field: Annotated[
        list[str] | None, typer.Option("--field", help="A template field, name=value; repeat.")
    ] = None,
    fields: Annotated[
        str | None, typer.Option("--fields", help="The template's fields as a JSON object.")
    ] = None,
    attach: Annotated[
        list[Path] | None, typer.Option("--attach", help="A file to bind by hash; repeat.")
    ] = None,
    message_id: Annotated[
        uuid.UUID | None, typer.Option("--id", help="The message id (to retry a send safely).")
    ] = None,
) -> None:
    """Send a message signed with your key; print its id and log index."""
    private = load_key_file(key)
    with _connect(server, user) as client:
        sent = client.send_message(
            private,
            channel_id=_channel_id(client, channel),
            precedence=precedence.upper(),
            text=text,
            template=template,
            fields=_fields(field or [], fields) if template is not None else None,
            attachments=[_attachment(path) for path in attach or []],
            message_id=message_id,
        )
    out.print(
        f"sent {sent['id']} as entry {sent['log_index']} ({sent['precedence']}; delivered by "
        f"{sent['delivered_deadline']}, acknowledged by {sent['ack_deadline']})"
    )


def _checkpoint_with(
    client: CellClient, log_key: Ed25519Verifier, index: int, *, wait: float
) -> Checkpoint:
    """A verified checkpoint that includes entry ``index``; the log signs one every second."""
    deadline = time.monotonic() + wait
    while True:
        checkpoint = client.verified_checkpoint(log_key)
        if checkpoint.size > index:
            return checkpoint
        if time.monotonic() >= deadline:
            raise ClientError(
                f"no checkpoint includes entry {index} yet (the latest has {checkpoint.size}); "
                "retry in a moment"
            )
        time.sleep(0.25)


@hotline_app.command("ack")
def ack(
    message_id: Annotated[uuid.UUID, typer.Argument(help="The message to acknowledge.")],
    server: Server,
    user: User,
    key: Key,
    log_key: LogKey = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for a checkpoint that includes the message.")
    ] = 30.0,
    ack_id: Annotated[
        uuid.UUID | None, typer.Option("--id", help="The acknowledgement's id (to retry safely).")
    ] = None,
) -> None:
    """Acknowledge receipt (not approval) of a message, citing the checkpoint you verified."""
    private = load_key_file(key)
    with _connect(server, user) as client:
        verifier = _log_key(client, log_key)
        message = client.get(f"/api/v1/messages/{message_id}")
        index = int(message["log_index"])
        checkpoint = _checkpoint_with(client, verifier, index, wait=wait)
        client.check_inclusion(checkpoint, index=index, leaf_hash=unb64(message["leaf_hash"]))
        acked = client.acknowledge_message(private, message, checkpoint, ack_id=ack_id)
    note = "" if acked["counts"] else " (recorded; your organisation had already acknowledged)"
    out.print(
        f"acknowledged {message_id} as entry {acked['log_index']}, citing checkpoint "
        f"{checkpoint.size}{note}"
    )


# -- tail ----------------------------------------------------------------------------------


@hotline_app.command("tail")
def tail(
    server: Server,
    user: User,
    log_key: LogKey = None,
    count: Annotated[
        int,
        typer.Option(
            help="Stop after this many lines: messages, acknowledgements and escalations "
            "(0: follow until stopped)."
        ),
    ] = 0,
    timeout: Annotated[float, typer.Option(help="Stop after this many seconds (0: never).")] = 0,
    last: Annotated[int, typer.Option(help="Messages from before to print first.")] = 10,
    poll: Annotated[
        bool, typer.Option("--poll", help="Poll the channels instead of the live stream.")
    ] = False,
    channel: Annotated[
        list[str] | None, typer.Option(help="Only this channel (id or name); repeat for several.")
    ] = None,
) -> None:
    """Follow your channels as things happen: each message with its deadlines, each
    acknowledgement (in time or late) and each escalation (a deadline missed), printed once
    its entry is proven in the log."""
    with _connect(server, user) as client:
        names = _channel_names(client)
        if channel:
            wanted = {str(_channel_id(client, each)) for each in channel}
            names = {i: n for i, n in names.items() if i in wanted}
        _tail(client, log_key, names, count=count, timeout=timeout, last=last, poll=poll)


def _tail(
    client: CellClient,
    log_key: str | None,
    channels: dict[str, str],
    *,
    count: int,
    timeout: float,
    last: int,
    poll: bool,
) -> None:
    organisations = {str(o["id"]): o["slug"] for o in client.get("/api/v1/organisations")}
    follower = Follower(
        client,
        _log_key(client, log_key),
        lambda line: out.print(escape(line)),
        channels=channels,
        organisations=organisations,
        limit=count,
    )
    reader = None if poll else open_stream(client)
    if not poll and reader is None:
        err.print("the server offers no event stream; polling the channels instead")
    deadline = time.monotonic() + timeout if timeout > 0 else None
    try:
        # The stream is open before the backlog is read, so nothing falls between the two.
        backlog = newest_messages(client, follower.channels, follower.seen, max(last, 1))
        shown = backlog[-last:] if last > 0 else []
        for message in backlog[: len(backlog) - len(shown)]:
            follower.skip(message)
        for message in shown:
            follower.receive(message)
        how = "polling" if reader is None else "live"
        err.print(f"following {len(follower.channels)} channels ({how}); Ctrl-C to stop")
        while not follower.done:
            if deadline is not None and time.monotonic() >= deadline:
                if count:
                    raise ClientError(
                        f"timed out after {timeout:g} s with {follower.printed} of {count} lines"
                    )
                return
            follow_once(client, follower, reader, note=lambda text: err.print(text, markup=False))
    finally:
        if reader is not None:
            reader.close()


def main() -> None:
    """``python -m fusioncell.hotline.cli``: ``fusioncell hotline``, failing as it does."""
    from fusioncell.cli import run

    run(hotline_app)


if __name__ == "__main__":
    main()
