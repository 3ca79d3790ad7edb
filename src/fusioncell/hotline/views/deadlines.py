"""The supervisor's deadlines: every message some party has not yet acknowledged, and the
link tests a party missed; on each row, what the supervisor's duty officer did about it (a
call, a relay by other means, a follow-up) and a form to record it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.errors import IdempotencyConflict, InvalidInput
from fusioncell.hotline.actions.deadline_actions import (
    MAX_NOTE_CHARS,
    do_note_deadline_action,
    list_deadline_actions,
)
from fusioncell.hotline.models import DeadlineAction, DeadlineActionKind, Message
from fusioncell.hotline.queries import get_message, list_open_deadlines
from fusioncell.hotline.views.render import STREAM_URL, Rows, ms, parse_uuid, script_labels
from fusioncell.i18n import translate
from fusioncell.text import N_
from fusioncell.web.deps import AppClock, CurrentViewer, Db
from fusioncell.web.pages import page

router = APIRouter(include_in_schema=False)

# The element htmx swaps; a request aimed at it gets that partial alone.
DEADLINES_ID = "hotline-deadlines"
DEADLINES_URL = "/hotline/deadlines"

# The kinds of action, as the form offers them and the rows name them.
KIND_LABELS = {
    DeadlineActionKind.CALL.value: N_("Call made"),
    DeadlineActionKind.RELAY.value: N_("Relayed by other means"),
    DeadlineActionKind.FOLLOW_UP.value: N_("Follow-up"),
}
_BAD_TIME = N_("Give the follow-up time as a date and a time.")


@dataclass(frozen=True)
class ActionView:
    kind: str
    kind_label: str
    member: str
    at: datetime
    note: str
    follow_up_at: datetime | None


@dataclass
class ActionForm:
    """The form on a row: a fresh id each time it is shown empty, what was typed when it
    comes back with a problem."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    kind: str = DeadlineActionKind.CALL.value
    note: str = ""
    follow_up_at: str = ""
    error: str | None = None
    error_field: str | None = None


@dataclass
class ActionsCell:
    """What was done about one party's deadline on one message, and the form to add to it."""

    message_id: uuid.UUID
    organisation_id: uuid.UUID
    organisation: str
    actions: list[ActionView]
    form: ActionForm

    @property
    def element_id(self) -> str:
        return f"actions-{self.message_id}-{self.organisation_id}"


def _cells(
    db: Session,
    viewer: Viewer,
    rows: Rows,
    messages: list[Message],
    parties: list[tuple[uuid.UUID, uuid.UUID]],
    *,
    failed: ActionsCell | None = None,
) -> dict[tuple[uuid.UUID, uuid.UUID], ActionsCell]:
    """A cell per (message, party) shown, its actions read for all of them in one statement."""
    recorded = list_deadline_actions(db, viewer, messages)
    cells = {}
    for key in parties:
        cells[key] = ActionsCell(
            message_id=key[0],
            organisation_id=key[1],
            organisation=rows.organisations.get(key[1], "?"),
            actions=[_view(viewer, rows, a) for a in recorded.get(key, [])],
            form=ActionForm(),
        )
    if failed is not None and (failed.message_id, failed.organisation_id) in cells:
        cells[(failed.message_id, failed.organisation_id)].form = failed.form
    return cells


def _view(viewer: Viewer, rows: Rows, action: DeadlineAction) -> ActionView:
    return ActionView(
        kind=action.kind,
        kind_label=translate(viewer.language, KIND_LABELS.get(action.kind, action.kind)),
        member=rows.members.get(action.member_id, "?"),
        at=action.written_at,
        note=action.note,
        follow_up_at=action.follow_up_at,
    )


def render_deadlines(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    *,
    failed: ActionsCell | None = None,
    status_code: int = 200,
) -> Response:
    messages = list(list_open_deadlines(db, viewer))  # 403 unless the viewer watches them
    rows = Rows(db, viewer, now)
    open_rows = rows.rows(messages)
    # A missed link test is listed once, in its own table, not again among the open deadlines.
    missed_ids = {m.id for m in messages if m.form == "link_test" and m.ack_deadline <= now}
    owing = [
        (row, party) for row in open_rows for party in row.parties if party.acknowledged_at is None
    ]
    missed = [(row, party) for row, party in owing if row.id in missed_ids]
    cells = _cells(
        db,
        viewer,
        rows,
        messages,
        [(row.id, party.organisation_id) for row, party in owing],
        failed=failed,
    )
    context: dict[str, Any] = {
        "deadlines_id": DEADLINES_ID,
        "rows": [row for row in open_rows if row.id not in missed_ids],
        "missed_link_tests": missed,
        "cells": cells,
        "kind_choices": KIND_LABELS,
        "max_note_chars": MAX_NOTE_CHARS,
        "now_ms": ms(now),
    }
    headers = {"Vary": "HX-Target"}
    if request.headers.get("hx-target") == DEADLINES_ID:
        return page(request, viewer, "hotline/deadline_list.html", headers=headers, **context)
    return page(
        request,
        viewer,
        "hotline/deadlines.html",
        status_code=status_code,
        headers=headers,
        stream_url=STREAM_URL,
        script_labels=script_labels(viewer.language),
        **context,
    )


@router.get(DEADLINES_URL)
def deadlines(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    return render_deadlines(request, viewer, db, clock.now())


def _follow_up_time(value: str) -> datetime | None:
    """The form's time (an <input type="datetime-local">, which carries no zone) is UTC, as
    the field's label says and every time on the page is shown."""
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(_BAD_TIME, field="follow_up_at") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _cell_alone(
    request: Request,
    viewer: Viewer,
    db: Session,
    message: Message,
    cell: ActionsCell,
    now: datetime,
    *,
    status_code: int = 200,
) -> Response:
    """The row's actions and form, for htmx to put in place."""
    rows = Rows(db, viewer, now)
    recorded = list_deadline_actions(db, viewer, [message])
    cell.organisation = rows.organisations.get(cell.organisation_id, "?")
    cell.actions = [
        _view(viewer, rows, a) for a in recorded.get((message.id, cell.organisation_id), [])
    ]
    return page(
        request,
        viewer,
        "hotline/deadline_actions.html",
        status_code=status_code,
        cell=cell,
        kind_choices=KIND_LABELS,
        max_note_chars=MAX_NOTE_CHARS,
    )


@router.post("/hotline/messages/{message_id}/deadline-actions")
def note_deadline_action(
    request: Request,
    message_id: uuid.UUID,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    organisation: Annotated[str, Form(max_length=64)] = "",
    id: Annotated[str, Form(max_length=64)] = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=4 * MAX_NOTE_CHARS)] = "",
    follow_up_at: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Without script: record and go back to the row (or the page again with the row's
    problem); with htmx: the row's actions and a fresh form, or the form with its problem."""
    now = clock.now()
    partial = request.headers.get("hx-request") == "true"
    form = ActionForm(
        id=parse_uuid(id) or uuid.uuid4(), kind=kind, note=note, follow_up_at=follow_up_at
    )
    cell = ActionsCell(
        message_id=message_id,
        # An unknown organisation is the action's to refuse, after the permission check.
        organisation_id=parse_uuid(organisation) or uuid.UUID(int=0),
        organisation="",
        actions=[],
        form=form,
    )
    try:
        do_note_deadline_action(
            db,
            viewer,
            action_id=form.id,
            message_id=message_id,
            organisation_id=cell.organisation_id,
            kind=kind,
            note=note,
            follow_up_at=_follow_up_time(follow_up_at),
            now=now,
        )
    except (InvalidInput, IdempotencyConflict) as error:
        form.error = translate(viewer.language, error.detail)
        form.error_field = error.extensions.get("field")
        if isinstance(error, IdempotencyConflict):
            # A stale form (the back button) reused a recorded action's id for new content.
            form.id = uuid.uuid4()
        if partial:
            message = get_message(db, viewer, message_id)
            return _cell_alone(request, viewer, db, message, cell, now, status_code=error.status)
        return render_deadlines(request, viewer, db, now, failed=cell, status_code=error.status)
    if partial:
        cell.form = ActionForm()
        return _cell_alone(request, viewer, db, get_message(db, viewer, message_id), cell, now)
    return RedirectResponse(f"{DEADLINES_URL}#{cell.element_id}", status_code=303)
