"""Rendering a page: the viewer's language and direction, CSRF token and navigation."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from fusioncell.cell import credentials
from fusioncell.cell.policy import Viewer
from fusioncell.errors import FusioncellError
from fusioncell.i18n import LANGUAGES, negotiate
from fusioncell.tracks import NavItem
from fusioncell.web.console import console_loader, script_labels
from fusioncell.web.deps import ANON_CSRF_COOKIE, LANGUAGE_COOKIE
from fusioncell.web.templating import render, translate


def navigation(request: Request, viewer: Viewer | None) -> list[tuple[str, str]]:
    """The tracks' links, (path, label), as ``fusioncell.bootstrap`` gave them to the app,
    less those whose page the viewer may not open."""
    if viewer is None:
        return []
    nav: tuple[NavItem, ...] = request.app.state.nav
    return [(item.path, item.label) for item in nav if item.shown_to(viewer)]


def language_of(request: Request, viewer: Viewer | None) -> str:
    if viewer is not None:
        return viewer.language
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    default: str = request.app.state.settings.default_language
    return negotiate(request.headers.get("accept-language"), default=default)


def secure_cookies(request: Request) -> bool:
    return request.url.scheme == "https" or bool(request.app.state.settings.force_secure_cookies)


def page(
    request: Request,
    viewer: Viewer | None,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    language = language_of(request, viewer)
    anon_csrf = None
    if viewer is not None and viewer.csrf_token is not None:
        csrf = viewer.csrf_token
    else:
        anon_csrf = request.cookies.get(ANON_CSRF_COOKIE) or credentials.new_secret()
        csrf = anon_csrf
    body = render(
        template,
        language=language,
        viewer=viewer,
        csrf_token=csrf,
        tracks=navigation(request, viewer),
        current_path=request.url.path,
        load_console=console_loader(request, viewer),
        console_labels=script_labels(language) if viewer is not None else "{}",
        stream_kinds=" ".join(sorted(k for f in request.app.state.streams.feeds for k in f.kinds)),
        clock_now=request.app.state.clock.now(),
        **context,
    )
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    if anon_csrf is not None and request.cookies.get(ANON_CSRF_COOKIE) != anon_csrf:
        response.set_cookie(
            ANON_CSRF_COOKIE,
            anon_csrf,
            httponly=True,
            samesite="strict",
            secure=secure_cookies(request),
        )
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def render_error_page(
    request: Request, error: FusioncellError, *, headers: dict[str, str] | None = None
) -> HTMLResponse:
    viewer = getattr(request.state, "viewer", None)
    language = language_of(request, viewer)
    return page(
        request,
        viewer,
        "error.html",
        status_code=error.status,
        headers=headers,
        error=error,
        message=translate(language, error.title),
    )
