"""The reference server: a bare Starlette app answering the same shape as /api/v1/me."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ME = {
    "id": "00000000-0000-0000-0000-000000000000",
    "username": "alpha.liaison",
    "display_name": "ALPHA liaison officer",
    "organisation": {"slug": "ALPHA", "name": "Party ALPHA", "kind": "party"},
    "roles": ["liaison"],
    "language": "en",
    "totp_enabled": False,
}


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def me(request: Request) -> JSONResponse:
    return JSONResponse(ME)


app = Starlette(routes=[Route("/healthz", healthz), Route("/api/v1/me", me)])
