"""Pages of the cell: log in and out, the member's account, organisations and members."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from babel.dates import format_timedelta
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from fusioncell.cell.actions.account import (
    do_begin_totp_enrolment,
    do_change_password,
    do_confirm_totp,
    do_disable_totp,
)
from fusioncell.cell.actions.auth import do_log_in, do_log_out
from fusioncell.cell.actions.login_throttle import Scope
from fusioncell.cell.actions.members import do_countersign_member
from fusioncell.cell.models import Role
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import (
    countersignable,
    get_own_member,
    list_members,
    list_organisations,
)
from fusioncell.errors import FusioncellError, TooManyAttempts
from fusioncell.i18n import localize, translate
from fusioncell.text import N_
from fusioncell.web.addresses import client_address
from fusioncell.web.deps import (
    ANON_CSRF_COOKIE,
    SESSION_COOKIE,
    AppClock,
    AppSettings,
    CurrentViewer,
    Db,
    MaybeViewer,
    check_csrf,
)
from fusioncell.web.pages import language_of, page, secure_cookies
from fusioncell.web.redirects import safe_next

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_form(request: Request, viewer: MaybeViewer, next: str | None = None) -> Response:
    if viewer is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return page(request, None, "cell/login.html", next=safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    db: Db,
    settings: AppSettings,
    clock: AppClock,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    totp: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    await check_csrf(request, None)
    try:
        started = do_log_in(
            db,
            username=username,
            password=password,
            totp_code=totp or None,
            now=clock.now(),
            settings=settings,
            client_address=client_address(request),
        )
    except FusioncellError as error:
        language = language_of(request, None)
        return page(
            request,
            None,
            "cell/login.html",
            status_code=error.status,
            error=_login_refusal(language, error),
            username=username,
            next=safe_next(next),
            headers={"Retry-After": str(error.extensions["retry_after"])}
            if "retry_after" in error.extensions
            else None,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        started.secret,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    response.delete_cookie(ANON_CSRF_COOKIE)
    return response


_THROTTLED = {
    Scope.USERNAME_FROM_ADDRESS: N_(
        "Too many wrong passwords for this username from your address. Try again in %(wait)s."
    ),
    Scope.ADDRESS: N_("Too many wrong passwords from your address. Try again in %(wait)s."),
}


def _login_refusal(language: str, error: FusioncellError) -> str:
    """The refusal in the visitor's language; a back-off says what it slows and how long."""
    if isinstance(error, TooManyAttempts) and error.extensions.get("scope") in _THROTTLED:
        wait = wait_text(language, int(error.extensions["retry_after"]))
        return translate(language, _THROTTLED[error.extensions["scope"]], wait=wait)
    return translate(language, error.title)


def wait_text(language: str, seconds: int) -> str:
    """A wait as the locale words it: seconds under two minutes, then minutes rounded up."""
    if seconds < 120:
        return format_timedelta(
            timedelta(seconds=seconds), granularity="second", threshold=1000, locale=language
        )
    minutes = -(-seconds // 60)
    return format_timedelta(
        timedelta(minutes=minutes), granularity="minute", threshold=1000, locale=language
    )


@router.post("/logout")
def logout(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret is not None:
        do_log_out(db, viewer, session_secret=secret, now=clock.now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _account_page(
    request: Request, viewer: CurrentViewer, db: Db, *, status_code: int = 200, **context: Any
) -> Response:
    member = get_own_member(db, viewer)
    return page(
        request, viewer, "cell/account.html", status_code=status_code, member=member, **context
    )


@router.get("/account")
def account(request: Request, viewer: CurrentViewer, db: Db) -> Response:
    return _account_page(request, viewer, db)


@router.post("/account/password")
def account_password(
    request: Request,
    viewer: CurrentViewer,
    db: Db,
    settings: AppSettings,
    clock: AppClock,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    language = viewer.language
    try:
        do_change_password(
            db,
            viewer,
            current_password=current_password,
            new_password=new_password,
            now=clock.now(),
            hash_profile=settings.password_hash_profile,
            keep_session=request.cookies.get(SESSION_COOKIE),
            settings=settings,
        )
    except FusioncellError as error:
        return _account_page(
            request,
            viewer,
            db,
            status_code=error.status,
            error=translate(language, error.title),
            error_detail=localize(language, error.detail),
        )
    return _account_page(
        request, viewer, db, notice=translate(language, "Your password was changed.")
    )


@router.post("/account/totp")
def account_totp(
    request: Request,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    step: Annotated[str, Form(max_length=16)] = "",
    code: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    language = viewer.language
    try:
        if step == "begin":
            enrolment = do_begin_totp_enrolment(db, viewer, now=clock.now())
            return _account_page(request, viewer, db, enrolment=enrolment)
        if step == "confirm":
            do_confirm_totp(db, viewer, code=code, now=clock.now())
            notice = N_("The second factor is on.")
        elif step == "disable":
            do_disable_totp(db, viewer, code=code, now=clock.now())
            notice = N_("The second factor is off.")
        else:
            return _account_page(request, viewer, db, status_code=422)
    except FusioncellError as error:
        return _account_page(
            request,
            viewer,
            db,
            status_code=error.status,
            error=translate(language, error.title),
            error_detail=localize(language, error.detail),
        )
    return _account_page(request, viewer, db, notice=translate(language, notice))


def _organisations_page(
    request: Request,
    viewer: Viewer,
    db: Db,
    *,
    status_code: int = 200,
    error: str | None = None,
    error_detail: str | None = None,
) -> Response:
    members = list_members(db, viewer)
    return page(
        request,
        viewer,
        "cell/organisations.html",
        status_code=status_code,
        organisations=list_organisations(db, viewer),
        members=members,
        countersignable=countersignable(viewer, members),
        error=error,
        error_detail=error_detail,
    )


@router.get("/organisations")
def organisations(request: Request, viewer: CurrentViewer, db: Db) -> Response:
    """Every organisation; the members the viewer may see, and what awaits their countersign."""
    return _organisations_page(request, viewer, db)


@router.post("/organisations/members/{member_id}/countersign")
def countersign(
    request: Request,
    member_id: uuid.UUID,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    roles: Annotated[list[Role], Form()],
) -> Response:
    try:
        do_countersign_member(db, viewer, member_id=member_id, roles=roles, now=clock.now())
    except FusioncellError as error:
        return _organisations_page(
            request,
            viewer,
            db,
            status_code=error.status,
            error=translate(viewer.language, error.title),
            error_detail=localize(viewer.language, error.detail),
        )
    return RedirectResponse("/organisations", status_code=303)
