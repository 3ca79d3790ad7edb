"""The open streams of an app process, the audiences they share, and what wakes them.

A stream sends the events its viewer may see (``queries.events_since``) after a cursor: the
``Last-Event-ID`` a reconnecting client sends, else the newest event when it connects.
Nothing is pushed from memory. A wake-up (after a commit in this process, or a PostgreSQL
``NOTIFY`` from another one, see ``notify.py``) only makes streams read again, and they read
every second anyway, so a lost wake-up costs latency, never data.

Hundreds of streams whose viewers the policy cannot tell apart (organisation, roles,
language: all that the feeds look at) share an ``Audience``: one read and one rendering per
wake-up, each frame encoded once and sent to all of them, kept in memory so that cursors just
behind it are served from there.
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
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

from sqlalchemy.orm import Session, sessionmaker
from sse_starlette import ServerSentEvent
from starlette.concurrency import run_in_threadpool

from fusioncell.cell.models import OrganisationKind, Role
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import credential_epoch
from fusioncell.clock import Clock
from fusioncell.live.feeds import EventFeed, check_feeds
from fusioncell.live.queries import events_since, newest_event_id

log = logging.getLogger("fusioncell.live")

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15
# How often an idle stream checks that its token or session still holds (not revoked or
# expired, the member not disabled, the same permissions); if not, it ends. A stream about to
# send checks first, whatever the time.
RECHECK_SECONDS = 2.0
# Credential checks kept for the streams of an audience, at most this long after they began.
FORGET_CHECKS_SECONDS = 60.0
# Events per database read and per chunk sent.
PAGE = 500
# Events an audience keeps for cursors just behind it.
KEEP = 1024
# Receipts this process has recorded, so that each organisation's receipt of a subject is
# written once, not once per open stream.
REMEMBER_RECEIPTS = 100_000
SEP = "\n"

AudienceKey = tuple[uuid.UUID, OrganisationKind, frozenset[Role], str]
# (organisation, track, subject)
ReceiptKey = tuple[uuid.UUID, str, str]


def audience_key(viewer: Viewer) -> AudienceKey:
    """What the policy and the feeds look at: viewers equal in it see the same frames."""
    return (viewer.organisation_id, viewer.organisation_kind, viewer.roles, viewer.language)


@dataclass(frozen=True)
class Frame:
    """One event, encoded once for every stream of an audience."""

    id: int
    data: bytes
    # (track, subject) whose receipt sending this frame records, if any.
    receipt: tuple[str, str] | None = None
    # ``time.monotonic()`` before the read that found the event: a credential check that
    # began later saw every revocation committed before the event.
    read_at: float = 0.0
    # The credential epoch read right after the event (``cell.queries.credential_epoch``):
    # every credential change committed before the event is at or below it.
    epoch: int = 0


@dataclass(frozen=True)
class CredentialCheck:
    """A stream's credential as one read found it: whether it still lets the viewer in, the
    credential epoch read just before it, and when it expires."""

    holds: bool
    epoch: int
    expires_at: datetime | None

    def covers(self, frames: Sequence[Frame], now: datetime) -> bool:
        """Whether this check vouches for sending ``frames`` now: it held, no credential
        changed between it and the frames' reads, and the credential has not expired."""
        return (
            self.holds
            and all(frame.epoch <= self.epoch for frame in frames)
            and (self.expires_at is None or now < self.expires_at)
        )


class StreamHub:
    """``wake`` is the ``ON_EVENT`` callback: it runs in whichever thread committed (request
    workers, background workers, the NOTIFY listener), so it only bumps a counter and hands
    each event loop a call that sets its streams' events."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        feeds: Sequence[EventFeed],
        *,
        poll_seconds: float = POLL_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        recheck_seconds: float = RECHECK_SECONDS,
    ) -> None:
        check_feeds(feeds)
        self.sessions = sessions
        self.clock = clock
        self.feeds = tuple(feeds)
        self._by_track = {feed.track: feed for feed in feeds}
        self.poll_seconds = poll_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.recheck_seconds = recheck_seconds
        self.generation = 0
        self._bumped_at = time.monotonic()
        self._lock = threading.Lock()
        self._waiting: dict[asyncio.AbstractEventLoop, set[asyncio.Event]] = {}
        self._scheduled: set[asyncio.AbstractEventLoop] = set()
        self._audiences: dict[tuple[asyncio.AbstractEventLoop, AudienceKey], Audience] = {}
        self._receipts: OrderedDict[ReceiptKey, Future[bool]] = OrderedDict()

    # -- reading ---------------------------------------------------------------------------

    def load(self, viewer: Viewer, after: int, limit: int) -> tuple[list[Frame], bool]:
        """The viewer's frames after ``after``, and whether there may be more (in a worker
        thread). Each track renders its events of the page in one batch."""
        read_at = time.monotonic()
        with self.sessions() as db:
            events = events_since(db, viewer, self.feeds, after, limit=limit)
            epoch = credential_epoch(db) if events else 0
            rendered = {}
            for track, batch in groupby(sorted(events, key=lambda e: e.track), lambda e: e.track):
                of_track = list(batch)
                for event, one in zip(
                    of_track, self._by_track[track].render(db, viewer, of_track), strict=True
                ):
                    rendered[event.id] = one
        frames = []
        for event in events:
            one = rendered[event.id]
            data = json.dumps(one.data, ensure_ascii=False, separators=(",", ":"))
            frames.append(
                Frame(
                    id=event.id,
                    data=ServerSentEvent(
                        data, id=str(event.id), event=event.kind, sep=SEP
                    ).encode(),
                    receipt=None if one.receipt is None else (event.track, one.receipt),
                    read_at=read_at,
                    epoch=epoch,
                )
            )
        return frames, len(events) == limit

    def newest(self, viewer: Viewer) -> int:
        with self.sessions() as db:
            return newest_event_id(db, viewer, self.feeds)

    # -- waking ----------------------------------------------------------------------------

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
    async def subscribe(self, viewer: Viewer) -> AsyncIterator[Subscription]:
        loop = asyncio.get_running_loop()
        key = (loop, audience_key(viewer))
        with self._lock:
            audience = self._audiences.get(key)
            if audience is None:
                audience = self._audiences[key] = Audience(self, viewer)
            audience.users += 1
            subscription = Subscription(audience)
            self._waiting.setdefault(loop, set()).add(subscription.wake)
        try:
            yield subscription
        finally:
            with self._lock:
                self._waiting[loop].discard(subscription.wake)
                if not self._waiting[loop]:
                    del self._waiting[loop]
                audience.users -= 1
                if not audience.users:
                    del self._audiences[key]

    # -- receipts --------------------------------------------------------------------------

    async def record_receipts(self, viewer: Viewer, frames: Iterable[Frame]) -> bool:
        """Record the receipts the frames carry, before they go out; whether every one is
        recorded (committed).

        Streams of one organisation in this process write each receipt once: the first stream
        to owe it writes, the others wait for that write. Another process may write the same
        receipt at the same moment; the track's action then skips it.
        """
        mine: list[tuple[ReceiptKey, Future[bool]]] = []
        waiting: list[Future[bool]] = []
        with self._lock:
            for frame in frames:
                if frame.receipt is None:
                    continue
                key = (viewer.organisation_id, *frame.receipt)
                if (written := self._receipts.get(key)) is None:
                    self._receipts[key] = written = Future()
                    mine.append((key, written))
                elif not written.done() or not written.result():
                    waiting.append(written)
            while len(self._receipts) > REMEMBER_RECEIPTS:
                self._receipts.popitem(last=False)
        if mine:
            done = False
            try:
                done = await self._write_receipts(viewer, [key for key, _written in mine])
            finally:  # also when the stream is cancelled: nobody may wait for it forever
                with self._lock:
                    for key, written in mine:
                        if not done and self._receipts.get(key) is written:
                            del self._receipts[key]  # the next stream to owe it tries again
                        written.set_result(done)
            if not done:
                return False
        for written in waiting:
            if not await asyncio.wrap_future(written):
                return False
        return True

    async def _write_receipts(self, viewer: Viewer, keys: list[ReceiptKey]) -> bool:
        def write() -> None:
            for track, batch in groupby(sorted(keys, key=lambda k: k[1]), lambda k: k[1]):
                subjects = [subject for _organisation, _track, subject in batch]
                with self.sessions() as db:
                    self._by_track[track].record_receipts(
                        db, viewer, subjects, now=self.clock.now()
                    )

        try:
            await run_in_threadpool(write)
        except Exception:  # the frames wait; the stream tries again on its next turn
            log.exception("could not record %d receipts", len(keys))
            return False
        return True


@dataclass
class Subscription:
    audience: Audience
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class Audience:
    """The frames of one kind of viewer, read once per wake-up and kept for a while.

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
        # Credential checks of this audience's streams: when each began, and its answer.
        self.checks: dict[object, tuple[float, asyncio.Future[CredentialCheck]]] = {}

    def last_check(self, credential: object) -> CredentialCheck | None:
        """The newest finished check of ``credential``, if any."""
        found = self.checks.get(credential)
        if found is None or not found[1].done() or found[1].cancelled():
            return None
        if found[1].exception() is not None:
            return None
        return found[1].result()

    async def check(
        self, credential: object, run: Callable[[], CredentialCheck], *, since: float
    ) -> CredentialCheck:
        """``credential`` as a check (``run``) begun at ``since`` or later found it; streams
        of one credential wait for the same check."""
        found = self.checks.get(credential)
        if found is None or found[0] < since:
            begun = time.monotonic()
            running = asyncio.ensure_future(run_in_threadpool(run))
            for key, (when, _running) in list(self.checks.items()):
                # A stream rechecks at least every RECHECK_SECONDS: older answers are its
                # credential's that no stream holds any more.
                if when < begun - FORGET_CHECKS_SECONDS:
                    del self.checks[key]
            self.checks[credential] = found = (begun, running)
        return await asyncio.shield(found[1])

    async def start(self, after: int | None) -> int:
        """The cursor of a new stream: ``after``, or the newest event if it gave none."""
        async with self.lock:
            if self.base is None:
                if after is None:
                    after = await run_in_threadpool(self.hub.newest, self.viewer)
                self.base = self.head = after
        return self.head if after is None else after

    async def read(self, after: int, *, fresh_as_of: int) -> Sequence[Frame]:
        """Up to ``PAGE`` frames after ``after``, no older than the wake-up ``fresh_as_of``."""
        if self.base is None or after < self.base:
            frames, _more = await run_in_threadpool(self.hub.load, self.viewer, after, PAGE)
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
        frames, self.more = await run_in_threadpool(self.hub.load, self.viewer, self.head, 2 * PAGE)
        self.generation = generation
        if frames:
            self.frames.extend(frames)
            self.ids.extend(frame.id for frame in frames)
            self.head = frames[-1].id
        if len(self.frames) > KEEP:
            drop = len(self.frames) - KEEP
            self.base = self.ids[drop - 1]
            del self.frames[:drop], self.ids[:drop]
