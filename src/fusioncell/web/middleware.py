"""ASGI middleware: a request body limit that answers with problem+json, not a reset (or, on
routes that speak another error format, such as TAXII's, in theirs)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import ClassVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fusioncell.errors import PayloadTooLarge

# Another rendering of the refusal for the requests a module answers in its own error format:
# (content type, body), or None for a request that is not its own.
RefusalRenderer = Callable[[Scope, PayloadTooLarge], tuple[str, bytes] | None]


class BodyLimit:
    renderers: ClassVar[list[RefusalRenderer]] = []

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        # Read the body up front (it is bounded) so an undeclared oversize body is refused
        # before the route sees a byte of it.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        error = PayloadTooLarge(
            f"the body exceeds the limit of {self.max_bytes} bytes", limit=self.max_bytes
        )
        content_type, payload = "application/problem+json", b""
        for render in BodyLimit.renderers:
            if (rendered := render(scope, error)) is not None:
                content_type, payload = rendered
                break
        else:
            payload = json.dumps(error.problem(instance=scope.get("path"))).encode()
        await send(
            {
                "type": "http.response.start",
                "status": error.status,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
