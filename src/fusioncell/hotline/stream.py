"""``GET /api/v1/stream``: each member's live hotline, as Server-Sent Events replayed from the
database.

A stream sends the ``hotline_events`` its viewer may see (``queries.events_since``) after a
cursor: the ``Last-Event-ID`` a reconnecting client sends, else the newest event when it
connects. Nothing is pushed from memory. A wake-up (after a commit in this process, or a
PostgreSQL ``NOTIFY`` from another one, see ``notify.py``) only makes streams read again, and
they read every second anyway, so a lost wake-up costs latency, never data. A cursor never
skips an event committed late with a lower id, because every hotline event is written after
the action's log entry, under the log's sequence lock (``ledger.append``): event ids are
handed out in commit order.

Hundreds of streams of one organisation would each run the same queries on every wake-up.
Streams whose viewers the policy cannot tell apart (organisation, roles, language: all
that ``events_since`` and ``message_out`` look at) therefore share a feed: one read and one
rendering per wake-up, kept in memory so that cursors just behind it are served from there.

A stream sends nothing its credential no longer allows. Before it sends frames it checks that
its token or session still holds (not revoked or expired, the member not disabled, the same
permissions) with a read that began after those frames were read, so a message committed
after a revocation never goes out on the revoked stream, whichever process revoked it; an
idle stream checks every ``RECHECK_SECONDS``. Streams sharing a credential share the read.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session, sessionmaker
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from fusioncell.cell.models import OrganisationKind, Role
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import viewer_for_session, viewer_for_token
from fusioncell.clock import Clock
from fusioncell.errors import InvalidInput
from fusioncell.hotline.actions.messages import do_mark_delivered
from fusioncell.hotline.api import message_out
from fusioncell.hotline.models import EventKind, HotlineEvent
from fusioncell.hotline.queries import events_since, get_message
from fusioncell.web.deps import SESSION_COOKIE, CurrentViewer, Db, bearer_secret

log = logging.getLogger("fusioncell.hotline.stream")
router = APIRouter(prefix="/api/v1", tags=["hotline"])

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15
# How often an idle stream checks that its token or session still holds (not revoked or
# expired, the member not disabled, the same permissions); if not, it ends. A stream about to
# send checks first, whatever the time.
RECHECK_SECONDS = 2.0
# Events per database read and per chunk sent.
PAGE = 500
# Events a feed keeps for cursors just behind it.
KEEP = 1024
# (organisation, message) pairs this process has streamed, so that each organisation's
# delivery is written once, not once per open stream.
REMEMBER_DELIVERIES = 100_000
# A client that stops reading is dropped after this long; it reconnects with Last-Event-ID.
SEND_TIMEOUT_SECONDS = 30
RETRY_MILLISECONDS = 2000
SEP = "\n"

FeedKey = tuple[uuid.UUID, OrganisationKind, frozenset[Role], str]


@dataclass(frozen=True)
class Frame:
    """One event, encoded once for every stream of a feed."""

    id: int
    data: bytes
    # The message, if this is a message event the viewer's organisation did not send.
    owed: uuid.UUID | None = None
    # ``time.monotonic()`` before the read that found the event: a credential check that
    # began later saw every revocation committed before the event.
    read_at: float = 0.0


def _feed_key(viewer: Viewer) -> FeedKey:
    return (viewer.organisation_id, viewer.organisation_kind, viewer.roles, viewer.language)


class _Renderings:
    """Messages as ``message_out(full=False)`` renders them, per language.

    A message never changes once sent, and without its state (deliveries, acks) its
    rendering depends on the reader's language alone; feeds of different organisations or
    roles would otherwise each render every message again. Filled from worker threads.
    """

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[uuid.UUID, str], tuple[dict[str, Any], uuid.UUID]] = (
            OrderedDict()
        )

    def get(
        self, db: Session, viewer: Viewer, message_id: uuid.UUID
    ) -> tuple[dict[str, Any], uuid.UUID]:
        """The rendering and the sender's organisation."""
        key = (message_id, viewer.language)
        with self._lock:
            if (found := self._items.get(key)) is not None:
                self._items.move_to_end(key)
                return found
        # The event came through the viewer's policy, and a message is in its event's channel.
        message = get_message(db, viewer, message_id)
        rendered = message_out(db, viewer, message, full=False).model_dump(mode="json")
        item = (rendered, message.sender_organisation_id)
        with self._lock:
            self._items[key] = item
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return item


def _frame(
    db: Session, viewer: Viewer, event: HotlineEvent, renderings: _Renderings, read_at: float
) -> Frame:
    data: dict[str, Any] = {"channel": str(event.channel_id), **event.payload}
    owed = None
    if event.kind == EventKind.MESSAGE:
        data["detail"], sender = renderings.get(db, viewer, event.message_id)
        if sender != viewer.organisation_id:
            owed = event.message_id
    encoded = ServerSentEvent(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        id=str(event.id),
        event=event.kind,
        sep=SEP,
    ).encode()
    return Frame(id=event.id, data=encoded, owed=owed, read_at=read_at)


def _load(hub: StreamHub, viewer: Viewer, after: int, limit: int) -> tuple[list[Frame], bool]:
    """The viewer's events after ``after``, rendered; and whether there may be more."""
    read_at = time.monotonic()
    with hub.sessions() as db:
        events = events_since(db, viewer, after, limit=limit)
        frames = [_frame(db, viewer, event, hub.renderings, read_at) for event in events]
        return frames, len(events) == limit


def _tail(sessions: sessionmaker[Session], viewer: Viewer) -> int:
    """The newest event id the viewer may see, 0 if none.

    ``queries`` offers only ``events_since``, so this gallops over it with ``limit=1``:
    about 2 log2(n) indexed reads, once per new feed.
    """
    with sessions() as db:

        def first_after(after: int) -> int | None:
            found = events_since(db, viewer, after, limit=1)
            return found[0].id if found else None

        low = first_after(0)
        if low is None:
            return 0
        step, high = 1, None
        while high is None:
            probe = low + step
            if (found := first_after(probe)) is None:
                high = probe
            else:
                low, step = found, step * 2
        while low < high:  # the answer lies in [low, high]
            middle = (low + high) // 2
            if (found := first_after(middle)) is None:
                high = middle
            else:
                low = found
        return low


class Feed:
    """The events of one kind of viewer, read once per wake-up and kept for a while.

    The frames are complete for ids in ``(base, head]`` as of ``generation``. Touched only
    from the event loop of the streams that share it.
    """

    def __init__(self, hub: StreamHub, viewer: Viewer) -> None:
        self.hub = hub
        self.viewer = viewer
        self.users = 0
        self.frames: list[Frame] = []
        self.ids: list[int] = []
        self.base: int | None = None
        self.head = 0
        self.generation = -1
        self.more = False
        self.lock = asyncio.Lock()
        # Credential checks of this feed's streams: when each began, and its answer.
        self.checks: dict[_Credential, tuple[float, asyncio.Future[bool]]] = {}

    async def holds(self, credential: _Credential, viewer: Viewer, *, since: float) -> bool:
        """Whether ``credential`` still holds, by a check begun at ``since`` or later;
        streams of one credential wait for the same check."""
        found = self.checks.get(credential)
        if found is None or found[0] < since:
            begun = time.monotonic()
            check = asyncio.ensure_future(
                run_in_threadpool(credential.still_holds, self.hub, viewer)
            )
            for key, (when, _check) in list(self.checks.items()):
                if when < since:  # no stream will take an answer that old again
                    del self.checks[key]
            self.checks[credential] = found = (begun, check)
        return await asyncio.shield(found[1])

    async def start(self, after: int | None) -> int:
        """The cursor of a new stream: ``after``, or the newest event if it gave none."""
        async with self.lock:
            if self.base is None:
                if after is None:
                    after = await run_in_threadpool(_tail, self.hub.sessions, self.viewer)
                self.base = self.head = after
        return self.head if after is None else after

    async def read(self, after: int, *, fresh_as_of: int) -> Sequence[Frame]:
        """Up to ``PAGE`` frames after ``after``, no older than the wake-up ``fresh_as_of``."""
        if self.base is None or after < self.base:
            frames, _more = await run_in_threadpool(_load, self.hub, self.viewer, after, PAGE)
            return frames
        if self._stale(after, fresh_as_of):
            async with self.lock:
                if self._stale(after, fresh_as_of):
                    await self._refresh()
        start = bisect.bisect_right(self.ids, after)
        return self.frames[start : start + PAGE]

    def _stale(self, after: int, fresh_as_of: int) -> bool:
        return self.generation < fresh_as_of or (self.more and after >= self.head)

    async def _refresh(self) -> None:
        generation = self.hub.generation
        frames, self.more = await run_in_threadpool(
            _load, self.hub, self.viewer, self.head, 2 * PAGE
        )
        self.generation = generation
        if frames:
            self.frames.extend(frames)
            self.ids.extend(frame.id for frame in frames)
            self.head = frames[-1].id
        if len(self.frames) > KEEP:
            drop = len(self.frames) - KEEP
            self.base = self.ids[drop - 1]
            del self.frames[:drop], self.ids[:drop]


@dataclass
class _Subscription:
    feed: Feed
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class StreamHub:
    """The open streams of this process, the feeds they share, and what wakes them.

    ``wake`` is the ``ON_EVENT`` callback: it runs in whichever thread committed (request
    workers, the hotline engine, the NOTIFY listener), so it only bumps a counter and hands
    each event loop a call that sets its streams' events.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        poll_seconds: float = POLL_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        recheck_seconds: float = RECHECK_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.recheck_seconds = recheck_seconds
        self.renderings = _Renderings()
        self.generation = 0
        self._bumped_at = time.monotonic()
        self._lock = threading.Lock()
        self._waiting: dict[asyncio.AbstractEventLoop, set[asyncio.Event]] = {}
        self._scheduled: set[asyncio.AbstractEventLoop] = set()
        self._feeds: dict[tuple[asyncio.AbstractEventLoop, FeedKey], Feed] = {}
        self._streamed: OrderedDict[tuple[uuid.UUID, uuid.UUID], Future[bool]] = OrderedDict()

    def wake(self) -> None:
        with self._lock:
            self._bump()
            # One call per loop at a time: a burst of commits wakes each stream once.
            loops = [loop for loop in self._waiting if loop not in self._scheduled]
            self._scheduled.update(loops)
        for loop in loops:
            try:
                loop.call_soon_threadsafe(self._wake_loop, loop)
            except RuntimeError:  # the loop closed; its streams are gone
                with self._lock:
                    self._scheduled.discard(loop)

    def _wake_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            self._scheduled.discard(loop)
            events = list(self._waiting.get(loop, ()))
        for event in events:
            event.set()

    def poll(self) -> int:
        """A generation at most ``poll_seconds`` old: the fallback for a lost wake-up."""
        with self._lock:
            if time.monotonic() - self._bumped_at >= self.poll_seconds:
                self._bump()
            return self.generation

    def _bump(self) -> None:
        self.generation += 1
        self._bumped_at = time.monotonic()

    @asynccontextmanager
    async def subscribe(self, viewer: Viewer) -> AsyncIterator[_Subscription]:
        loop = asyncio.get_running_loop()
        key = (loop, _feed_key(viewer))
        with self._lock:
            feed = self._feeds.get(key)
            if feed is None:
                feed = self._feeds[key] = Feed(self, viewer)
            feed.users += 1
            subscription = _Subscription(feed)
            self._waiting.setdefault(loop, set()).add(subscription.wake)
        try:
            yield subscription
        finally:
            with self._lock:
                self._waiting[loop].discard(subscription.wake)
                if not self._waiting[loop]:
                    del self._waiting[loop]
                feed.users -= 1
                if not feed.users:
                    del self._feeds[key]

    async def deliver(self, viewer: Viewer, frames: Iterable[Frame]) -> bool:
        """Record the delivery to the viewer's organisation of the messages among ``frames``
        before they go out; whether every one is recorded (committed).

        Streams of one organisation in this process write each delivery once: the first
        stream to owe it writes, the others wait for that write. Another process may write
        the same delivery at the same moment; ``do_mark_delivered`` then skips it.
        """
        mine: list[tuple[tuple[uuid.UUID, uuid.UUID], Future[bool]]] = []
        waiting: list[Future[bool]] = []
        with self._lock:
            for frame in frames:
                if frame.owed is None:
                    continue
                key = (viewer.organisation_id, frame.owed)
                if (written := self._streamed.get(key)) is None:
                    self._streamed[key] = written = Future()
                    mine.append((key, written))
                elif not written.done() or not written.result():
                    waiting.append(written)
            while len(self._streamed) > REMEMBER_DELIVERIES:
                self._streamed.popitem(last=False)
        if mine:
            done = False
            try:
                done = await self._mark_delivered(viewer, [key[1] for key, _written in mine])
            finally:  # also when the stream is cancelled: nobody may wait for it forever
                with self._lock:
                    for key, written in mine:
                        if not done and self._streamed.get(key) is written:
                            del self._streamed[key]  # the next stream to owe it tries again
                        written.set_result(done)
            if not done:
                return False
        for written in waiting:
            if not await asyncio.wrap_future(written):
                return False
        return True

    async def _mark_delivered(self, viewer: Viewer, message_ids: list[uuid.UUID]) -> bool:
        def write() -> None:
            with self.sessions() as db:
                do_mark_delivered(db, viewer, message_ids=message_ids, now=self.clock.now())

        try:
            await run_in_threadpool(write)
        except Exception:  # the frames wait; the stream tries again on its next turn
            log.exception("could not record the delivery of %d messages", len(message_ids))
            return False
        return True


@dataclass(frozen=True)
class _Credential:
    """What authenticated the stream, to check again while it stays open."""

    token: str | None
    session: str | None

    def still_holds(self, hub: StreamHub, viewer: Viewer) -> bool:
        with hub.sessions() as db:
            now = hub.clock.now()
            if self.token is not None:
                current = viewer_for_token(db, self.token, now=now)
            elif self.session is not None:
                current = viewer_for_session(db, self.session, now=now)
            else:
                current = None
        return current is not None and _feed_key(current) == _feed_key(viewer)


async def _stream(
    hub: StreamHub, viewer: Viewer, credential: _Credential, after: int | None
) -> AsyncIterator[bytes]:
    async with hub.subscribe(viewer) as subscription:
        feed, wake = subscription.feed, subscription.wake
        idle_since = time.monotonic()
        cursor = await feed.start(after)
        # Tells the client the stream is open from this cursor on, and how soon to retry.
        yield ServerSentEvent(comment=f"after {cursor}", retry=RETRY_MILLISECONDS, sep=SEP).encode()
        generation = hub.generation
        while True:
            if time.monotonic() - idle_since >= hub.recheck_seconds:
                if not await feed.holds(credential, viewer, since=idle_since):
                    return  # the client reconnects, and is told why
                idle_since = time.monotonic()
            wake.clear()
            frames = await feed.read(cursor, fresh_as_of=generation)
            if frames:
                read_at = max(frame.read_at for frame in frames)
                if not await feed.holds(credential, viewer, since=read_at):
                    return
                # Streamed counts as delivered, and the delivery is recorded first: a
                # frame never announces a message whose delivery the log may yet lack.
                if not await hub.deliver(viewer, frames):
                    await asyncio.sleep(hub.poll_seconds)
                    continue
                idle_since = time.monotonic()
                yield b"".join(frame.data for frame in frames)
                cursor = frames[-1].id
                generation = hub.generation
                continue
            try:
                async with asyncio.timeout(hub.poll_seconds):
                    await wake.wait()
                generation = hub.generation
            except TimeoutError:
                generation = hub.poll()


def _cursor(request: Request, last_event_id: int | None) -> int | None:
    """``Last-Event-ID`` wins: a reconnecting EventSource sends it with its original URL."""
    header = request.headers.get("last-event-id", "").strip()
    if not header:
        return last_event_id
    if not header.isdigit():
        raise InvalidInput("Last-Event-ID must be an event id this stream sent")
    return int(header)


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def stream(
    request: Request,
    viewer: CurrentViewer,
    db: Db,
    last_event_id: Annotated[int | None, Query(ge=0)] = None,
) -> EventSourceResponse:
    """The hotline as it happens: messages, deliveries, acknowledgements and escalations in
    the channels the viewer belongs to.

    Each event carries ``id`` (resume with ``Last-Event-ID``, or ``?last_event_id=``), ``event``
    (its kind) and JSON ``data``: the event's payload and channel, and for a message the
    message as ``GET /api/v1/messages/{id}`` renders it (without its state) under ``detail``.
    Receiving a message here counts as its delivery to the viewer's organisation. The stream
    ends when its token or session no longer holds; the client's reconnection is then refused.
    """
    after = _cursor(request, last_event_id)
    # The stream reads with sessions of its own, so the connection that authenticated the
    # request goes back to the pool now, on the event loop (ending a read transaction is
    # quick): handing it to a worker thread could wait behind requests that wait for a
    # connection, and a few hundred streams opening at once would deadlock the pool.
    db.close()
    hub: StreamHub = request.app.state.hotline_streams
    credential = _Credential(bearer_secret(request), request.cookies.get(SESSION_COOKIE))
    return EventSourceResponse(
        _stream(hub, viewer, credential, after),
        ping=hub.heartbeat_seconds,
        sep=SEP,
        send_timeout=SEND_TIMEOUT_SECONDS,
    )
