"""How the hotline's pages show a message: one row per message, for one viewer, with its
parties, countdowns and escalations; shared by the inbox and the deadlines."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Permission, Viewer, can
from fusioncell.hotline import forms, labels
from fusioncell.hotline.models import Channel, Message
from fusioncell.hotline.queries import MessageState, list_channels, message_states, names
from fusioncell.i18n import direction, translate
from fusioncell.ledger.entries import log_time
from fusioncell.text import N_

STREAM_URL = "/api/v1/stream"

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
    # A row updated in place from an acknowledgement or escalation frame.
    N_("acknowledged"),
    N_("escalated"),
    N_("Delivery deadline missed"),
    N_("Escalation step %(step)s"),
]


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
    organisation_id: uuid.UUID
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


def ms(moment: datetime) -> int:
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
        at_ms=ms(deadline),
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
    return labels.channel_label(channel.kind, channel.name, language)


@dataclass
class Rows:
    """Turns messages into rows for one viewer: the channels and names are read once per
    request, and the messages' states once per list (``message_states``), so that a page costs
    the same number of statements whatever the number of rows."""

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

    def rows(
        self, messages: Sequence[Message], states: dict[uuid.UUID, MessageState] | None = None
    ) -> list[MessageRow]:
        """``states``: as ``message_states`` (or ``receiving.receive``) read them, if already."""
        if states is None:
            states = message_states(self.db, self.viewer, messages)
        return [self.row(message, states[message.id]) for message in messages]

    def row(self, message: Message, state: MessageState) -> MessageRow:
        viewer, language = self.viewer, self.viewer.language
        delivered = {d.organisation_id: d.delivered_at for d in state.deliveries}
        counted = {a.organisation_id: a for a in state.acks if a.counts}
        parties = []
        for recipient in state.recipients:
            party = recipient.organisation_id
            ack = counted.get(party)
            parties.append(
                PartyView(
                    organisation_id=party,
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
            now_ms=ms(self.now),
        )


def script_labels(language: str) -> str:
    labels = {label: translate(language, label) for label in SCRIPT_LABELS}
    return json.dumps(labels, ensure_ascii=False)


def parse_uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
