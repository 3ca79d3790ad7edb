"""The reference for ``bench.hotline``: a bare Starlette SSE endpoint, no database, no auth.

``POST /publish`` takes one event (``{"event": kind, "data": {...}}``) and puts its encoded
frame on every subscriber's queue; ``GET /stream`` writes a subscriber's queue out as
``text/event-stream``. Run with ``uvicorn bench._bare_sse:app``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

subscribers: set[asyncio.Queue[bytes]] = set()
ids = itertools.count(1)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "subscribers": len(subscribers)})


async def stream(request: Request) -> StreamingResponse:
    queue: asyncio.Queue[bytes] = asyncio.Queue()

    async def frames() -> AsyncIterator[bytes]:
        subscribers.add(queue)
        try:
            yield b": open\n\n"
            while True:
                yield await queue.get()
        finally:
            subscribers.discard(queue)

    return StreamingResponse(
        frames(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


async def publish(request: Request) -> Response:
    event = await request.json()
    data = json.dumps(event["data"], ensure_ascii=False, separators=(",", ":"))
    frame = f"id: {next(ids)}\nevent: {event['event']}\ndata: {data}\n\n".encode()
    for queue in subscribers:
        queue.put_nowait(frame)
    return Response(status_code=201)


app = Starlette(
    routes=[
        Route("/healthz", healthz),
        Route("/stream", stream),
        Route("/publish", publish, methods=["POST"]),
    ]
)
