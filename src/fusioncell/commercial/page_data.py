"""What the commercial pages show, read through the track's queries with the viewer first and
labelled in the member's language: the projects with their next milestone and shipments
(``/projects``), a project as a file with the forms its viewer may use now
(``/projects/{id}``), and the statistics on one scale for every party
(``/projects/stats``). Which form is offered follows the policy functions and the status
and state tables the actions apply, so a form shown is a step the action would take."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fusioncell.cell.models import OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.commercial import present
from fusioncell.commercial.models import (
    TRANSITIONS,
    MilestoneStatus,
    Project,
    ProjectStatus,
    Shipment,
    ShipmentState,
)
from fusioncell.commercial.policy import (
    is_party_officer,
    may_decide,
    may_declare,
    may_inspect,
    may_manage,
    may_store_evidence,
)
from fusioncell.commercial.queries import projects as queries
from fusioncell.commercial.queries.evidence import held_files
from fusioncell.commercial.queries.stats import METHOD, PartyStatistics, statistics
from fusioncell.deconfliction.models.registry import PlaceKind
from fusioncell.deconfliction.queries.registry import list_places
from fusioncell.deescalation.queries import directory
from fusioncell.errors import Forbidden
from fusioncell.geo.queries import map_layers
from fusioncell.geo.views import MAP_LABELS
from fusioncell.i18n import translate
from fusioncell.text import N_

STATUS_LABELS = {
    ProjectStatus.PROPOSED: N_("Proposed"),
    ProjectStatus.ACTIVE: N_("Active"),
    ProjectStatus.SUSPENDED: N_("Suspended"),
    ProjectStatus.COMPLETED: N_("Completed"),
    ProjectStatus.CANCELLED: N_("Cancelled"),
}
MILESTONE_LABELS = {
    MilestoneStatus.OPEN: N_("Open"),
    MilestoneStatus.MET: N_("Met by its due date"),
    MilestoneStatus.LATE: N_("Met late"),
    MilestoneStatus.MISSED: N_("Missed"),
}
SHIPMENT_LABELS = {
    ShipmentState.DECLARED: N_("Declared"),
    ShipmentState.INSPECTED: N_("Inspected"),
    ShipmentState.PASSED: N_("Passed"),
    ShipmentState.REFUSED: N_("Refused"),
}
LEAD_LABELS = {"on_time": N_("Declared on time"), "late": N_("Declared late")}
SCRIPT_LABELS = (N_("Updated."), N_("due in %(time)s"), N_("overdue by %(time)s"))
STAT_LABELS = {
    "shipments_declared": N_("Shipments declared"),
    "shipments_late": N_("Shipments declared late"),
    "shipments_passed": N_("Shipments passed"),
    "shipments_refused": N_("Shipments refused"),
    "milestones_met": N_("Milestones met by their due date"),
    "milestones_late": N_("Milestones met late"),
    "milestones_missed": N_("Milestones missed"),
    "milestones_open": N_("Milestones open"),
}


def labels_json(language: str, *texts: str) -> str:
    return json.dumps({t: translate(language, t) for t in texts}, ensure_ascii=False)


def _label(language: str, table: dict[Any, str], key: str | None) -> str:
    if key is None:
        return ""
    return translate(language, table.get(key, key))


def due_end(due_on: date) -> datetime:
    """A milestone is due by the end of its due day (UTC): it is missed only after it."""
    return datetime.combine(due_on + timedelta(days=1), time.min, tzinfo=UTC)


# -- the list ------------------------------------------------------------------------------


@dataclass
class ShipmentSummary:
    declared: int = 0
    late: int = 0
    pending: int = 0
    passed: int = 0
    refused: int = 0


@dataclass
class ProjectRow:
    project: Project
    party: str
    status_label: str
    next_title: str | None
    next_due: datetime | None
    overdue: bool
    shipments: ShipmentSummary


def _summary(shipments: list[Shipment]) -> ShipmentSummary:
    found = ShipmentSummary(declared=len(shipments))
    for s in shipments:
        found.late += s.lead_time == "late"
        found.passed += s.state == ShipmentState.PASSED
        found.refused += s.state == ShipmentState.REFUSED
        found.pending += s.state in (ShipmentState.DECLARED, ShipmentState.INSPECTED)
    return found


def project_rows(db: Session, viewer: Viewer, *, now: datetime) -> list[ProjectRow]:
    """The projects the viewer reads, in a constant number of statements."""
    projects = list(queries.list_projects(db, viewer))
    ids = [p.id for p in projects]
    milestones = queries.milestones_of(db, viewer, ids)
    shipments = queries.shipments_of(db, viewer, ids)
    dir_ = directory(db, viewer)
    rows = []
    for p in projects:
        open_ = [m for m in milestones[p.id] if m.status == MilestoneStatus.OPEN]
        due = due_end(open_[0].due_on) if open_ else None
        rows.append(
            ProjectRow(
                project=p,
                party=dir_.by_id[p.party_id].slug,
                status_label=_label(viewer.language, STATUS_LABELS, p.status),
                next_title=open_[0].title if open_ else None,
                next_due=due,
                overdue=due is not None and due <= now,
                shipments=_summary(shipments[p.id]),
            )
        )
    return rows


PROPOSAL_FIELDS = (
    "name", "description", "party", "sponsors", "location_name", "lon", "lat", "location",
    "starts_on", "ends_on",
)  # fmt: skip


def proposal_state(data: FormData | None) -> dict[str, Any]:
    state: dict[str, Any] = {
        n: str(data.get(n, "")).strip() if data is not None else "" for n in PROPOSAL_FIELDS
    }
    given = str(data.get("id", "")) if data is not None else ""
    try:
        state["id"] = str(uuid.UUID(given))
    except ValueError:
        state["id"] = str(uuid.uuid4())
    state["financing"] = [str(v) for v in data.getlist("financing")] if data is not None else []
    return state


def list_context(
    db: Session, viewer: Viewer, *, now: datetime, data: FormData | None = None
) -> dict[str, Any]:
    dir_ = directory(db, viewer)
    proposes = may_manage(viewer)
    form = proposal_state(data)
    if data is None:
        today = now.date()
        form["starts_on"] = today.isoformat()
        form["ends_on"] = (today + timedelta(days=365)).isoformat()
    return {
        "rows": project_rows(db, viewer, now=now),
        "may_propose": proposes,
        # The supervisor names the party; a liaison officer proposes its own party's.
        "choose_party": proposes and not is_party_officer(viewer),
        "parties": dir_.parties(),
        "financiers": sorted(
            o.slug for o in dir_.by_slug.values() if o.kind != OrganisationKind.PARTY
        ),
        "form": form,
        "now": now,
    }


# -- a project -------------------------------------------------------------------------------


FORM_NAMES = ("status", "milestone", "attach", "decide", "declare", "inspect", "passage", "refuse")


@dataclass
class Forms:
    """The forms the viewer may use on a project now."""

    status: list[tuple[str, str]] = field(default_factory=list)  # (status, label)
    milestone: bool = False
    # Files put before an open milestone: a party's liaison officer's form (the supervisor
    # and the verifier cite files with their decision).
    attach: list[uuid.UUID] = field(default_factory=list)
    decide: list[uuid.UUID] = field(default_factory=list)
    declare: bool = False
    inspect: list[uuid.UUID] = field(default_factory=list)
    passage: list[uuid.UUID] = field(default_factory=list)
    refuse: list[uuid.UUID] = field(default_factory=list)

    def names(self) -> list[str]:
        return [name for name in FORM_NAMES if getattr(self, name)]


def runs(viewer: Viewer, project: Project) -> bool:
    """The action's rule: a party's liaison officer runs its own party's projects; the
    supervisor, any."""
    if not may_manage(viewer):
        return False
    return not is_party_officer(viewer) or project.party_id == viewer.organisation_id


def forms_for(viewer: Viewer, project: Project, detail: Any) -> Forms:
    closed = project.status in (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED)
    running = runs(viewer, project)
    inspects = may_inspect(viewer)
    pending = {ShipmentState.DECLARED, ShipmentState.INSPECTED}
    return Forms(
        status=[
            (s.value, _label(viewer.language, STATUS_LABELS, s))
            for s in ProjectStatus
            if running and s in TRANSITIONS[project.status]
        ],
        milestone=running and not closed,
        attach=[
            m.id
            for m in detail.milestones
            if may_store_evidence(viewer) and not may_decide(viewer) and m.status == "open"
        ],
        decide=[m.id for m in detail.milestones if may_decide(viewer) and m.status == "open"],
        declare=may_declare(viewer) and project.status == ProjectStatus.ACTIVE,
        inspect=[s.id for s in detail.shipments if inspects and s.state == "declared"],
        passage=[s.id for s in detail.shipments if inspects and s.state == "inspected"],
        refuse=[s.id for s in detail.shipments if inspects and s.state in pending],
    )


def _map(viewer: Viewer) -> dict[str, str] | None:
    """The map's layers and labels, or None for a member who may not read the geometry."""
    try:
        layers = map_layers(viewer)
    except Forbidden:
        return None
    labels = {label: translate(viewer.language, label) for label in MAP_LABELS}
    return {**layers, "labels": json.dumps(labels, ensure_ascii=False)}


def crossings(db: Session, viewer: Viewer) -> list[tuple[str, str]]:
    """The agreed crossings of the registry (where a shipment may cross)."""
    return [
        (str(p.id), p.name)
        for p in list_places(db, viewer, agreed=True)
        if p.kind == PlaceKind.CROSSING
    ]


def project_context(
    db: Session,
    viewer: Viewer,
    project: Project,
    *,
    now: datetime,
    data: FormData | None = None,
    sent: str | None = None,
    attach: list[str] | None = None,
) -> dict[str, Any]:
    """``data``: what was typed into the form ``sent`` (its anchor), refused."""
    language = viewer.language
    detail = present.project_detail(db, viewer, project)
    forms = forms_for(viewer, project, detail)
    return {
        "project": detail,
        "status_label": _label(language, STATUS_LABELS, detail.status),
        "milestone_labels": {k.value: translate(language, v) for k, v in MILESTONE_LABELS.items()},
        "shipment_labels": {k.value: translate(language, v) for k, v in SHIPMENT_LABELS.items()},
        "lead_labels": {k: translate(language, v) for k, v in LEAD_LABELS.items()},
        "due": {m.id: due_end(m.due_on) for m in detail.milestones},
        "forms": forms,
        "may_upload": may_store_evidence(viewer),
        "held": held_files(db, viewer) if forms.decide or forms.attach else [],
        "crossings": crossings(db, viewer) if forms.declare else [],
        "locations": json.dumps(detail.locations, ensure_ascii=False),
        "map": _map(viewer),
        "form": {n: str(data.get(n, "")).strip() for n in data} if data is not None else {},
        "sent": sent or "",
        "attach": attach or [],
        "new_id": uuid.uuid4,
        "now": now,
    }


# -- the statistics ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    party: str
    value: int
    percent: str


@dataclass
class Measure:
    key: str
    label: str
    bars: list[Bar]


def stats_context(db: Session, viewer: Viewer) -> dict[str, Any]:
    """Every figure of every party drawn against one maximum (R13: the same scale)."""
    figures: list[PartyStatistics] = statistics(db, viewer)
    parties = [f.party for f in figures]
    scale = max([getattr(f, key) for f in figures for key in STAT_LABELS] + [0])
    measures = [
        Measure(
            key,
            translate(viewer.language, label),
            [
                Bar(
                    f.party,
                    getattr(f, key),
                    f"{(getattr(f, key) / scale * 100 if scale else 0):.1f}%",
                )
                for f in figures
            ],
        )
        for key, label in STAT_LABELS.items()
    ]
    return {"figures": figures, "parties": parties, "measures": measures, "scale": scale,
            "method": METHOD}  # fmt: skip
