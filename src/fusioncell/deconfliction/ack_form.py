"""The acknowledgement as a form posts it (the header strip's button, a page's form): the
same action as ``POST /api/v1/notifications/{id}/acknowledge``, answered with a redirect to
``next``. An acknowledgement is receipt, never approval."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from fusioncell.deconfliction.actions.acknowledgements import do_acknowledge_notification
from fusioncell.errors import Conflict, IdempotencyConflict
from fusioncell.web.deps import AppClock, CurrentViewer, Db
from fusioncell.web.redirects import safe_next

router = APIRouter()


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@router.post("/deconfliction/notifications/{notification_id}/acknowledge")
def acknowledge(
    notification_id: uuid.UUID,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    ack_id: Annotated[str, Form(max_length=64)] = "",
    version: Annotated[int | None, Form(ge=0)] = None,
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        do_acknowledge_notification(
            db,
            viewer,
            notification_id,
            ack_id=_uuid(ack_id) or uuid.uuid4(),
            version=version,
            now=clock.now(),
        )
    except Conflict as error:
        # Amended or withdrawn meanwhile: the page it returns to says so.
        if isinstance(error, IdempotencyConflict):
            raise
    return RedirectResponse(safe_next(next) if next else "/deconfliction", status_code=303)
