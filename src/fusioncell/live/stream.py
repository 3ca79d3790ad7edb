"""``GET /api/v1/stream``: each member's live events, every track's, as Server-Sent Events
replayed from the database (see ``hub.py``).

A stream sends nothing its credential no longer allows: an event committed after a
revocation never goes out on the revoked stream, whichever process revoked it. Every
transaction that changes a member, a role grant, a session or a token moves the credential
epoch (``cell.actions.credential_epoch``), and every read of frames also reads the epoch. Frames
go out on the stream's last check of its token or session (not revoked or expired, the member
not disabled, the same permissions) when no credential changed since that check and the
credential has not expired; otherwise only after a new check begun after the frames were
read. An idle stream checks every ``RECHECK_SECONDS``. Streams sharing a credential share
each check.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import credential_epoch, credential_holder
from fusioncell.errors import InvalidInput
from fusioncell.live.hub import SEP, CredentialCheck, Frame, StreamHub, audience_key
from fusioncell.web.deps import SESSION_COOKIE, CurrentViewer, Db, bearer_secret

router = APIRouter(prefix="/api/v1", tags=["live"])

# A client that stops reading is dropped after this long; it reconnects with Last-Event-ID.
SEND_TIMEOUT_SECONDS = 30
RETRY_MILLISECONDS = 2000


@dataclass(frozen=True)
class Credential:
    """What authenticated the stream, to check again while it stays open."""

    token: str | None
    session: str | None

    def check(self, hub: StreamHub, viewer: Viewer) -> CredentialCheck:
        with hub.sessions() as db:
            # The epoch first: a change committed after this read moves the epoch past it,
            # so a frame read after that change is never vouched for by this check.
            epoch = credential_epoch(db)
            held = credential_holder(
                db, token=self.token, session=self.session, now=hub.clock.now()
            )
        if held is None or audience_key(held[0]) != audience_key(viewer):
            return CredentialCheck(holds=False, epoch=epoch, expires_at=None)
        return CredentialCheck(holds=True, epoch=epoch, expires_at=held[1])


async def event_stream(
    hub: StreamHub, viewer: Viewer, credential: Credential, after: int | None
) -> AsyncIterator[bytes]:
    async with hub.subscribe(viewer) as subscription:
        audience, wake = subscription.audience, subscription.wake

        async def holds(since: float) -> bool:
            """Checked by a read begun at ``since`` or later."""
            check = await audience.check(
                credential, lambda: credential.check(hub, viewer), since=since
            )
            return check.holds

        async def may_send(frames: Sequence[Frame]) -> bool:
            """The last check vouches for the frames unless a credential changed (anywhere)
            since, or the credential expired: then a check begun after their read decides."""
            last = audience.last_check(credential)
            if last is not None and last.covers(frames, hub.clock.now()):
                return True
            return await holds(max(frame.read_at for frame in frames))

        idle_since = time.monotonic()
        cursor = await audience.start(after)
        # Tells the client the stream is open from this cursor on, and how soon to retry.
        yield ServerSentEvent(comment=f"after {cursor}", retry=RETRY_MILLISECONDS, sep=SEP).encode()
        generation = hub.generation
        while True:
            if time.monotonic() - idle_since >= hub.recheck_seconds:
                if not await holds(idle_since):
                    return  # the client reconnects, and is told why
                idle_since = time.monotonic()
            wake.clear()
            frames = await audience.read(cursor, fresh_as_of=generation)
            if frames:
                if not await may_send(frames):
                    return
                # Receipts (the hotline: streamed counts as delivered) are recorded first: a
                # frame never announces what the log may yet lack.
                if not await hub.record_receipts(viewer, frames):
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
    """Everything live the viewer may see, every track's, in one ordered stream: on the
    hotline, messages, deliveries, acknowledgements and escalations in the viewer's channels.

    Each event carries ``id`` (resume with ``Last-Event-ID``, or ``?last_event_id=``), ``event``
    (its kind) and JSON ``data`` rendered by its track: for the hotline, the event's payload
    and channel, and for a message the message as ``GET /api/v1/messages/{id}`` renders it
    (without its state) under ``detail``. Receiving a hotline message here counts as its
    delivery to the viewer's organisation. The stream ends when its token or session no longer
    holds; the client's reconnection is then refused.
    """
    after = _cursor(request, last_event_id)
    # The stream reads with sessions of its own, so the connection that authenticated the
    # request goes back to the pool now, on the event loop (ending a read transaction is
    # quick): handing it to a worker thread could wait behind requests that wait for a
    # connection, and a few hundred streams opening at once would deadlock the pool.
    db.close()
    hub: StreamHub = request.app.state.streams
    credential = Credential(bearer_secret(request), request.cookies.get(SESSION_COOKIE))
    return EventSourceResponse(
        event_stream(hub, viewer, credential, after),
        ping=hub.heartbeat_seconds,
        sep=SEP,
        send_timeout=SEND_TIMEOUT_SECONDS,
    )
