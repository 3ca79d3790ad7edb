"""Every error becomes RFC 9457 problem+json, or a page for a browser on a page route."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from fusioncell.errors import (
    DatabaseUnavailable,
    Forbidden,
    FusioncellError,
    InvalidInput,
    MalformedJson,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
)
from fusioncell.text import N_, Text
from fusioncell.web.redirects import safe_next

PROBLEM_JSON = "application/problem+json"
MACHINE_PREFIXES = ("/api/", "/log/", "/healthz", "/readyz", "/taxii")
log = logging.getLogger("fusioncell")
PROBED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def wants_page(request: Request) -> bool:
    if request.url.path.startswith(MACHINE_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def problem_response(
    request: Request, error: FusioncellError, *, headers: dict[str, str] | None = None
) -> Response:
    headers = dict(headers or {})
    if "retry_after" in error.extensions:
        headers["Retry-After"] = str(error.extensions["retry_after"])
    if isinstance(error, NotAuthenticated) and request.url.path.startswith("/api/"):
        headers["WWW-Authenticate"] = 'Bearer realm="fusioncell"'
    if wants_page(request):
        if isinstance(error, NotAuthenticated):
            target = quote(safe_next(request.url.path), safe="/")
            return RedirectResponse(f"/login?next={target}", status_code=303)
        from fusioncell.web.pages import render_error_page

        return render_error_page(request, error, headers=headers)
    return JSONResponse(
        error.problem(instance=request.url.path),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _from_http_exception(exc: StarletteHTTPException) -> FusioncellError:
    detail = exc.detail if isinstance(exc.detail, str) else None
    mapping: dict[int, type[FusioncellError]] = {
        401: NotAuthenticated,
        403: Forbidden,
        404: NotFound,
        405: MethodNotAllowed,
        413: PayloadTooLarge,
    }
    if exc.status_code in mapping:
        known = mapping[exc.status_code]
        return known(None if detail == known.title or detail in {"Not Found"} else detail)
    if 400 <= exc.status_code < 500:
        return InvalidInput(detail)
    return FusioncellError()


# Pydantic's messages, said again for pages in their language. The API keeps pydantic's own
# English wording (``Text(..., english=)``); a type not listed here is shown as pydantic says it.
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
VALIDATION_MESSAGES: dict[str, str] = {
    "missing": N_("this field is required"),
    "string_too_long": N_("at most %(max_length)s characters"),
    "string_too_short": N_("at least %(min_length)s characters"),
    "string_type": N_("must be text"),
    "int_parsing": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "float_parsing": N_("must be a number"),
    "bool_parsing": N_("must be true or false"),
    "uuid_parsing": N_("must be an id (a UUID)"),
    "uuid_type": N_("must be an id (a UUID)"),
    "enum": N_("must be one of %(expected)s"),
    "literal_error": N_("must be one of %(expected)s"),
    "less_than_equal": N_("must be at most %(le)s"),
    "greater_than_equal": N_("must be at least %(ge)s"),
    "less_than": N_("must be less than %(lt)s"),
    "greater_than": N_("must be more than %(gt)s"),
    "too_long": N_("at most %(max_length)s items"),
    "too_short": N_("at least %(min_length)s items"),
    "datetime_parsing": N_("must be a date and time"),
    "datetime_from_date_parsing": N_("must be a date and time"),
    "extra_forbidden": N_("is not a field of this request"),
}


def validation_message(item: dict[str, Any]) -> str:
    """One of pydantic's errors as a ``Text``: its English message unchanged, translatable
    where this table knows its type and pydantic gave the values it names."""
    english = str(item.get("msg", ""))
    message = VALIDATION_MESSAGES.get(str(item.get("type", "")))
    context = item.get("ctx") or {}
    if message is None or any(name not in context for name in PLACEHOLDER.findall(message)):
        return english
    params = {name: str(context[name]) for name in PLACEHOLDER.findall(message)}
    return Text(message, params, english=english)


def _validation_error(exc: RequestValidationError) -> FusioncellError:
    errors: list[dict[str, Any]] = []
    for item in exc.errors():
        if item.get("type") == "json_invalid":
            return MalformedJson(f"the body is not valid JSON: {item.get('msg', '')}")
        errors.append(
            {
                "location": [str(part) for part in item.get("loc", ())],
                "message": validation_message(item),
            }
        )
    first = errors[0] if errors else None
    if first is None:
        return InvalidInput(N_("invalid request"))
    where = ".".join(first["location"])
    detail = Text(
        N_("%(field)s: %(problem)s"),
        {"field": _field_name(first["location"]), "problem": first["message"]},
        english=f"{where}: {first['message']}",
    )
    return InvalidInput(detail, errors=errors)


def _field_name(location: list[str]) -> str:
    """The field as a page's form names it: without pydantic's "body" or "query" in front."""
    inner = location[1:] if len(location) > 1 else location
    return ".".join(inner)


def _allowed_methods(request: Request) -> str:
    """RFC 9110 §15.5.6: a 405 names every method the resource supports. Starlette names
    those of the first route with the path only, though a path may have one route per
    method; so each method is tried against every route. The static files, the one mount,
    serve GET and HEAD."""
    allowed: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Mount):
            if route.matches(request.scope)[0] is Match.FULL:
                allowed |= {"GET", "HEAD"}
            continue
        for method in PROBED_METHODS:
            if route.matches({**request.scope, "method": method})[0] is Match.FULL:
                allowed.add(method)
    return ", ".join(sorted(allowed)) if allowed else "GET, HEAD"


# The errors any API route can answer: each is a problem document (``errors.py``).
DOCUMENTED_ERRORS: dict[int, str] = {
    400: "The body is not well-formed JSON (malformed-json).",
    401: "No valid token or session (not-authenticated, invalid-token, invalid-credentials, "
    "totp-required); the API sends WWW-Authenticate.",
    403: "Not allowed for this member (forbidden), or a cookie request without its CSRF token.",
    404: "No such object, or not released to this member: the two are not told apart.",
    405: "The method is not supported here; Allow names those that are.",
    409: "The id was used for another request, or the state conflicts (conflict, "
    "idempotency-conflict, replayed-entry).",
    413: "The body exceeds the server's limit (payload-too-large).",
    422: "The request is not valid (invalid-input and its kinds, with errors), including text "
    "with a lone surrogate or a NUL.",
    429: "Too many failed attempts; Retry-After says how long to wait (too-many-attempts).",
    503: "The database cannot be reached (database-unavailable).",
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; clients match on type.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "urn:fusioncell:problem:<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "location": {"type": "array", "items": {"type": "string"}},
                    "message": {"type": "string"},
                },
            },
        },
        "retry_after": {"type": "integer"},
    },
    "additionalProperties": True,
}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Every operation declares every problem it can answer, as ``application/problem+json``
    with the one Problem schema, in place of FastAPI's ``application/json`` 422."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    reference = {"$ref": "#/components/schemas/Problem"}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for status, description in DOCUMENTED_ERRORS.items():
                responses[str(status)] = {
                    "description": description,
                    "content": {PROBLEM_JSON: {"schema": reference}},
                }
    return schema


def install(app: FastAPI) -> None:
    async def on_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FusioncellError)
        return problem_response(request, exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        error = _from_http_exception(exc)
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
            error = MethodNotAllowed(
                f"{request.method} is not supported here; allowed: {headers['Allow']}"
            )
        return problem_response(request, error, headers=headers)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(request, _validation_error(exc))

    async def on_database(request: Request, exc: Exception) -> Response:
        log.error("database error on %s: %s", request.url.path, exc.__class__.__name__)
        return problem_response(request, DatabaseUnavailable())

    async def on_out_of_range(request: Request, exc: Exception) -> Response:
        # A number the database cannot hold (SQLite's OverflowError, PostgreSQL's "out of
        # range"), from a parameter whose route set no bound: bad input, not a fault.
        log.warning("value out of range on %s: %s", request.url.path, exc.__class__.__name__)
        return problem_response(request, InvalidInput("a value is out of range"))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return problem_response(request, FusioncellError())

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(FusioncellError, on_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(OperationalError, on_database)
    app.add_exception_handler(OverflowError, on_out_of_range)
    app.add_exception_handler(DataError, on_out_of_range)
    app.add_exception_handler(Exception, on_unexpected)
