"""The deconfliction track's part of every page's header strip: the notifications whose
receipt the member's party has yet to acknowledge, and the FLASH justifications its
organisation owes, as ``fusioncell.tracks.Obligation`` values (the web shell imports nothing
of the track)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deconfliction.models import Duty
from fusioncell.deconfliction.policy import may_acknowledge
from fusioncell.deconfliction.queries.notifications import list_owed
from fusioncell.hotline.rules import PRECEDENCES
from fusioncell.i18n import translate
from fusioncell.text import N_
from fusioncell.tracks import Obligation

SHOWN = 50
SUMMARY_CHARACTERS = 80
# What the strip groups these under (the hotline groups by channel).
GROUP = "deconfliction"

KIND_NAMES = {
    "activity": N_("Activity notification"),
    "movement": N_("Movement notification"),
    "site": N_("Site notification"),
    "emergency": N_("Emergency notification"),
}
JUSTIFICATION = N_("FLASH justification")


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SUMMARY_CHARACTERS:
        return flat
    return flat[: SUMMARY_CHARACTERS - 1] + "…"


def open_obligations(db: Session, viewer: Viewer, now: datetime) -> Sequence[Obligation]:
    """Two statements (``list_owed``)."""
    language = viewer.language
    may_ack = may_acknowledge(viewer)
    found = []
    for owed in list_owed(db, viewer, now=now, limit=SHOWN):
        n = owed.notification
        url = f"/deconfliction#notification-{n.id}"
        if owed.duty == Duty.ACK:
            found.append(
                Obligation(
                    id=f"notification-{n.id}-v{n.version}",
                    url=url,
                    act_url=f"/deconfliction/notifications/{n.id}/acknowledge" if may_ack else None,
                    act_label=translate(language, "Acknowledge receipt"),
                    rank=PRECEDENCES.index(n.precedence)
                    if n.precedence in PRECEDENCES
                    else len(PRECEDENCES),
                    kind=n.precedence.lower(),
                    kind_label=translate(language, KIND_NAMES.get(n.kind, n.kind)),
                    summary=_summary(n.description),
                    deadline=owed.deadline,
                    steps=owed.steps,
                    alerts=n.precedence == "FLASH",
                    group=GROUP,
                )
            )
        else:
            found.append(
                Obligation(
                    id=f"notification-{n.id}-justification",
                    url=url,
                    act_url=None,
                    act_label=translate(language, "Justify"),
                    rank=len(PRECEDENCES),
                    kind="justification",
                    kind_label=translate(language, JUSTIFICATION),
                    summary=_summary(n.description),
                    deadline=owed.deadline,
                    steps=owed.steps,
                    alerts=False,
                    group=GROUP,
                )
            )
    return found
