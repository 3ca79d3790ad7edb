"""The hotline's part of every page's header strip: the messages the member's party has yet
to acknowledge, as ``fusioncell.tracks.Obligation`` values (the web shell imports nothing of
the hotline)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Permission, Viewer, can
from fusioncell.hotline import forms
from fusioncell.hotline.queries import list_open_obligations
from fusioncell.hotline.rules import PRECEDENCES
from fusioncell.i18n import translate
from fusioncell.text import N_
from fusioncell.tracks import Obligation

# The strip shows at most this many (and says "50+" when there may be more).
SHOWN = 50
SUMMARY_CHARACTERS = 80

PRECEDENCE_NAMES = {
    "FLASH": N_("FLASH"),
    "IMMEDIATE": N_("IMMEDIATE"),
    "PRIORITY": N_("PRIORITY"),
    "ROUTINE": N_("ROUTINE"),
}


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SUMMARY_CHARACTERS:
        return flat
    return flat[: SUMMARY_CHARACTERS - 1] + "…"


def open_obligations(db: Session, viewer: Viewer, now: datetime) -> Sequence[Obligation]:
    """One statement (``list_open_obligations``). ``now`` is unused: a deadline is shown as
    it stands, and the page counts it down."""
    language = viewer.language
    may_ack = can(viewer, Permission.MESSAGE_ACK)
    found = []
    for item in list_open_obligations(db, viewer, limit=SHOWN):
        message = item.message
        title = forms.title(message.form, language)
        text = forms.render(message.form, message.fields, message.text, language)
        found.append(
            Obligation(
                id=str(message.id),
                url=f"/hotline#message-{message.id}",
                act_url=f"/hotline/messages/{message.id}/ack" if may_ack else None,
                act_label=translate(language, "Acknowledge"),
                rank=PRECEDENCES.index(message.precedence)
                if message.precedence in PRECEDENCES
                else len(PRECEDENCES),
                kind=message.precedence.lower(),
                kind_label=translate(
                    language, PRECEDENCE_NAMES.get(message.precedence, message.precedence)
                ),
                summary=_summary(f"{title}: {text}" if title else text),
                deadline=message.ack_deadline,
                steps=item.steps,
                alerts=message.precedence == "FLASH",
                group=str(message.channel_id),
            )
        )
    return found
