"""TAXII error messages (section 3.6.1) in place of problem+json on TAXII routes.

Every TAXII route is a ``TaxiiRoute``: whatever its handler or its dependencies raise (our
``FusioncellError`` tree, FastAPI's validation errors, Starlette's HTTP errors) is answered
as a TAXII error message with the same status, as ``application/taxii+json;version=2.1``.
The problem type's code is the message's ``error_code``, so a client can still match on it.
A route matches an API root's path only if that API root exists: every other path falls
through to the app's own routes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from fusioncell.errors import (
    DatabaseUnavailable,
    FusioncellError,
    InvalidInput,
    MalformedJson,
    NotAuthenticated,
    NotFound,
)
from fusioncell.intel.taxii.media import TAXII

log = logging.getLogger("fusioncell.taxii")


class NotAcceptable(FusioncellError):
    code = "taxii-not-acceptable"
    status = 406
    title = "The requested media type is not supported"


class UnsupportedMediaType(FusioncellError):
    code = "taxii-unsupported-media-type"
    status = 415
    title = "The request's content type is not supported"


class BadTaxiiRequest(InvalidInput):
    code = "taxii-bad-request"
    status = 400
    title = "The server did not understand the request or filter parameters"


class TaxiiResponse(JSONResponse):
    media_type = TAXII


def error_message(error: FusioncellError) -> dict[str, Any]:
    message: dict[str, Any] = {
        "title": str(error.title),
        "description": str(error.detail),
        "error_code": error.code,
        "http_status": str(error.status),
    }
    if error.extensions:
        message["details"] = {key: _plain(value) for key, value in error.extensions.items()}
    return message


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def taxii_error_response(error: FusioncellError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(error, NotAuthenticated):
        headers["WWW-Authenticate"] = 'Basic realm="fusioncell TAXII", charset="UTF-8"'
    if "retry_after" in error.extensions:
        headers["Retry-After"] = str(error.extensions["retry_after"])
    return TaxiiResponse(error_message(error), status_code=error.status, headers=headers)


def as_taxii_error(exc: Exception) -> FusioncellError:
    if isinstance(exc, FusioncellError):
        return exc
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            return MalformedJson("the body is not valid JSON")
        where = ".".join(str(part) for part in first.get("loc", ()))
        return BadTaxiiRequest(f"{where}: {first.get('msg', 'not valid')}")
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 404:
            return NotFound()
        return BadTaxiiRequest(str(exc.detail))
    if isinstance(exc, OperationalError):
        return DatabaseUnavailable()
    if isinstance(exc, OverflowError):
        return BadTaxiiRequest("a value is out of range")
    log.exception("unexpected error on a TAXII route")
    return FusioncellError()


# Known API roots, by path, for route matching: each app keeps its own (``app.state``).
RootLookup = Callable[[Scope, str], bool]


class TaxiiRoute(APIRoute):
    """A TAXII route: TAXII error messages, and API root paths that must exist."""

    root_lookup: RootLookup | None = None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match == Match.NONE or TaxiiRoute.root_lookup is None:
            return match, child
        root = child.get("path_params", {}).get("api_root")
        if root is not None and not TaxiiRoute.root_lookup(scope, root):
            return Match.NONE, {}
        return match, child

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def taxii_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return taxii_error_response(as_taxii_error(exc))

        return taxii_handler
