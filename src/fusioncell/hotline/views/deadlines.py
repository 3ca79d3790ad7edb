"""The supervisor's deadlines: every message some party has not yet acknowledged, and the
link tests a party missed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fusioncell.hotline.queries import list_open_deadlines
from fusioncell.hotline.views.render import STREAM_URL, Rows, ms, script_labels
from fusioncell.web.deps import AppClock, CurrentViewer, Db
from fusioncell.web.pages import page

router = APIRouter(include_in_schema=False)

# The element htmx swaps; a request aimed at it gets that partial alone.
DEADLINES_ID = "hotline-deadlines"


@router.get("/hotline/deadlines")
def deadlines(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    messages = list_open_deadlines(db, viewer)  # 403 unless the viewer watches them
    now = clock.now()
    open_rows = Rows(db, viewer, now).rows(messages)
    # A missed link test is listed once, in its own table, not again among the open deadlines.
    missed_ids = {m.id for m in messages if m.form == "link_test" and m.ack_deadline <= now}
    missed = [
        (row, party)
        for message, row in zip(messages, open_rows, strict=True)
        if message.id in missed_ids
        for party in row.parties
        if party.acknowledged_at is None
    ]
    context: dict[str, Any] = {
        "deadlines_id": DEADLINES_ID,
        "rows": [
            row
            for message, row in zip(messages, open_rows, strict=True)
            if message.id not in missed_ids
        ],
        "missed_link_tests": missed,
        "now_ms": ms(now),
    }
    headers = {"Vary": "HX-Target"}
    if request.headers.get("hx-target") == DEADLINES_ID:
        return page(request, viewer, "hotline/deadline_list.html", headers=headers, **context)
    return page(
        request,
        viewer,
        "hotline/deadlines.html",
        headers=headers,
        stream_url=STREAM_URL,
        script_labels=script_labels(viewer.language),
        **context,
    )
