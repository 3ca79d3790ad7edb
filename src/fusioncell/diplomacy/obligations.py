"""The diplomatic track's part of every page's header strip: what the member's
organisation owes now (a version to sign, a due milestone to put to verification, a comment
while the window is open, an assessment once it has closed), as ``Obligation`` values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.diplomacy.queries.agreements import list_owed
from fusioncell.hotline.rules import PRECEDENCES
from fusioncell.i18n import translate
from fusioncell.text import N_
from fusioncell.tracks import Obligation

SHOWN = 50
SUMMARY_CHARACTERS = 80
GROUP = "diplomacy"

KINDS = {
    "sign": N_("Agreement to sign"),
    "request_verification": N_("Milestone due"),
    "comment": N_("Comment window open"),
    "assess": N_("Milestone to assess"),
}


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SUMMARY_CHARACTERS:
        return flat
    return flat[: SUMMARY_CHARACTERS - 1] + "…"


def open_obligations(db: Session, viewer: Viewer, now: datetime) -> Sequence[Obligation]:
    language = viewer.language
    return [
        Obligation(
            id=f"diplomacy-{owed.duty}-{owed.subject}",
            url=f"/agreements/{owed.agreement}",
            act_url=None,
            act_label=translate(language, KINDS[owed.duty]),
            rank=len(PRECEDENCES),
            kind=owed.duty,
            kind_label=translate(language, KINDS[owed.duty]),
            summary=_summary(owed.title),
            deadline=owed.deadline,
            steps=0,
            alerts=False,
            group=GROUP,
        )
        for owed in list_owed(db, viewer, now=now, limit=SHOWN)
    ]
