"""Where a request comes from, as the login back-off counts it.

The address is the socket's peer (``request.client.host``), never a header a client can
write: behind a reverse proxy, ``fusioncell serve --forwarded-allow-ips`` names the proxies
whose ``X-Forwarded-For`` uvicorn may believe, and uvicorn rewrites the peer before any route
sees it. A request without a peer (a Unix socket) counts as coming from "unknown".
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

UNKNOWN_PEER = "unknown"


def client_address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client is not None else UNKNOWN_PEER
