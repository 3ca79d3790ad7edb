"""The inbox: what the member's party owes pinned above everything (FLASH first, until
acknowledged), then its messages (newest first, filtered, a page at a time); one row at a
time for ``hotline.js``, and the acknowledgement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, can_watch_deadlines
from fusioncell.errors import Conflict, IdempotencyConflict
from fusioncell.hotline.actions.messages import do_acknowledge_message
from fusioncell.hotline.models import Message
from fusioncell.hotline.queries import (
    MessageState,
    get_message,
    list_messages,
    list_open_obligations,
)
from fusioncell.hotline.receiving import receive
from fusioncell.hotline.rules import PRECEDENCES
from fusioncell.hotline.views.form import Compose, compose_context
from fusioncell.hotline.views.render import (
    PRECEDENCE_LABELS,
    STREAM_URL,
    Rows,
    ms,
    parse_uuid,
    script_labels,
)
from fusioncell.web.deps import AppClock, CurrentViewer, Db
from fusioncell.web.pages import page
from fusioncell.web.redirects import safe_next

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
# The element htmx swaps; a request aimed at it gets that partial alone.
LIST_ID = "hotline-messages"
_TRUE = frozenset({"1", "true", "on", "yes"})


@dataclass(frozen=True)
class Filters:
    unacknowledged: bool = False
    precedence: str | None = None
    channel: uuid.UUID | None = None

    def url(self, **extra: str | None) -> str:
        params = {
            "unacknowledged": "1" if self.unacknowledged else None,
            "precedence": self.precedence,
            "channel": str(self.channel) if self.channel else None,
            **extra,
        }
        kept = {name: value for name, value in params.items() if value}
        return "/hotline" + (f"?{urlencode(kept)}" if kept else "")


def render_inbox(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    *,
    filters: Filters | None = None,
    before: uuid.UUID | None = None,
    compose: Compose | None = None,
    status_code: int = 200,
) -> Response:
    filters = filters or Filters()
    found = list_messages(
        db,
        viewer,
        channel_id=filters.channel,
        precedence=filters.precedence,
        unacknowledged=filters.unacknowledged,
        before=before,
        limit=PAGE_SIZE + 1,
    )
    # The first page, unfiltered, pins what the party owes above the rest, most urgent first.
    pinning = before is None and filters == Filters()
    owed = list_open_obligations(db, viewer, limit=PAGE_SIZE)
    pinned = [item.message for item in owed] if pinning else []
    pinned_ids = {message.id for message in pinned}
    shown = list(found[:PAGE_SIZE])
    rest = [message for message in shown if message.id not in pinned_ids]
    # Seeing the inbox is receiving: the first view by the organisation is its delivery.
    states = receive(db, viewer, [*pinned, *rest], now=now)
    rows = Rows(db, viewer, now)
    unread: dict[uuid.UUID, int] = {}
    for item in owed:
        unread[item.message.channel_id] = item.open_in_channel
    context: dict[str, Any] = {
        "list_id": LIST_ID,
        "pinned": rows.rows(pinned, states),
        "rows": rows.rows(rest, states),
        "filters": filters,
        "filtered": filters != Filters(),
        "older_url": filters.url(before=str(shown[-1].id)) if len(found) > PAGE_SIZE else None,
        "newest_url": filters.url() if before is not None else None,
        "next_url": filters.url(before=str(before) if before else None),
        "now_ms": ms(now),
    }
    headers = {"Vary": "HX-Target, HX-History-Restore-Request"}
    if (
        request.headers.get("hx-target") == LIST_ID
        and request.headers.get("hx-history-restore-request") != "true"
    ):
        headers["HX-Push-Url"] = context["next_url"]
        return page(request, viewer, "hotline/messages.html", headers=headers, **context)
    return page(
        request,
        viewer,
        "hotline/inbox.html",
        status_code=status_code,
        headers=headers,
        channels=list(rows.channels.items()),
        unread=unread,
        compose_open=compose is not None,
        filter_precedences=[(p, PRECEDENCE_LABELS[p]) for p in PRECEDENCES],
        stream_url=STREAM_URL,
        script_labels=script_labels(viewer.language),
        may_watch=can_watch_deadlines(viewer),
        **compose_context(db, viewer, compose or Compose()),
        **context,
    )


@router.get("/hotline")
def inbox(
    request: Request,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    unacknowledged: Annotated[str | None, Query(max_length=8)] = None,
    precedence: Annotated[str | None, Query(max_length=16)] = None,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    before: uuid.UUID | None = None,
) -> Response:
    filters = Filters(
        unacknowledged=(unacknowledged or "").lower() in _TRUE,
        precedence=precedence if precedence in PRECEDENCES else None,
        channel=parse_uuid(channel) if channel else None,
    )
    return render_inbox(request, viewer, db, clock.now(), filters=filters, before=before)


def _row_response(
    request: Request,
    viewer: Viewer,
    db: Session,
    message: Message,
    now: datetime,
    *,
    states: dict[uuid.UUID, MessageState] | None = None,
) -> Response:
    (row,) = Rows(db, viewer, now).rows([message], states)
    return page(request, viewer, "hotline/row.html", row=row, next_url="/hotline")


@router.get("/hotline/messages/{message_id}/row")
def message_row(
    request: Request, message_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    """One message as the inbox shows it: hotline.js places a new message's row, and fetches
    a row again when a frame cannot say what changed (a delivery carries no time)."""
    now = clock.now()
    message = get_message(db, viewer, message_id)
    states = receive(db, viewer, [message], now=now)
    return _row_response(request, viewer, db, message, now, states=states)


@router.post("/hotline/messages/{message_id}/ack")
def acknowledge(
    request: Request,
    message_id: uuid.UUID,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    ack_id: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    now = clock.now()
    try:
        do_acknowledge_message(
            db,
            viewer,
            message_id=message_id,
            ack_id=parse_uuid(ack_id) or uuid.uuid4(),
            checkpoint_size=None,
            now=now,
        )
    except Conflict as error:
        # Acknowledged already (another tab, a second click): the row will say so.
        if isinstance(error, IdempotencyConflict):
            raise
    if request.headers.get("hx-request") == "true":
        return _row_response(request, viewer, db, get_message(db, viewer, message_id), now)
    return RedirectResponse(safe_next(next) if next else "/hotline", status_code=303)
