"""Following a member's channels: the live event stream and the follower that proves each message.

``StreamReader`` reads ``/api/v1/stream`` (Server-Sent Events) on a thread, resuming with
``Last-Event-ID`` after a drop; ``Follower`` shows a message only once its entry is proven in a
verified checkpoint, and checks each newer checkpoint extends the one before. ``fusioncell hotline
tail`` uses them, and so can scripts.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from fusioncell.client import CellClient, ClientError
from fusioncell.ledger.entries import log_time
from fusioncell.ledger.note import Ed25519Verifier


@dataclass(frozen=True)
class SseEvent:
    id: str | None
    event: str
    data: str


def parse_sse(lines: Iterable[str]) -> Iterator[SseEvent]:
    """Server-Sent Events from text lines (the WHATWG event-stream format)."""
    event_id: str | None = None
    kind = ""
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield SseEvent(event_id, kind or "message", "\n".join(data))
            kind, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _colon, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            kind = value
        elif name == "id":
            event_id = value


class StreamReader(threading.Thread):
    """Reads ``/api/v1/stream`` into a queue, resuming with ``Last-Event-ID`` after a drop.

    Puts ``("open", None)`` once connected, ``("missing", None)`` if the server has no stream,
    then ``("event", SseEvent)`` for each event."""

    def __init__(self, client: CellClient) -> None:
        super().__init__(name="hotline-tail", daemon=True)
        self.events: queue.Queue[tuple[str, SseEvent | None]] = queue.Queue()
        self.stop = threading.Event()
        self._http = httpx.Client(
            base_url=client.server,
            headers={"Authorization": f"Bearer {client.token}", "Accept": "text/event-stream"},
            timeout=httpx.Timeout(10.0, read=60.0),
        )
        self._last: str | None = None

    def run(self) -> None:
        opened = False
        while not self.stop.is_set():
            headers = {"Last-Event-ID": self._last} if self._last else {}
            try:
                with self._http.stream("GET", "/api/v1/stream", headers=headers) as response:
                    if response.status_code == 404:
                        self.events.put(("missing", None))
                        return
                    response.raise_for_status()
                    if not opened:
                        opened = True
                        self.events.put(("open", None))
                    for event in parse_sse(response.iter_lines()):
                        self._last = event.id or self._last
                        self.events.put(("event", event))
                        if self.stop.is_set():
                            return
            except Exception:  # a dropped stream: resume where it stopped
                if not opened:
                    self.events.put(("missing", None))
                    return
            self.stop.wait(1.0)

    def close(self) -> None:
        self.stop.set()
        self._http.close()


class Follower:
    """Prints each message once its entry is proven in a verified checkpoint."""

    def __init__(
        self,
        client: CellClient,
        log_key: Ed25519Verifier,
        emit: Callable[[str], None],
        *,
        channels: dict[str, str],
    ) -> None:
        self.client = client
        self.log_key = log_key
        self.emit = emit
        self.checkpoint = client.verified_checkpoint(log_key)
        self.channels = channels
        self.seen: set[str] = set()
        self.pending: dict[str, dict[str, Any]] = {}
        self.printed = 0

    def receive(self, message: dict[str, Any]) -> None:
        if message["id"] in self.seen or str(message["channel_id"]) not in self.channels:
            return
        self.seen.add(message["id"])
        self.pending[message["id"]] = message
        self.release()

    def refresh(self) -> None:
        """Take a newer checkpoint if one is signed: consistent with ours, or an error."""
        if not self.pending:
            return
        newer = self.client.verified_checkpoint(self.log_key)
        if newer.size < self.checkpoint.size:
            raise ClientError(
                f"the server went back from checkpoint {self.checkpoint.size} to {newer.size}"
            )
        self.client.check_consistency(self.checkpoint, newer)
        self.checkpoint = newer
        self.release()

    def release(self) -> None:
        ready = [m for m in self.pending.values() if int(m["log_index"]) < self.checkpoint.size]
        for message in sorted(ready, key=lambda m: int(m["log_index"])):
            del self.pending[message["id"]]
            self._show(message)

    def _show(self, message: dict[str, Any]) -> None:
        logged_at = self.client.check_message(self.checkpoint, message)
        sender = message.get("sender") or "the cell"
        channel = self.channels.get(str(message["channel_id"]), str(message["channel_id"]))
        title = f"{message['title']}: " if message.get("title") else ""
        self.emit(
            f"{log_time(logged_at)} {message['precedence']} [{channel}] "
            f"{sender} ({message['sender_organisation']}): {title}{message['rendered']}  "
            f"(verified: entry {message['log_index']} in checkpoint {self.checkpoint.size}; "
            f"id {message['id']})"
        )
        self.printed += 1


def newest_messages(
    client: CellClient, channels: Iterable[str], seen: set[str], limit: int
) -> list[Any]:
    """Messages not yet seen, in log order, paging back until a seen one (or ``limit``)."""
    found: dict[str, Any] = {}
    for channel in channels:
        before: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100}
            if before is not None:
                params["before"] = before
            page = client.get(f"/api/v1/channels/{channel}/messages", params=params)
            fresh = [m for m in page if m["id"] not in seen]
            found.update((m["id"], m) for m in fresh)
            if len(fresh) < len(page) or len(page) < 100 or len(found) >= limit:
                break
            before = page[-1]["id"]
    return sorted(found.values(), key=lambda m: int(m["log_index"]))


def open_stream(client: CellClient) -> StreamReader | None:
    """A reader on the live stream once it is open; ``None`` if the server offers none."""
    reader = StreamReader(client)
    reader.start()
    try:
        signal, _event = reader.events.get(timeout=30)
    except queue.Empty:
        signal = "missing"
    if signal == "open":
        return reader
    reader.close()
    return None


def follow_once(client: CellClient, follower: Follower, reader: StreamReader | None) -> None:
    """Take what arrived in about a second (from the stream, or by polling), then refresh."""
    if reader is None:
        time.sleep(1.0)
        for message in newest_messages(client, follower.channels, follower.seen, 1000):
            follower.receive(message)
    else:
        try:
            kind, event = reader.events.get(timeout=1.0)
        except queue.Empty:
            kind, event = "idle", None
        if kind == "event" and event is not None and event.event == "message":
            data = json.loads(event.data)
            message = data.get("detail") or client.get(f"/api/v1/messages/{data['message']}")
            follower.receive(message)
    follower.refresh()
