"""The shell: home, the language switch, health probes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text

from fusioncell.cell.actions.account import do_set_language
from fusioncell.db.migrate import is_current
from fusioncell.errors import DatabaseUnavailable
from fusioncell.i18n import require_language
from fusioncell.web.deps import (
    LANGUAGE_COOKIE,
    AppClock,
    CurrentViewer,
    Db,
    MaybeViewer,
    check_csrf,
)
from fusioncell.web.pages import page, secure_cookies
from fusioncell.web.problems import problem_response
from fusioncell.web.redirects import safe_next

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, viewer: CurrentViewer) -> Response:
    return page(request, viewer, "home.html")


@router.get("/console")
def console(request: Request, viewer: CurrentViewer) -> Response:
    """Every page's strip of what the member's party owes, for console.js to place again."""
    return page(request, viewer, "console.html", headers={"Cache-Control": "no-store"})


@router.post("/language")
async def set_language(
    request: Request,
    viewer: MaybeViewer,
    db: Db,
    clock: AppClock,
    language: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Members keep their choice on their account; visitors in a cookie."""
    await check_csrf(request, viewer)
    require_language(language)
    if viewer is not None:
        do_set_language(db, viewer, language=language, now=clock.now())
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    return response


@router.get("/healthz")
def healthz() -> Response:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
def readyz(request: Request) -> Response:
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = is_current(engine)
    except Exception:
        return problem_response(request, DatabaseUnavailable())
    if not current:
        return problem_response(
            request, DatabaseUnavailable("the database schema is not at the current migration")
        )
    return JSONResponse({"status": "ready"})
