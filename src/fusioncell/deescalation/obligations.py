"""The de-escalation track's part of every page's header strip: the inspections the parties
requested that the verifier has yet to carry out (R7: within the rules' hours), as
``fusioncell.tracks.Obligation`` values (the web shell imports nothing of the track)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deescalation.queries import list_open_inspection_requests
from fusioncell.hotline.rules import PRECEDENCES
from fusioncell.i18n import translate
from fusioncell.text import N_
from fusioncell.tracks import Obligation

SHOWN = 50
SUMMARY_CHARACTERS = 80
GROUP = "deescalation"
KIND = N_("Inspection requested")
_SUMMARY = N_("%(zone)s, side %(side)s: %(reason)s")


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SUMMARY_CHARACTERS:
        return flat
    return flat[: SUMMARY_CHARACTERS - 1] + "…"


def open_obligations(db: Session, viewer: Viewer, now: datetime) -> Sequence[Obligation]:
    """One statement. The report form carries a request out, so the strip links to it."""
    language = viewer.language
    return [
        Obligation(
            id=f"inspection-request-{request.id}",
            url=f"/deescalation/inspections#request-{request.id}",
            act_url=None,
            act_label=translate(language, "Report an inspection"),
            rank=len(PRECEDENCES),
            kind="inspection",
            kind_label=translate(language, KIND),
            summary=_summary(
                translate(
                    language, _SUMMARY, zone=request.zone, side=request.side, reason=request.reason
                )
            ),
            deadline=request.due_at,
            steps=0,
            alerts=False,
            group=GROUP,
        )
        for request in list_open_inspection_requests(db, viewer, limit=SHOWN)
    ]
