"""Following a member's channels: the live event stream, and the follower that proves what
happens on them before showing it.

``StreamReader`` reads ``/api/v1/stream`` (Server-Sent Events) on a thread, resuming with
``Last-Event-ID`` after a drop. ``Follower`` shows messages (with their deadlines),
acknowledgements (in time or late) and escalations (a deadline missed), each only once its
entry is proven in a verified checkpoint, and checks each newer checkpoint extends the one
before. ``fusioncell hotline tail`` uses them, and so can scripts.
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
from fusioncell.client_lines import Shown, ack_line, escalation_line, message_line
from fusioncell.hotline.entries import HotlineEntry
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

    Puts ``("open", None)`` each time it is connected, ``("dropped", None)`` when an open stream
    breaks, ``("missing", None)`` if the server has no stream (or none could be opened at
    first), ``("refused", None)`` if the server refuses the credential, and
    ``("event", SseEvent)`` for each event."""

    def __init__(self, client: CellClient) -> None:
        super().__init__(name="hotline-tail", daemon=True)
        self.events: queue.Queue[tuple[str, SseEvent | None]] = queue.Queue()
        self.stop = threading.Event()
        self._http = httpx.Client(
            base_url=client.server,
            headers={"Authorization": f"Bearer {client.token}", "Accept": "text/event-stream"},
            timeout=httpx.Timeout(10.0, read=60.0),
        )
        self.last_event_id: str | None = None

    def run(self) -> None:
        opened = False
        while not self.stop.is_set():
            headers = {"Last-Event-ID": self.last_event_id} if self.last_event_id else {}
            connected = False
            try:
                with self._http.stream("GET", "/api/v1/stream", headers=headers) as response:
                    if response.status_code == 404:
                        self.events.put(("missing", None))
                        return
                    if response.status_code in (401, 403):  # the credential no longer holds
                        self.events.put(("refused", None))
                        return
                    response.raise_for_status()
                    opened = connected = True
                    self.events.put(("open", None))
                    for event in parse_sse(response.iter_lines()):
                        self.last_event_id = event.id or self.last_event_id
                        self.events.put(("event", event))
                        if self.stop.is_set():
                            return
            except Exception:  # a dropped stream: resume where it stopped
                if not opened:
                    self.events.put(("missing", None))
                    return
            if connected and not self.stop.is_set():
                self.events.put(("dropped", None))
            self.stop.wait(1.0)

    def close(self) -> None:
        self.stop.set()
        self._http.close()


@dataclass(frozen=True)
class _Pending:
    """Something to show once its entry is in a verified checkpoint."""

    log_index: int
    kind: str  # "message", "ack" or "escalation"
    message: dict[str, Any]
    record: dict[str, Any] | None = None  # the acknowledgement or escalation, as served


class Follower:
    """Shows each message, acknowledgement and escalation once its entry is proven in a
    verified checkpoint, in log order.

    ``channels`` maps the channels followed (by id) to their names as the pages show them;
    ``organisations`` maps organisation ids to their short names. ``limit``: stop showing after
    this many lines (0: never)."""

    def __init__(
        self,
        client: CellClient,
        log_key: Ed25519Verifier,
        emit: Callable[[str], None],
        *,
        channels: dict[str, str],
        organisations: dict[str, str],
        limit: int = 0,
    ) -> None:
        self.client = client
        self.log_key = log_key
        self.emit = emit
        self.checkpoint = client.verified_checkpoint(log_key)
        self.channels = channels
        self.organisations = organisations
        self.limit = limit
        self.seen: set[str] = set()  # message ids
        self._seen_records: set[str] = set()
        self.pending: dict[str, _Pending] = {}
        self.printed = 0

    @property
    def done(self) -> bool:
        return bool(self.limit) and self.printed >= self.limit

    def follows(self, message: dict[str, Any]) -> bool:
        return str(message["channel_id"]) in self.channels

    def receive(self, message: dict[str, Any], *, show_message: bool = True) -> None:
        """Take a message as the API serves it, with whatever state it carries: a message not
        seen yet (unless ``show_message`` is false: an earlier one, whose news this is), and
        acknowledgements and escalations not seen yet, wait for their proof."""
        if not self.follows(message):
            return
        if message["id"] not in self.seen:
            self.seen.add(message["id"])
            if show_message:
                self._wait_for(_Pending(int(message["log_index"]), "message", message))
        for kind, key, record in _records(message):
            if key not in self._seen_records:
                self._seen_records.add(key)
                self._wait_for(_Pending(int(record["log_index"]), kind, message, record))
        self.release()

    def skip(self, message: dict[str, Any]) -> None:
        """Take a message, its acknowledgements and escalations as already shown."""
        self.seen.add(message["id"])
        self._seen_records.update(key for _kind, key, _record in _records(message))

    def _wait_for(self, item: _Pending) -> None:
        self.pending[f"{item.kind}:{item.log_index}"] = item

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
        ready = [item for item in self.pending.values() if item.log_index < self.checkpoint.size]
        for item in sorted(ready, key=lambda item: item.log_index):
            if self.done:
                return
            del self.pending[f"{item.kind}:{item.log_index}"]
            self.emit(self._prove(item))
            self.printed += 1

    def _prove(self, item: _Pending) -> str:
        message, record = item.message, item.record
        shown = Shown(
            checkpoint=self.checkpoint.size,
            channel=self.channels.get(str(message["channel_id"]), str(message["channel_id"])),
        )
        if record is None:
            return message_line(message, self.client.check_message(self.checkpoint, message), shown)
        slugs = {slug: organisation for organisation, slug in self.organisations.items()}
        organisation = slugs.get(record["organisation"])
        if item.kind == "ack":
            logged_at = self.client.check_entry(
                self.checkpoint,
                item.log_index,
                entry_type=HotlineEntry.MESSAGE_ACKNOWLEDGED.value,
                expected={
                    "ack": record["id"],
                    "message": message["id"],
                    "organisation": organisation,
                },
                noun="acknowledgement",
                name=str(record["id"]),
            )
            return ack_line(message, record, logged_at, shown)
        logged_at = self.client.check_entry(
            self.checkpoint,
            item.log_index,
            entry_type=HotlineEntry.ESCALATION.value,
            expected={
                "message": message["id"],
                "organisation": organisation,
                "step": record["step"],
            },
            noun="escalation",
            name=f"step {record['step']} of message {message['id']}",
        )
        return escalation_line(message, record, logged_at, shown)


def _records(message: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """A served message's acknowledgements and escalations, each with a key of its own."""
    for ack in message.get("acks") or []:
        yield "ack", f"ack:{ack['id']}", ack
    for escalation in message.get("escalations") or []:
        key = f"escalation:{message['id']}:{escalation['organisation']}:{escalation['step']}"
        yield "escalation", key, escalation


def channel_messages(
    client: CellClient, channels: Iterable[str], seen: set[str], limit: int
) -> list[Any]:
    """Each channel's newest page of messages (with their state), and older pages back to a
    seen message (or ``limit``), in log order."""
    found: dict[str, Any] = {}
    for channel in channels:
        before: str | None = None
        fetched = 0
        while True:
            params: dict[str, Any] = {"limit": 100}
            if before is not None:
                params["before"] = before
            page = client.get(f"/api/v1/channels/{channel}/messages", params=params)
            found.update((m["id"], m) for m in page)
            fetched += len(page)
            fresh = [m for m in page if m["id"] not in seen]
            if len(fresh) < len(page) or len(page) < 100 or fetched >= limit:
                break
            before = page[-1]["id"]
    return sorted(found.values(), key=lambda m: int(m["log_index"]))


def newest_messages(
    client: CellClient, channels: Iterable[str], seen: set[str], limit: int
) -> list[Any]:
    """Messages not yet seen, in log order, paging back until a seen one (or ``limit``)."""
    return [m for m in channel_messages(client, channels, seen, limit) if m["id"] not in seen]


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


def follow_once(
    client: CellClient,
    follower: Follower,
    reader: StreamReader | None,
    *,
    note: Callable[[str], None] = lambda _text: None,
) -> None:
    """Take what arrived in about a second (from the stream, or by polling), then refresh.

    ``note`` hears when the stream drops and when it is back (once each time)."""
    if reader is None:
        time.sleep(1.0)
        for message in channel_messages(client, follower.channels, follower.seen, 1000):
            follower.receive(message)
    else:
        try:
            kind, event = reader.events.get(timeout=1.0)
        except queue.Empty:
            kind, event = "idle", None
        if kind == "refused":
            raise ClientError(f"{client.server} ended the live stream: log in again")
        if kind == "dropped":
            note(f"the live stream dropped at {_clock()}; reconnecting")
        elif kind == "open":
            note(f"the live stream is back at {_clock()}; catching up")
        elif kind == "event" and event is not None:
            _take(client, follower, event)
    follower.refresh()


def _take(client: CellClient, follower: Follower, event: SseEvent) -> None:
    """A hotline event: a message brings itself; an acknowledgement or an escalation is read
    with its message's state, which proves it."""
    if event.event not in {"message", "acknowledged", "escalation"}:
        return  # deliveries, and other tracks' events
    data = json.loads(event.data)
    if not isinstance(data, dict) or data.get("channel") not in follower.channels:
        return
    if event.event == "message":
        message = data.get("detail") or client.get(f"/api/v1/messages/{data['message']}")
        follower.receive(message)
    else:
        follower.receive(client.get(f"/api/v1/messages/{data['message']}"), show_message=False)


def _clock() -> str:
    return time.strftime("%H:%M:%S", time.localtime())
