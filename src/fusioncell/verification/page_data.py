"""What the disputes pages show, read through the track's queries with the viewer first and
labelled in the member's language: the cases per state with their next deadline, the
supervisor's triage queue, the complaint form, a case as a file (``present.case_detail``)
with the forms the viewer may use now, and the statistics drawn on one scale for every
party. Which form is offered follows the same policy functions and workflow table the
actions apply, so a form shown is a step the action would take."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fusioncell.cell.policy import Viewer
from fusioncell.deescalation.queries import Directory, directory
from fusioncell.errors import Forbidden
from fusioncell.geo.queries import map_layers
from fusioncell.geo.views import MAP_LABELS
from fusioncell.hotline.views.form import PICKER_LABELS
from fusioncell.i18n import translate
from fusioncell.text import N_
from fusioncell.verification import present, workflow
from fusioncell.verification.entries import VerificationEntry as E
from fusioncell.verification.models import (
    SUBSTANTIATED,
    AccessRequest,
    Case,
    CaseState,
    Outcome,
    Triage,
)
from fusioncell.verification.policy import (
    may_answer_access,
    may_close,
    may_comment,
    may_file,
    may_find,
    may_investigate,
    may_store_evidence,
    may_task,
    may_triage,
)
from fusioncell.verification.queries import cases as queries
from fusioncell.verification.queries.evidence import held_files
from fusioncell.verification.queries.links import KINDS as LINK_KINDS
from fusioncell.verification.queries.links import find_candidate
from fusioncell.verification.queries.stats import PartyStatistics, statistics
from fusioncell.verification.schemas import CaseDetailOut

# The list's sections, in the workflow's order; a dismissed case shows its triage.
STATE_LABELS = {
    CaseState.FILED: N_("Filed"),
    CaseState.TRIAGED: N_("Triaged"),
    CaseState.INVESTIGATING: N_("Investigating"),
    CaseState.DRAFTED: N_("Draft finding, comment window"),
    CaseState.ISSUED: N_("Finding issued"),
    CaseState.REMEDY_REQUESTED: N_("Remedy requested"),
    CaseState.REMEDY_VERIFIED: N_("Remedy verified"),
    CaseState.CLOSED: N_("Closed"),
    CaseState.DISMISSED: N_("Dismissed: duplicate or out of scope"),
}
TRIAGE_LABELS = {
    Triage.ADMISSIBLE: N_("Admissible"),
    Triage.DUPLICATE: N_("Duplicate of another case"),
    Triage.OUT_OF_SCOPE: N_("Out of scope"),
}
OUTCOME_LABELS = {
    Outcome.SUBSTANTIATED_ATTRIBUTED: N_("Substantiated, attributed to a party"),
    Outcome.SUBSTANTIATED_UNATTRIBUTED: N_("Substantiated, not attributed"),
    Outcome.NOT_SUBSTANTIATED: N_("Not substantiated"),
    Outcome.INCONCLUSIVE_ACCESS_DENIED: N_("Inconclusive: access was denied"),
    Outcome.INCONCLUSIVE_EVIDENCE: N_("Inconclusive: not enough evidence"),
}
STEP_LABELS = {
    E.COMPLAINT_FILED: N_("Complaint filed"),
    E.COMPLAINT_TRIAGED: N_("Triaged"),
    E.VERIFIER_TASKED: N_("Verifier tasked"),
    E.SITE_VISITED: N_("Site visited"),
    E.ACCESS_REQUESTED: N_("Access requested"),
    E.ACCESS_ANSWERED: N_("Access request answered"),
    E.INCIDENT_RECORDED: N_("Incident: access denied"),
    E.FINDING_DRAFTED: N_("Draft finding; comment window opened"),
    E.COMMENT_SEALED: N_("Comment sealed"),
    E.COMMENT_REVEALED: N_("Comment revealed"),
    E.FINDING_ISSUED: N_("Finding issued"),
    E.REMEDY_REQUESTED: N_("Remedy requested"),
    E.REMEDY_VERIFIED: N_("Remedy verified"),
    E.CASE_CLOSED: N_("Case closed"),
    E.DEADLINE_ESCALATED: N_("Deadline escalated"),
}
DUTY_LABELS = {
    "triage": N_("Triage"),
    "site_visit": N_("Verifier on site"),
    "access_answer": N_("Answer to the access request"),
    "comment": N_("Comment window closes"),
    "remedy": N_("Remedy due"),
}
ANSWER_LABELS = {"granted": N_("Granted"), "denied": N_("Denied")}
LINK_LABELS = {
    "observation": N_("Observation"),
    "candidate": N_("Violation candidate"),
    "notification": N_("Notification"),
    "incident": N_("Incident"),
    "intel_report": N_("Intelligence report"),
}
UNKNOWN = N_("Unknown party")
SCRIPT_LABELS = (N_("Updated."), N_("due in %(time)s"), N_("overdue by %(time)s"))
# The de-escalation rules a complaint most often names, offered as the form types.
RULE_SUGGESTIONS = ("R1", "R2", "R3", "R4", "R5", "R6", "C3")


def labels_json(language: str, *texts: str) -> str:
    return json.dumps({t: translate(language, t) for t in texts}, ensure_ascii=False)


def _label(language: str, table: dict[Any, str], key: str | None) -> str:
    if key is None:
        return ""
    return translate(language, table.get(key, key))


def _slug(dir_: Directory, organisation_id: uuid.UUID | None) -> str | None:
    found = dir_.by_id.get(organisation_id) if organisation_id is not None else None
    return found.slug if found is not None else None


# -- the list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """The next deadline of a case or a duty: what it is, when, whether overdue."""

    duty: str
    label: str
    due_at: datetime
    overdue: bool
    owed_by: str | None = None


@dataclass
class CaseRow:
    case: Case
    filed_by: str
    against: str
    state_label: str
    outcome_label: str
    deadline: Deadline | None


@dataclass
class Section:
    state: str
    label: str
    rows: list[CaseRow] = field(default_factory=list)


def next_deadline(
    case: Case, requests: Sequence[AccessRequest], *, now: datetime, language: str
) -> Deadline | None:
    """The soonest deadline still running on a case (its triage, the verifier's visit, an
    unanswered access request, the comment window, the remedy)."""
    found: list[tuple[str, datetime]] = []
    if case.state == CaseState.FILED:
        found.append(("triage", case.triage_due_at))
    if case.state == CaseState.INVESTIGATING and case.visited_at is None and case.on_site_due_at:
        found.append(("site_visit", case.on_site_due_at))
    if case.state in (CaseState.INVESTIGATING, CaseState.DRAFTED):
        found += [("access_answer", r.due_at) for r in requests if r.answer is None]
    if case.state == CaseState.DRAFTED and case.comments_close_at and case.comments_close_at > now:
        found.append(("comment", case.comments_close_at))
    if case.state == CaseState.REMEDY_REQUESTED and case.remedy_due_at is not None:
        found.append(("remedy", case.remedy_due_at))
    if not found:
        return None
    duty, due = min(found, key=lambda pair: pair[1])
    return Deadline(duty, _label(language, DUTY_LABELS, duty), due, due <= now)


def case_rows(
    db: Session, viewer: Viewer, cases: Sequence[Case], *, now: datetime
) -> list[CaseRow]:
    """Rows of the list in a constant number of statements."""
    language = viewer.language
    dir_ = directory(db, viewer)
    requests: dict[uuid.UUID, list[AccessRequest]] = {}
    for r in queries.requests_for_engine(db, [c.id for c in cases]):
        requests.setdefault(r.case_id, []).append(r)
    return [
        CaseRow(
            case=c,
            filed_by=_slug(dir_, c.organisation_id) or "",
            against=_slug(dir_, c.against_id) or translate(language, UNKNOWN),
            state_label=_label(language, STATE_LABELS, c.state),
            outcome_label=_label(language, OUTCOME_LABELS, c.outcome),
            deadline=next_deadline(c, requests.get(c.id, []), now=now, language=language),
        )
        for c in cases
    ]


def sections(rows: list[CaseRow], language: str) -> list[Section]:
    found = {state.value: Section(state.value, translate(language, label)) for state, label in
             STATE_LABELS.items()}  # fmt: skip
    for row in rows:
        found[row.case.state].rows.append(row)
    return list(found.values())


COMPLAINT_FIELDS = (
    "allegation", "against", "rule", "lon", "lat", "location", "occurred_at", "links",
    "candidate",
)  # fmt: skip


def complaint_state(data: FormData | None, *, candidate: str = "") -> dict[str, Any]:
    state: dict[str, Any] = {
        n: str(data.get(n, "")).strip() if data is not None else "" for n in COMPLAINT_FIELDS
    }
    given = str(data.get("id", "")) if data is not None else ""
    try:
        state["id"] = str(uuid.UUID(given))
    except ValueError:
        state["id"] = str(uuid.uuid4())
    if data is None and candidate:
        state["candidate"] = candidate
    state["attach"] = [str(v) for v in data.getlist("attach")] if data is not None else []
    return state


def list_context(
    db: Session,
    viewer: Viewer,
    *,
    now: datetime,
    data: FormData | None = None,
    candidate: str = "",
) -> dict[str, Any]:
    language = viewer.language
    cases = queries.list_cases(db, viewer)
    rows = case_rows(db, viewer, cases, now=now)
    queue_ids = [c.id for c in queries.triage_queue(db, viewer)] if may_triage(viewer) else []
    by_id = {r.case.id: r for r in rows}
    queue = [by_id[i] for i in queue_ids if i in by_id]
    files = may_file(viewer)
    found_candidate = None
    form = complaint_state(data, candidate=candidate)
    dir_ = directory(db, viewer)
    own = dir_.by_id.get(viewer.organisation_id)
    if data is None and not form["candidate"]:
        # A party complains of the other party; anyone else chooses.
        others = [p for p in dir_.parties() if own is None or p != own.slug]
        form["against"] = others[0] if own is not None and own.kind == "party" and others else ""
    if files and form["candidate"]:
        found_candidate = find_candidate(db, viewer, form["candidate"], now=now)
    return {
        "sections": sections(rows, language),
        "case_count": len(rows),
        "queue": queue,
        "may_file": files,
        "may_upload": files and may_store_evidence(viewer),
        "parties": dir_.parties(),
        "rules": RULE_SUGGESTIONS,
        "link_kinds": [(k, translate(language, LINK_LABELS[k])) for k in LINK_KINDS],
        "held": held_files(db, viewer) if files else [],
        "picker": _map(viewer, *PICKER_LABELS) if files else None,
        "form": form,
        "candidate": found_candidate,
        "now": now,
    }


# -- a case ----------------------------------------------------------------------------------


@dataclass
class Forms:
    """The forms the viewer may use on a case now."""

    triage: bool = False
    task: bool = False
    visit: bool = False
    access: bool = False
    answer: list[uuid.UUID] = field(default_factory=list)
    draft: bool = False
    comment: bool = False
    finding: bool = False
    remedy: bool = False
    verify: bool = False
    close: bool = False

    def any(self) -> bool:
        return any(
            (self.triage, self.task, self.visit, self.access, self.answer, self.draft,
             self.comment, self.finding, self.remedy, self.verify, self.close)
        )  # fmt: skip


def forms_for(viewer: Viewer, detail: CaseDetailOut, *, now: datetime, own: str | None) -> Forms:
    """The forms the viewer may use now (``own``: the viewer's organisation, by slug)."""
    state = detail.state
    window_open = detail.comments_close_at is not None and now < detail.comments_close_at
    commented = own is not None and any(c.party == own for c in detail.comments)
    return Forms(
        triage=may_triage(viewer) and workflow.allowed(E.COMPLAINT_TRIAGED, state),
        task=may_task(viewer) and workflow.allowed(E.VERIFIER_TASKED, state),
        visit=may_investigate(viewer) and workflow.allowed(E.SITE_VISITED, state),
        access=may_investigate(viewer) and workflow.allowed(E.ACCESS_REQUESTED, state),
        answer=[
            r.id
            for r in detail.access_requests
            if may_answer_access(viewer)
            and r.answer is None
            and r.party == own
            and workflow.allowed(E.ACCESS_ANSWERED, state)
        ],
        draft=may_find(viewer) and workflow.allowed(E.FINDING_DRAFTED, state),
        comment=may_comment(viewer)
        and workflow.allowed(E.COMMENT_SEALED, state)
        and window_open
        and not commented,
        finding=may_find(viewer) and workflow.allowed(E.FINDING_ISSUED, state) and not window_open,
        remedy=may_find(viewer)
        and workflow.allowed(E.REMEDY_REQUESTED, state)
        and detail.outcome in SUBSTANTIATED,
        verify=may_find(viewer) and workflow.allowed(E.REMEDY_VERIFIED, state),
        close=may_close(viewer) and workflow.allowed(E.CASE_CLOSED, state),
    )


def _map(viewer: Viewer, *extra: str) -> dict[str, str] | None:
    """The map's layers and labels (with ``extra`` labels, a picker's), or None for a member
    who may not read the cell's geometry."""
    try:
        layers = map_layers(viewer)
    except Forbidden:
        return None
    labels = {label: translate(viewer.language, label) for label in (*MAP_LABELS, *extra)}
    return {**layers, "labels": json.dumps(labels, ensure_ascii=False)}


def case_context(
    db: Session, viewer: Viewer, case: Case, *, now: datetime, data: FormData | None = None
) -> dict[str, Any]:
    language = viewer.language
    dir_ = directory(db, viewer)
    own = dir_.by_id.get(viewer.organisation_id)
    detail = present.case_detail(db, viewer, case, now=now)
    forms = forms_for(viewer, detail, now=now, own=own.slug if own else None)
    comments = {c.party: c for c in detail.comments}
    window_open = detail.comments_close_at is not None and now < detail.comments_close_at
    return {
        "case": detail,
        "own": own.slug if own else None,
        "state_label": _label(language, STATE_LABELS, detail.state),
        "triage_label": _label(language, TRIAGE_LABELS, detail.triage),
        "outcome_label": _label(language, OUTCOME_LABELS, detail.outcome),
        "draft_label": _label(
            language, OUTCOME_LABELS, detail.draft["outcome"] if detail.draft else None
        ),
        "steps": [(step, _label(language, STEP_LABELS, step.kind)) for step in detail.timeline],
        "deadlines": [(d, _label(language, DUTY_LABELS, d.duty)) for d in detail.deadlines],
        "comment_window": window_open,
        # Every party's column, side by side, commented or not.
        "comment_columns": [(party, comments.get(party)) for party in dir_.parties()],
        "forms": forms,
        "parties": dir_.parties(),
        "triage_choices": [(t.value, translate(language, lbl)) for t, lbl in TRIAGE_LABELS.items()],
        "outcome_choices": [
            (o.value, translate(language, lbl))
            for o, lbl in OUTCOME_LABELS.items()
            if o != Outcome.INCONCLUSIVE_ACCESS_DENIED
            or any(r.answer == "denied" for r in detail.access_requests)
        ],
        "answer_labels": {k: translate(language, v) for k, v in ANSWER_LABELS.items()},
        "link_labels": {k: translate(language, v) for k, v in LINK_LABELS.items()},
        "other_cases": [c for c in queries.list_cases(db, viewer, limit=200) if c.id != case.id]
        if forms.triage
        else [],
        "map": _map(viewer),
        "form": {n: str(data.get(n, "")).strip() for n in data} if data is not None else {},
        "new_id": uuid.uuid4,
        "now": now,
    }


# -- the statistics ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    party: str
    value: float | None  # None: no case to measure
    percent: str


@dataclass
class Measure:
    """One figure for every party, drawn against one maximum (R13: the same scale)."""

    key: str
    label: str
    unit: str
    bars: list[Bar]
    scale: float


def _bars(parties: list[str], values: list[float | None]) -> tuple[list[Bar], float]:
    scale = max([v for v in values if v is not None] + [0.0])
    return [
        Bar(
            party,
            value,
            f"{(value / scale * 100 if scale and value is not None else 0):.1f}%",
        )
        for party, value in zip(parties, values, strict=True)
    ], scale


STAT_LABELS = {
    "filed": N_("Complaints filed"),
    "received": N_("Complaints received"),
    "open": N_("Open cases received"),
    "access_denials": N_("Access denials"),
    "remedies_requested": N_("Remedies requested"),
    "remedies_verified": N_("Remedies verified"),
    "to_triage": N_("Hours to triage (median)"),
    "to_site_visit": N_("Hours to site visit (median)"),
    "to_finding": N_("Hours to finding (median)"),
}


def stats_context(db: Session, viewer: Viewer) -> dict[str, Any]:
    language = viewer.language
    figures: list[PartyStatistics] = statistics(db, viewer)
    parties = [f.party for f in figures]
    measures = []
    for key in ("filed", "received", "open", "access_denials", "remedies_requested",
                "remedies_verified"):  # fmt: skip
        bars, scale = _bars(parties, [float(getattr(f, key)) for f in figures])
        measures.append(Measure(key, translate(language, STAT_LABELS[key]), "", bars, scale))
    for key in ("to_triage", "to_site_visit", "to_finding"):
        bars, scale = _bars(parties, [getattr(f, key).median_hours for f in figures])
        measures.append(Measure(key, translate(language, STAT_LABELS[key]), "h", bars, scale))
    for outcome, label in OUTCOME_LABELS.items():
        bars, scale = _bars(parties, [float(f.outcomes.get(outcome, 0)) for f in figures])
        measures.append(Measure(f"outcome-{outcome}", translate(language, label), "", bars, scale))
    return {"figures": figures, "parties": parties, "measures": measures}
