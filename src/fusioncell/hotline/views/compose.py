"""Sending from the compose form: the message, or the form again with what was wrong."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from fusioncell.cell.policy import Viewer
from fusioncell.errors import IdempotencyConflict, InvalidInput, NotFound
from fusioncell.hotline import forms
from fusioncell.hotline.actions.messages import do_send_message
from fusioncell.hotline.views.form import Compose, compose_context, compose_from, template_fields
from fusioncell.hotline.views.inbox import render_inbox
from fusioncell.hotline.views.render import parse_uuid
from fusioncell.i18n import localize, translate
from fusioncell.web.deps import AppClock, CurrentViewer, Db
from fusioncell.web.pages import page

router = APIRouter(include_in_schema=False)


def _send(request: Request, viewer: Viewer, db: Session, now: datetime, data: FormData) -> Response:
    compose = compose_from(data)
    partial = request.headers.get("hx-request") == "true"
    try:
        message = do_send_message(
            db,
            viewer,
            message_id=compose.id,
            # An unknown channel is the action's to refuse, after the permission check.
            channel_id=parse_uuid(compose.channel) or uuid.UUID(int=0),
            precedence=compose.precedence,
            form=compose.form,
            text=compose.text if compose.form == forms.TEXT else None,
            fields=None if compose.form == forms.TEXT else template_fields(compose),
            now=now,
        )
    except (InvalidInput, NotFound, IdempotencyConflict) as error:
        compose.error = translate(viewer.language, error.title)
        compose.detail = localize(viewer.language, error.detail)
        if isinstance(error, IdempotencyConflict):
            # A stale form (the back button) reused a sent message's id for new content.
            compose.id = uuid.uuid4()
        for problem in error.extensions.get("errors", []):
            message = problem.get("message", "")
            message_text = (
                translate(viewer.language, "This field is required.")
                if message == "missing"
                else localize(viewer.language, message)
            )
            compose.field_errors[f"{compose.form}.{problem.get('field')}"] = message_text
        if partial:
            return page(
                request,
                viewer,
                "hotline/compose.html",
                status_code=error.status,
                **compose_context(db, viewer, compose),
            )
        return render_inbox(request, viewer, db, now, compose=compose, status_code=error.status)
    if not partial:
        return RedirectResponse(f"/hotline#message-{message.id}", status_code=303)
    fresh = Compose(
        channel=compose.channel,
        precedence=compose.precedence,
        notice=translate(viewer.language, "Message sent."),
    )
    return page(
        request,
        viewer,
        "hotline/compose.html",
        headers={"HX-Trigger": json.dumps({"hotline:sent": {"message": str(message.id)}})},
        **compose_context(db, viewer, fresh),
    )


@router.post("/hotline/messages")
async def send(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    """Field names depend on the template, so the form is read whole (it is already parsed
    for the CSRF check); the action and the rendering run off the event loop."""
    data = await request.form()
    return await run_in_threadpool(_send, request, viewer, db, clock.now(), data)
