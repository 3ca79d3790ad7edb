"""The verification track's part of every page's header strip: what the member's
organisation owes in its cases now (the supervisor's triage, the verifier's site visit, a
party's answer to an access request, its comment while the window is open, a remedy asked of
it), as ``fusioncell.tracks.Obligation`` values (the web shell imports nothing of the track)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.hotline.rules import PRECEDENCES
from fusioncell.i18n import translate
from fusioncell.text import N_
from fusioncell.tracks import Obligation
from fusioncell.verification.queries.cases import list_owed

SHOWN = 50
SUMMARY_CHARACTERS = 80
GROUP = "verification"

KINDS = {
    "triage": N_("Complaint to triage"),
    "site_visit": N_("Site visit due"),
    "access_answer": N_("Access request to answer"),
    "comment": N_("Comment window open"),
    "remedy": N_("Remedy due"),
}
_SUMMARY = N_("Case %(number)s (%(rule)s): %(allegation)s")


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SUMMARY_CHARACTERS:
        return flat
    return flat[: SUMMARY_CHARACTERS - 1] + "…"


def open_obligations(db: Session, viewer: Viewer, now: datetime) -> Sequence[Obligation]:
    language = viewer.language
    return [
        Obligation(
            id=f"verification-{owed.duty}-{owed.request.id if owed.request else owed.case.id}",
            url=f"/verification/cases/{owed.case.id}",
            act_url=None,
            act_label=translate(language, KINDS[owed.duty]),
            rank=len(PRECEDENCES),
            kind=owed.duty,
            kind_label=translate(language, KINDS[owed.duty]),
            summary=_summary(
                translate(
                    language,
                    _SUMMARY,
                    number=owed.case.number,
                    rule=owed.case.rule,
                    allegation=owed.case.allegation,
                )
            ),
            deadline=owed.deadline,
            steps=owed.steps,
            alerts=False,
            group=GROUP,
        )
        for owed in list_owed(db, viewer, now=now, limit=SHOWN)
    ]
