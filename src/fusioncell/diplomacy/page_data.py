"""What the diplomatic track's pages show, read through the track's queries with the viewer
first: the agreements with their versions and who signed which hash, an agreement's
commitments and milestones (comments sealed as the queries seal them, the assessment with
the de-escalation engine's result beside it), meetings with their minutes and signatures,
and the dashboard's figures. Which form is offered follows the same policy functions the
actions apply, so a form shown is a step the action would take."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deescalation.queries import Directory, directory
from fusioncell.diplomacy.models import (
    Agreement,
    AgreementVersion,
    Commitment,
    Meeting,
    Milestone,
    MilestoneState,
    Outcome,
    Signature,
)
from fusioncell.diplomacy.policy import (
    is_party_officer,
    may_assess,
    may_comment,
    may_draft_minutes,
    may_propose,
    may_request_verification,
    may_sign,
)
from fusioncell.diplomacy.queries import agreements as q
from fusioncell.diplomacy.queries import meetings as mq
from fusioncell.diplomacy.queries.agreements import CommentView
from fusioncell.i18n import translate
from fusioncell.text import N_

STATUS_LABELS = {
    "open": N_("Not yet due"),
    "due": N_("Due"),
    MilestoneState.REQUESTED: N_("Verification requested"),
    MilestoneState.ASSESSED: N_("Assessed"),
    MilestoneState.WAIVED: N_("Waived"),
    MilestoneState.WITHDRAWN: N_("Withdrawn"),
}
OUTCOME_LABELS = {
    Outcome.MET: N_("Met"),
    Outcome.PARTIALLY_MET: N_("Partially met"),
    Outcome.BREACHED: N_("Breached"),
    Outcome.NOT_VERIFIABLE: N_("Not verifiable"),
}
# The dashboard's figures per party, in this order, on one scale.
FIGURES = ("met", "partially_met", "breached", "late", "open")
FIGURE_LABELS = {
    "met": N_("Met on time"),
    "partially_met": N_("Partially met"),
    "breached": N_("Breached"),
    "late": N_("Late: due, not assessed"),
    "open": N_("Open, not yet due"),
}
SCRIPT_LABELS = (N_("Updated."), N_("due in %(time)s"), N_("overdue by %(time)s"))


def labels_json(language: str, *texts: str) -> str:
    return json.dumps({t: translate(language, t) for t in texts}, ensure_ascii=False)


def _slug(dir_: Directory, organisation_id: uuid.UUID | None) -> str:
    found = dir_.by_id.get(organisation_id) if organisation_id is not None else None
    return found.slug if found is not None else "?"


def status(milestone: Milestone, now: datetime) -> str:
    if milestone.state == MilestoneState.OPEN and milestone.due_at <= now:
        return "due"
    return milestone.state


# -- agreements -----------------------------------------------------------------------------


@dataclass
class VersionView:
    version: AgreementVersion
    signed: list[tuple[str, Signature]]
    awaiting: list[str]
    in_force: bool
    superseded: bool
    # The viewer's organisation may sign this version now.
    may_sign: bool


@dataclass
class MilestoneView:
    milestone: Milestone
    status: str
    comments: list[tuple[str, CommentView]]
    window_open: bool
    forms: list[str]  # request, comment, assess
    own_comment: CommentView | None = None


@dataclass
class CommitmentView:
    commitment: Commitment
    debtor: str
    milestones: list[MilestoneView] = field(default_factory=list)

    def next_milestone(self) -> MilestoneView | None:
        return next(
            (
                m
                for m in self.milestones
                if m.milestone.state in (MilestoneState.OPEN, MilestoneState.REQUESTED)
            ),
            None,
        )


@dataclass
class AgreementView:
    agreement: Agreement
    title: str
    text: str
    parties: list[str]
    date: str
    versions: list[VersionView]
    commitments: list[CommitmentView]

    @property
    def in_force(self) -> VersionView | None:
        return next((v for v in self.versions if v.in_force), None)


def _versions(
    dir_: Directory,
    viewer: Viewer,
    agreement: Agreement,
    versions: Sequence[AgreementVersion],
    signatures: dict[uuid.UUID, list[Signature]],
) -> list[VersionView]:
    own = _slug(dir_, viewer.organisation_id)
    found = []
    for v in versions:
        signed = [(_slug(dir_, s.organisation_id), s) for s in signatures[v.id]]
        names = {name for name, _ in signed}
        superseded = (agreement.in_force_number or 0) >= v.number
        found.append(
            VersionView(
                version=v,
                signed=signed,
                awaiting=sorted(set(v.signatories) - names),
                in_force=agreement.in_force_number == v.number,
                superseded=superseded and agreement.in_force_number != v.number,
                may_sign=may_sign(viewer)
                and own in v.signatories
                and own not in names
                and not superseded,
            )
        )
    return found


def agreement_views(
    db: Session,
    viewer: Viewer,
    agreements: Sequence[Agreement],
    *,
    now: datetime,
    with_comments: bool = False,
) -> list[AgreementView]:
    """The agreements read above with their versions, signatures, commitments and
    milestones, in a constant number of statements (plus one per milestone's comments on
    an agreement's own page)."""
    dir_ = directory(db, viewer)
    ids = [a.id for a in agreements]
    versions: dict[uuid.UUID, list[AgreementVersion]] = defaultdict(list)
    for v in q.versions_of(db, ids):
        versions[v.agreement_id].append(v)
    signatures: dict[uuid.UUID, list[Signature]] = defaultdict(list)
    for s in q.signatures_of(db, [v.id for vs in versions.values() for v in vs]):
        signatures[s.version_id].append(s)
    milestones: dict[uuid.UUID, list[Milestone]] = defaultdict(list)
    for m in q.milestones_of(db, ids):
        milestones[m.commitment_id].append(m)
    commitments: dict[uuid.UUID, list[CommitmentView]] = defaultdict(list)
    for c in q.commitments_of(db, ids):
        view = CommitmentView(c, _slug(dir_, c.debtor_id))
        for m in milestones[c.id]:
            view.milestones.append(_milestone(db, viewer, dir_, m, now, with_comments))
        commitments[c.agreement_id].append(view)
    found = []
    for a in agreements:
        mine = versions[a.id]
        shown = next((v for v in mine if v.number == a.in_force_number), mine[-1])
        found.append(
            AgreementView(
                agreement=a,
                title=str(shown.content["title"]),
                text=str(shown.content.get("text", "")),
                parties=list(shown.content["parties"]),
                date=str(shown.content["date"]),
                versions=_versions(dir_, viewer, a, mine, signatures),
                commitments=commitments[a.id],
            )
        )
    return found


def _milestone(
    db: Session,
    viewer: Viewer,
    dir_: Directory,
    m: Milestone,
    now: datetime,
    with_comments: bool,
) -> MilestoneView:
    window = (
        m.state == MilestoneState.REQUESTED
        and m.comments_close_at is not None
        and now < m.comments_close_at
    )
    comments = (
        [(_slug(dir_, v.comment.organisation_id), v) for v in q.comments_of(db, viewer, m)]
        if with_comments and m.state in (MilestoneState.REQUESTED, MilestoneState.ASSESSED)
        else []
    )
    own = next(
        (v for _, v in comments if v.comment.organisation_id == viewer.organisation_id), None
    )
    forms = []
    if m.state == MilestoneState.OPEN and m.due_at <= now and may_request_verification(viewer):
        forms.append("request")
    if window and may_comment(viewer) and own is None:
        forms.append("comment")
    if (
        m.state == MilestoneState.REQUESTED
        and not window
        and m.due_at <= now
        and may_assess(viewer)
    ):
        forms.append("assess")
    return MilestoneView(m, status(m, now), comments, window, forms, own)


def list_context(db: Session, viewer: Viewer, *, now: datetime) -> dict[str, Any]:
    views = agreement_views(db, viewer, q.list_agreements(db, viewer), now=now)
    return {"agreements": views, "now": now, "may_propose": may_propose(viewer)}


def agreement_context(
    db: Session, viewer: Viewer, agreement: Agreement, *, now: datetime
) -> dict[str, Any]:
    [view] = agreement_views(db, viewer, [agreement], now=now, with_comments=True)
    forms = sorted(
        {f for c in view.commitments for m in c.milestones for f in m.forms}
        | ({"sign"} if any(v.may_sign for v in view.versions) else set())
    )
    meetings = [m for m in mq.list_meetings(db, viewer) if m.agreement_id == agreement.id]
    return {
        "a": view,
        "now": now,
        "forms": forms,
        "meetings": meetings,
        "new_id": uuid.uuid4,
        "status_labels": {k: translate(viewer.language, v) for k, v in STATUS_LABELS.items()},
        "outcome_labels": {k: translate(viewer.language, v) for k, v in OUTCOME_LABELS.items()},
    }


# -- meetings --------------------------------------------------------------------------------


@dataclass
class MeetingView:
    meeting: Meeting
    requested_by: str
    comments: list[tuple[str, Any]]
    signed: list[tuple[str, Any]]  # signatures of the current draft
    awaiting: list[str]
    forms: list[str]  # draft, comment, sign, adopt


def meeting_view(db: Session, viewer: Viewer, meeting: Meeting) -> MeetingView:
    dir_ = directory(db, viewer)
    own = _slug(dir_, viewer.organisation_id)
    comments = [(_slug(dir_, c.organisation_id), c) for c in mq.minutes_comments_of(db, meeting.id)]
    signed = [
        (_slug(dir_, s.organisation_id), s)
        for s in mq.minutes_signatures_of(db, meeting.id)
        if s.minutes_hash == meeting.minutes_hash
    ]
    names = {name for name, _ in signed}
    agreed = meeting.agreed_index is not None
    participant = is_party_officer(viewer) and own in meeting.participants
    forms = []
    if may_draft_minutes(viewer) and not agreed:
        forms.append("draft")
    if participant and meeting.minutes_hash is not None and not agreed:
        forms.append("comment")
        if own not in names:
            forms.append("sign")
    if (
        agreed
        and may_propose(viewer)
        and meeting.agreement_id is not None
        and meeting.minutes is not None
        and any(d.get("commitment") for d in meeting.minutes.get("decisions", []))
    ):
        forms.append("adopt")
    return MeetingView(
        meeting,
        _slug(dir_, meeting.organisation_id),
        comments,
        signed,
        sorted(set(meeting.participants) - names),
        forms,
    )


def meetings_context(db: Session, viewer: Viewer) -> dict[str, Any]:
    return {"meetings": [meeting_view(db, viewer, m) for m in mq.list_meetings(db, viewer)]}


# -- the dashboard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A commitment on the dashboard: its next milestone and where each milestone stands."""

    agreement: uuid.UUID
    agreement_title: str
    key: str
    debtor: str
    beneficiaries: list[str]
    obligation: str
    next_key: str | None
    next_title: str | None
    next_due: datetime | None
    next_status: str | None
    assessed: int
    outcomes: list[tuple[str, str]]  # (milestone, outcome)
    evidence: list[str]


@dataclass(frozen=True)
class Dashboard:
    rows: list[Row]
    parties: dict[str, dict[str, int]]
    scale: int
    now: datetime


def figure_of(milestone: Milestone, now: datetime) -> str | None:
    """The party figure a milestone counts in (waived and withdrawn count in none)."""
    if milestone.state == MilestoneState.ASSESSED:
        if milestone.outcome in ("met", "partially_met", "breached"):
            return milestone.outcome
        return None
    if milestone.state in (MilestoneState.OPEN, MilestoneState.REQUESTED):
        return "late" if milestone.due_at <= now else "open"
    return None


def dashboard(db: Session, viewer: Viewer, *, now: datetime) -> Dashboard:
    views = agreement_views(db, viewer, q.list_agreements(db, viewer, limit=1000), now=now)
    rows = []
    parties: dict[str, dict[str, int]] = {}
    dir_ = directory(db, viewer)
    for party in dir_.parties():
        parties[party] = dict.fromkeys(FIGURES, 0)
    for a in views:
        for c in a.commitments:
            if c.commitment.withdrawn:
                continue
            figures = parties.setdefault(c.debtor, dict.fromkeys(FIGURES, 0))
            for m in c.milestones:
                figure = figure_of(m.milestone, now)
                if figure is not None:
                    figures[figure] += 1
            upcoming = c.next_milestone()
            assessed = [m.milestone for m in c.milestones if m.milestone.outcome is not None]
            rows.append(
                Row(
                    agreement=a.agreement.id,
                    agreement_title=a.title,
                    key=c.commitment.key,
                    debtor=c.debtor,
                    beneficiaries=list(c.commitment.beneficiaries),
                    obligation=c.commitment.obligation,
                    next_key=upcoming.milestone.key if upcoming else None,
                    next_title=upcoming.milestone.title if upcoming else None,
                    next_due=upcoming.milestone.due_at if upcoming else None,
                    next_status=upcoming.status if upcoming else None,
                    assessed=len(assessed),
                    outcomes=[(m.key, m.outcome or "") for m in assessed],
                    evidence=[f"{e['kind']}:{e['id']}" for m in assessed for e in m.evidence or []],
                )
            )
    scale = max([1, *(n for f in parties.values() for n in f.values())])
    return Dashboard(rows, parties, scale, now)
