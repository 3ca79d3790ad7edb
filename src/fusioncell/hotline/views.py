"""Pages of the hotline: a member's inbox (read, compose, acknowledge, filter) and the
supervisor's deadlines.

The server renders everything, through the hotline's queries and actions. ``hotline.js`` only
keeps the pages live: it listens to ``/api/v1/stream`` and swaps in the row of each message an
event names, ticks the countdowns from the server's clock, and sounds FLASH. Without script
the pages still work: forms post and redirect, filters are GET parameters.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from fusioncell.cell.policy import Permission, Viewer, can, can_watch_deadlines
from fusioncell.errors import (
    Conflict,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
)
from fusioncell.hotline import forms
from fusioncell.hotline.actions.messages import (
    do_acknowledge_message,
    do_mark_delivered,
    do_send_message,
)
from fusioncell.hotline.models import Channel, ChannelKind, Message
from fusioncell.hotline.queries import (
    get_message,
    list_channels,
    list_messages,
    list_open_deadlines,
    message_state,
    names,
)
from fusioncell.hotline.rules import HOTLINE_RULES, PRECEDENCES
from fusioncell.i18n import direction, translate
from fusioncell.ledger.context import ledger_context
from fusioncell.ledger.entries import log_time
from fusioncell.text import N_
from fusioncell.web.deps import AppClock, CurrentViewer, Db
from fusioncell.web.pages import page
from fusioncell.web.redirects import safe_next

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
# The elements htmx swaps; a request aimed at one gets that partial alone.
LIST_ID = "hotline-messages"
DEADLINES_ID = "hotline-deadlines"
STREAM_URL = "/api/v1/stream"
_TRUE = frozenset({"1", "true", "on", "yes"})
_WHOLE = re.compile(r"[+-]?\d{1,12}")

PRECEDENCE_LABELS = {
    "FLASH": N_("FLASH"),
    "IMMEDIATE": N_("IMMEDIATE"),
    "PRIORITY": N_("PRIORITY"),
    "ROUTINE": N_("ROUTINE"),
}
NOTIFY_LABELS = {
    "party_duty_officer": N_("the party's duty officer"),
    "party_liaison": N_("the party's liaison officer"),
    "supervisor_duty_officer": N_("the supervisor's duty officer"),
}
# What hotline.js says; keyed by the English text, as record.js takes its labels.
SCRIPT_LABELS = [
    N_("overdue by %(time)s"),
    N_("Live"),
    N_("Connecting…"),
    N_("Reconnecting…"),
    N_("FLASH message from %(sender)s: %(summary)s"),
]


@dataclass(frozen=True)
class Widget:
    """How the compose form asks for one field of a structured template."""

    label: str
    kind: str  # text, textarea, moment, count, choice, geojson
    hint: str = ""
    choices: tuple[tuple[str, str], ...] = ()


_GEOJSON_HINT = N_("GeoJSON, longitude before latitude.")
_MOMENT_HINT = N_("Date and time in UTC.")
WIDGETS: dict[str, Widget] = {
    "activity": Widget(N_("Activity"), "text"),
    "starts_at": Widget(N_("Starts"), "moment", _MOMENT_HINT),
    "ends_at": Widget(N_("Ends"), "moment", _MOMENT_HINT),
    "area": Widget(N_("Area (a Polygon or MultiPolygon)"), "geojson", _GEOJSON_HINT),
    "subject": Widget(N_("Subject"), "text"),
    "question": Widget(N_("Question"), "textarea"),
    "occurred_at": Widget(N_("Occurred at"), "moment", _MOMENT_HINT),
    "description": Widget(N_("Description"), "textarea"),
    "location": Widget(N_("Location (a Point)"), "geojson", _GEOJSON_HINT),
    "patients": Widget(N_("Number of patients"), "count"),
    "urgency": Widget(
        N_("Urgency"),
        "choice",
        choices=(
            ("urgent", N_("urgent")),
            ("priority", N_("priority")),
            ("routine", N_("routine")),
        ),
    ),
    "crossing": Widget(N_("Crossing"), "text"),
}
# The cell itself sends link tests; members compose the other templates.
COMPOSE_FORMS = [name for name in forms.FORMS if name != "link_test"]


# -- what a row shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class Countdown:
    kind: str  # "delivered" or "ack"
    at: str
    at_ms: int
    text: str  # as rendered; hotline.js ticks it from here
    overdue: bool


@dataclass(frozen=True)
class EscalationView:
    step: int
    due_at: str
    notify: list[str]


@dataclass(frozen=True)
class PartyView:
    organisation: str
    delivered_at: str | None
    acknowledged_at: str | None
    acknowledged_by: list[str]
    escalations: list[EscalationView]


@dataclass(frozen=True)
class MessageRow:
    id: uuid.UUID
    channel_id: uuid.UUID
    channel: str
    precedence: str
    precedence_label: str
    sender: str
    sender_organisation: str
    title: str
    text: str
    fields: str | None
    form: str
    sent_at: str
    log_index: int
    parties: list[PartyView]
    countdowns: list[Countdown]
    owed: bool
    mine: bool
    may_ack: bool
    ack_id: uuid.UUID
    now_ms: int


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _shown(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def countdown_text(seconds: float, language: str) -> str:
    """The same text hotline.js writes each second: m:ss, h:mm:ss, or "overdue by" either."""
    whole = int(abs(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return translate(language, "overdue by %(time)s", time=text) if seconds < 0 else text


def _countdown(kind: str, deadline: datetime, now: datetime, language: str) -> Countdown:
    seconds = (deadline - now).total_seconds()
    return Countdown(
        kind=kind,
        at=log_time(deadline),
        at_ms=_ms(deadline),
        text=countdown_text(seconds, language),
        overdue=seconds < 0,
    )


def isolated(fields: dict[str, Any] | None, language: str) -> dict[str, Any] | None:
    """Each value between Unicode isolates (FSI ... PDI) in a right-to-left sentence, so that
    a time or a Latin name inside Arabic or Hebrew keeps its own direction and its place."""
    if fields is None or direction(language) != "rtl":
        return fields
    return {name: f"\u2068{value}\u2069" for name, value in fields.items()}


def channel_label(channel: Channel, language: str) -> str:
    if channel.kind == ChannelKind.CELL.value:
        return translate(language, "Cell-wide channel")
    return channel.name


@dataclass
class Rows:
    """Turns messages into rows for one viewer, with the names looked up once per request."""

    db: Session
    viewer: Viewer
    now: datetime
    channels: dict[uuid.UUID, str] = field(default_factory=dict)
    organisations: dict[uuid.UUID, str] = field(default_factory=dict)
    members: dict[uuid.UUID, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        language = self.viewer.language
        self.channels = {
            c.id: channel_label(c, language) for c in list_channels(self.db, self.viewer)
        }
        self.organisations, self.members = names(self.db, self.viewer)

    def row(self, message: Message) -> MessageRow:
        viewer, language = self.viewer, self.viewer.language
        state = message_state(self.db, self.viewer, message)
        delivered = {d.organisation_id: d.delivered_at for d in state.deliveries}
        counted = {a.organisation_id: a for a in state.acks if a.counts}
        parties = []
        for recipient in state.recipients:
            party = recipient.organisation_id
            ack = counted.get(party)
            parties.append(
                PartyView(
                    organisation=self.organisations.get(party, "?"),
                    delivered_at=_shown(delivered[party]) if party in delivered else None,
                    acknowledged_at=_shown(ack.acked_at) if ack else None,
                    acknowledged_by=[
                        self.members.get(a.member_id, "?")
                        for a in state.acks
                        if a.organisation_id == party
                    ],
                    escalations=[
                        EscalationView(
                            step=e.step,
                            due_at=_shown(e.due_at),
                            notify=[translate(language, NOTIFY_LABELS.get(n, n)) for n in e.notify],
                        )
                        for e in state.escalations
                        if e.organisation_id == party
                    ],
                )
            )
        owing = state.owing
        undelivered = owing.difference(delivered)
        countdowns = []
        if undelivered:
            countdowns.append(
                _countdown("delivered", message.delivered_deadline, self.now, language)
            )
        if owing:
            countdowns.append(_countdown("ack", message.ack_deadline, self.now, language))
        owed = viewer.organisation_id in owing
        acked_by_me = any(a.member_id == viewer.member_id for a in state.acks)
        return MessageRow(
            id=message.id,
            channel_id=message.channel_id,
            channel=self.channels.get(message.channel_id, ""),
            precedence=message.precedence,
            precedence_label=translate(
                language, PRECEDENCE_LABELS.get(message.precedence, message.precedence)
            ),
            sender=self.members.get(message.sender_id, "?")
            if message.sender_id
            else translate(language, "the cell"),
            sender_organisation=self.organisations.get(message.sender_organisation_id, "?"),
            title=forms.title(message.form, language),
            text=forms.render(
                message.form, isolated(message.fields, language), message.text, language
            ),
            fields=json.dumps(message.fields, indent=2, ensure_ascii=False)
            if message.fields and message.form != "link_test"
            else None,
            form=message.form,
            sent_at=_shown(message.sent_at),
            log_index=message.log_index,
            parties=parties,
            countdowns=countdowns,
            owed=owed,
            mine=message.sender_organisation_id == viewer.organisation_id,
            may_ack=owed and not acked_by_me and can(viewer, Permission.MESSAGE_ACK),
            ack_id=uuid.uuid4(),
            now_ms=_ms(self.now),
        )


# -- the compose form ---------------------------------------------------------------------


@dataclass
class Compose:
    """The compose form's state: fresh, or as submitted with what was wrong."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    channel: str = ""
    precedence: str = "ROUTINE"
    form: str = forms.TEXT
    text: str = ""
    values: dict[str, str] = field(default_factory=dict)  # "template.field" -> as typed
    error: str | None = None
    detail: str | None = None
    field_errors: dict[str, str] = field(default_factory=dict)
    notice: str | None = None


def _parse_uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _field_value(kind: str, raw: str) -> Any:
    """What the template's checker expects; left as typed when it is not, so the action
    names the problem."""
    if kind == "count" and _WHOLE.fullmatch(raw):
        return int(raw)
    if kind == "geojson":
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    if kind == "moment":
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return raw
        if parsed.tzinfo is None:  # <input type="datetime-local">: the label says UTC
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.isoformat().replace("+00:00", "Z")
    return raw


def _compose_from(data: FormData) -> Compose:
    def text(name: str) -> str:
        value = data.get(name)
        return value if isinstance(value, str) else ""

    compose = Compose(
        id=_parse_uuid(text("id")) or uuid.uuid4(),
        channel=text("channel"),
        precedence=text("precedence"),
        form=text("form") or forms.TEXT,
        text=text("text"),
    )
    for template in COMPOSE_FORMS:
        for name in forms.FORMS[template].fields:
            key = f"{template}.{name}"
            if value := text(key):
                compose.values[key] = value
    return compose


def _template_fields(compose: Compose) -> dict[str, Any]:
    template = forms.FORMS.get(compose.form)
    if template is None:
        return {}
    fields = {}
    for name in template.fields:
        raw = compose.values.get(f"{compose.form}.{name}", "").strip()
        if raw:
            widget = WIDGETS.get(name)
            fields[name] = _field_value(widget.kind if widget else "text", raw)
    return fields


def _compose_context(db: Session, viewer: Viewer, compose: Compose) -> dict[str, Any]:
    language = viewer.language
    channels = sorted(
        list_channels(db, viewer), key=lambda c: (c.kind != ChannelKind.CELL.value, c.name)
    )
    return {
        "compose": compose,
        "may_send": can(viewer, Permission.MESSAGE_SEND) and bool(channels),
        "compose_channels": [(str(c.id), channel_label(c, language)) for c in channels],
        "precedences": [
            (p, PRECEDENCE_LABELS.get(p, p))
            for p in ledger_context(db).rules(HOTLINE_RULES).precedences
        ],
        "templates": [
            (
                name,
                forms.FORMS[name].title,
                [(field_name, WIDGETS[field_name]) for field_name in forms.FORMS[name].fields],
            )
            for name in COMPOSE_FORMS
        ],
    }


def _send(request: Request, viewer: Viewer, db: Session, now: datetime, data: FormData) -> Response:
    compose = _compose_from(data)
    partial = request.headers.get("hx-request") == "true"
    try:
        message = do_send_message(
            db,
            viewer,
            message_id=compose.id,
            # An unknown channel is the action's to refuse, after the permission check.
            channel_id=_parse_uuid(compose.channel) or uuid.UUID(int=0),
            precedence=compose.precedence,
            form=compose.form,
            text=compose.text if compose.form == forms.TEXT else None,
            fields=None if compose.form == forms.TEXT else _template_fields(compose),
            now=now,
        )
    except (InvalidInput, NotFound, IdempotencyConflict) as error:
        compose.error = translate(viewer.language, error.title)
        compose.detail = error.detail
        if isinstance(error, IdempotencyConflict):
            # A stale form (the back button) reused a sent message's id for new content.
            compose.id = uuid.uuid4()
        for problem in error.extensions.get("errors", []):
            message_text = str(problem.get("message", ""))
            if message_text == "missing":
                message_text = translate(viewer.language, "This field is required.")
            compose.field_errors[f"{compose.form}.{problem.get('field')}"] = message_text
        if partial:
            return page(
                request,
                viewer,
                "hotline/compose.html",
                status_code=error.status,
                **_compose_context(db, viewer, compose),
            )
        return _inbox(request, viewer, db, now, compose=compose, status_code=error.status)
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
        **_compose_context(db, viewer, fresh),
    )


# -- the inbox ----------------------------------------------------------------------------


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


def _script_labels(language: str) -> str:
    labels = {label: translate(language, label) for label in SCRIPT_LABELS}
    return json.dumps(labels, ensure_ascii=False)


def _inbox(
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
    shown = list(found[:PAGE_SIZE])
    # Seeing the inbox is receiving: the first view by the organisation is its delivery.
    do_mark_delivered(db, viewer, message_ids=[m.id for m in shown], now=now)
    rows = Rows(db, viewer, now)
    context: dict[str, Any] = {
        "list_id": LIST_ID,
        "rows": [rows.row(m) for m in shown],
        "filters": filters,
        "filtered": filters != Filters(),
        "older_url": filters.url(before=str(shown[-1].id)) if len(found) > PAGE_SIZE else None,
        "newest_url": filters.url() if before is not None else None,
        "next_url": filters.url(before=str(before) if before else None),
        "now_ms": _ms(now),
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
        filter_precedences=[(p, PRECEDENCE_LABELS[p]) for p in PRECEDENCES],
        stream_url=STREAM_URL,
        script_labels=_script_labels(viewer.language),
        may_watch=can_watch_deadlines(viewer),
        flash_waiting=any(r.may_ack and r.precedence == "FLASH" for r in context["rows"]),
        **_compose_context(db, viewer, compose or Compose()),
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
        channel=_parse_uuid(channel) if channel else None,
    )
    return _inbox(request, viewer, db, clock.now(), filters=filters, before=before)


@router.post("/hotline/messages")
async def send(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    """Field names depend on the template, so the form is read whole (it is already parsed
    for the CSRF check); the action and the rendering run off the event loop."""
    data = await request.form()
    return await run_in_threadpool(_send, request, viewer, db, clock.now(), data)


def _row_response(
    request: Request, viewer: Viewer, db: Session, message: Message, now: datetime
) -> Response:
    return page(
        request,
        viewer,
        "hotline/row.html",
        row=Rows(db, viewer, now).row(message),
        next_url="/hotline",
    )


@router.get("/hotline/messages/{message_id}/row")
def message_row(
    request: Request, message_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    """One message as the inbox shows it, for hotline.js to swap in when an event names it."""
    now = clock.now()
    message = get_message(db, viewer, message_id)
    do_mark_delivered(db, viewer, message_ids=[message.id], now=now)
    return _row_response(request, viewer, db, message, now)


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
            ack_id=_parse_uuid(ack_id) or uuid.uuid4(),
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


# -- the supervisor's deadlines -----------------------------------------------------------


@router.get("/hotline/deadlines")
def deadlines(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    messages = list_open_deadlines(db, viewer)  # 403 unless the viewer watches them
    now = clock.now()
    rows = Rows(db, viewer, now)
    open_rows = [rows.row(m) for m in messages]
    missed = [
        (row, party)
        for message, row in zip(messages, open_rows, strict=True)
        if message.form == "link_test" and message.ack_deadline <= now
        for party in row.parties
        if party.acknowledged_at is None
    ]
    context: dict[str, Any] = {
        "deadlines_id": DEADLINES_ID,
        "rows": open_rows,
        "missed_link_tests": missed,
        "now_ms": _ms(now),
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
        script_labels=_script_labels(viewer.language),
        **context,
    )
