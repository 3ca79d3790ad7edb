"""Request dependencies: the database session, who is asking, and CSRF."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from fusioncell.cell import credentials
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import viewer_for_session, viewer_for_token
from fusioncell.clock import Clock
from fusioncell.config import Settings
from fusioncell.errors import (
    CsrfFailed,
    InvalidEntry,
    InvalidInput,
    InvalidToken,
    NotAuthenticated,
)
from fusioncell.ledger.entries import Presigned
from fusioncell.ledger.signing import ENTRY_HEADER, decode_entry_header
from fusioncell.text import Location, unsafe_text

SESSION_COOKIE = "fc_session"
ANON_CSRF_COOKIE = "fc_csrf"
LANGUAGE_COOKIE = "fc_lang"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as db:
        yield db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


Db = Annotated[Session, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]
AppClock = Annotated[Clock, Depends(get_clock)]


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def refuse_unsafe_text(request: Request) -> None:
    """Every route's first dependency: a lone surrogate or a NUL anywhere in the path
    parameters, the query, a form or a JSON body is 422 ``invalid-input``, before any route,
    schema or database sees it (see ``fusioncell.text``).

    Starlette caches the parsed body on the request, so FastAPI's own parsing of the same body
    for the route is not repeated."""
    found = unsafe_text(request.path_params, ("path",)) or _unsafe_pairs(
        request.query_params.multi_items(), "query"
    )
    if found is None and request.method not in SAFE_METHODS:
        found = await _unsafe_body(request)
    if found is not None:
        location, problem = found
        raise InvalidInput(
            f"{'.'.join(location)}: {problem}",
            errors=[{"location": list(location), "message": problem}],
        )


async def _unsafe_body(request: Request) -> tuple[Location, str] | None:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(FORM_TYPES):
        form = await request.form()
        found = _unsafe_pairs(
            [(key, value) for key, value in form.multi_items() if isinstance(value, str)], "body"
        )
        if found is not None:  # refused before any route: close the files the form spooled
            await form.close()
        return found
    media = content_type.partition(";")[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        return None
    if not await request.body():
        return None
    try:
        document = await request.json()
    except (ValueError, RecursionError):  # the route reports malformed JSON itself
        return None
    return unsafe_text(document, ("body",))


def _unsafe_pairs(pairs: Iterable[tuple[str, str]], where: str) -> tuple[Location, str] | None:
    """Repeated names are allowed in a query or form, so they are not read as a dict."""
    for key, value in pairs:
        if found := unsafe_text({key: value}, (where,)):
            return found
    return None


def bearer_secret(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def optional_viewer(request: Request, db: Db, clock: AppClock) -> Viewer | None:
    """A bearer token wins over the session cookie; a bad token is an error, not anonymity."""
    if "viewer" in request.state._state:
        cached: Viewer | None = request.state.viewer
        return cached
    viewer: Viewer | None = None
    if (secret := bearer_secret(request)) is not None:
        viewer = viewer_for_token(db, secret, now=clock.now())
        if viewer is None:
            raise InvalidToken()
        if (signed := request.headers.get(ENTRY_HEADER)) is not None:
            viewer = replace(viewer, presigned=_presigned(signed, viewer))
    elif (cookie := request.cookies.get(SESSION_COOKIE)) is not None:
        viewer = viewer_for_session(db, cookie, now=clock.now())
    request.state.viewer = viewer
    # Hand the connection back to the pool: the viewer is a snapshot, and a long request (a
    # stream) must not hold a connection it no longer needs.
    db.rollback()
    return viewer


def _presigned(value: str, viewer: Viewer) -> Presigned:
    """The client signed this request's entry itself; the action checks it commits to the body."""
    try:
        header, signature, salt = decode_entry_header(value)
    except (ValueError, TypeError) as exc:
        raise InvalidEntry(f"the {ENTRY_HEADER} header is malformed: {exc}") from None
    return Presigned(header=header, signature=signature, salt=salt, member_id=viewer.member_id)


MaybeViewer = Annotated[Viewer | None, Depends(optional_viewer)]


async def _presented_csrf(request: Request) -> str | None:
    if (header := request.headers.get(CSRF_HEADER)) is not None:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


async def check_csrf(request: Request, viewer: Viewer | None) -> None:
    """Unsafe requests authenticated by cookie must prove they came from our own page.

    Session-bound token for members; a double-submit cookie before login.
    """
    if request.method in SAFE_METHODS or bearer_secret(request) is not None:
        return
    expected = viewer.csrf_token if viewer is not None else request.cookies.get(ANON_CSRF_COOKIE)
    presented = await _presented_csrf(request)
    if not expected or not presented or not credentials.same(expected, presented):
        raise CsrfFailed()


async def current_viewer(request: Request, viewer: MaybeViewer) -> Viewer:
    if viewer is None:
        raise NotAuthenticated()
    await check_csrf(request, viewer)
    return viewer


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
