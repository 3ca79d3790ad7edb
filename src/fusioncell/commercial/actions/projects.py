"""Projects and their milestones (issue 14, item 4).

- A party's liaison officer proposes a project of its party (the supervisor, of any party):
  its name and description, sponsors, financing organisations (third states: organisations
  of the cell other than the parties), locations (RFC 7946), start and end dates. It is
  released to both parties, the supervisor, the verifier and its financing organisations.
- Its status moves proposed -> active -> suspended / completed / cancelled, with a reason.
- Milestones are due within the project's dates. Files are put before a milestone by those
  who store evidence; the supervisor or the verifier decides it: met (on or before its due
  date: met; after: late) on at least one file, or missed once its due date has passed.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.models import OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.commercial.actions.common import add_step, record_entry, retried
from fusioncell.commercial.entries import CommercialEntry
from fusioncell.commercial.events import EventKind
from fusioncell.commercial.geometry import check_geometry
from fusioncell.commercial.models import (
    TRANSITIONS,
    Decision,
    Milestone,
    MilestoneEvidence,
    MilestoneStatus,
    Project,
    ProjectRelease,
    ProjectStatus,
)
from fusioncell.commercial.policy import (
    is_party_officer,
    may_decide,
    may_manage,
    may_store_evidence,
    require,
)
from fusioncell.commercial.queries import evidence as evidence_queries
from fusioncell.commercial.queries import projects as queries
from fusioncell.commercial.rules import CommercialRules
from fusioncell.db.transaction import atomic
from fusioncell.deescalation.queries import Directory, directory
from fusioncell.errors import Conflict, Forbidden, IdempotencyConflict, InvalidInput
from fusioncell.ledger.append import log_clock
from fusioncell.text import N_
from fusioncell.verification.actions.common import text

_NOT_MANAGER = N_("A project is run by a party's liaison officer or the supervisor.")
_NOT_OWN_PARTY = N_("A party's liaison officer runs its own party's projects only.")
_NOT_PARTY = N_("A project is a party's: name one of %(parties)s.")
_BAD_FINANCING = N_(
    "A financing party is an organisation of the cell other than the parties: %(allowed)s."
)
_TOO_MANY = N_("At most %(limit)s %(field)s.")
_BAD_DATES = N_("A project ends on or after the day it starts.")
_BAD_STATUS = N_("A project's status is one of %(statuses)s.")
_NO_TRANSITION = N_("A %(status)s project cannot become %(to)s.")
_CLOSED = N_("The project is %(status)s: nothing more is added to it.")
_AFTER_END = N_("A milestone is due within the project's dates (%(starts_on)s to %(ends_on)s).")
_NOT_DECIDER = N_("Only the supervisor or the verifier decides a milestone.")
_NOT_STORER = N_(
    "Evidence is put before a milestone by a party's liaison officer, the supervisor or the "
    "verifier."
)
_DECIDED = N_("The milestone was decided already: it is %(status)s.")
_BAD_DECISION = N_("A decision is met or missed.")
_NEED_EVIDENCE = N_("A milestone is decided met on at least one file of evidence.")
_TOO_EARLY = N_("A milestone is decided missed only after its due date (%(due_on)s).")
_FUTURE = N_("A milestone cannot be achieved on a day still to come.")
_NO_SUCH_EVIDENCE = N_("Evidence %(sha256)s is not a file your organisation stored.")


def _party_of(actor: Viewer, dir_: Directory, party: str | None) -> str:
    """The project's party: a liaison officer's own; the supervisor names one."""
    parties = dir_.parties()
    if is_party_officer(actor):
        own = dir_.by_id[actor.organisation_id].slug
        if party not in (None, own):
            raise Forbidden(_NOT_OWN_PARTY)
        return own
    if party not in parties:
        raise InvalidInput(N_(_NOT_PARTY, parties=", ".join(parties)), field="party")
    return str(party)


def _require_runs(actor: Viewer, project: Project) -> None:
    require(actor, may_manage(actor), _NOT_MANAGER)
    if is_party_officer(actor) and project.party_id != actor.organisation_id:
        raise Forbidden(_NOT_OWN_PARTY)


def _financing(dir_: Directory, given: list[str], rules: CommercialRules) -> list[str]:
    allowed = sorted(o.slug for o in dir_.by_slug.values() if o.kind != OrganisationKind.PARTY)
    found = list(dict.fromkeys(given))
    if len(found) > rules.max_sponsors:
        raise InvalidInput(
            N_(_TOO_MANY, limit=rules.max_sponsors, field="financing"), field="financing"
        )
    for slug in found:
        if slug not in allowed:
            raise InvalidInput(
                N_(_BAD_FINANCING, allowed=", ".join(allowed)), field="financing", allowed=allowed
            )
    return found


def _sponsors(given: list[str], rules: CommercialRules) -> list[str]:
    if len(given) > rules.max_sponsors:
        raise InvalidInput(
            N_(_TOO_MANY, limit=rules.max_sponsors, field="sponsors"), field="sponsors"
        )
    found = [text(s, field="sponsors", limit=rules.max_name_chars) for s in given]
    if not found:
        raise InvalidInput(N_("Name at least one sponsor."), field="sponsors")
    return list(dict.fromkeys(found))


def _locations(given: list[Any], rules: CommercialRules) -> list[dict[str, Any]]:
    if len(given) > rules.max_locations:
        limit = rules.max_locations
        raise InvalidInput(N_(_TOO_MANY, limit=limit, field="locations"), field="locations")
    found = []
    for position, item in enumerate(given):
        if not isinstance(item, dict):
            item = {}
        name = text(item.get("name"), field="locations", limit=rules.max_name_chars)
        geometry = check_geometry(
            item.get("geometry"), position=position, max_vertices=rules.max_vertices
        )
        found.append({"name": name, "geometry": geometry})
    return found


def do_propose_project(
    db: Session,
    actor: Viewer,
    *,
    project_id: uuid.UUID,
    name: str,
    description: str,
    party: str | None,
    sponsors: list[str],
    financing: list[str],
    locations: list[Any],
    starts_on: date,
    ends_on: date,
    now: datetime,
) -> Project:
    require(actor, may_manage(actor), _NOT_MANAGER)
    rules = queries.rules_in_force(db)
    dir_ = directory(db, actor)
    party_slug = _party_of(actor, dir_, party)
    fields = (
        text(name, field="name", limit=rules.max_name_chars),
        text(description, field="description", limit=rules.max_text_chars),
        party_slug,
        _sponsors(sponsors, rules),
        _financing(dir_, financing, rules),
        _locations(locations, rules),
        starts_on,
        ends_on,
    )
    if ends_on < starts_on:
        raise InvalidInput(_BAD_DATES, field="ends_on")
    said, about, _, sponsor_names, financed_by, places, _, _ = fields
    released = sorted({o.slug for o in dir_.shared()} | set(financed_by))
    own = dir_.by_id[actor.organisation_id]
    with atomic(db):
        earlier = queries.find_own_project(db, actor.member_id, project_id)
        if earlier is not None:
            recorded = (
                earlier.name,
                earlier.description,
                dir_.by_id[earlier.party_id].slug,
                earlier.sponsors,
                earlier.financing,
                earlier.locations,
                earlier.starts_on,
                earlier.ends_on,
            )
            if recorded != fields:
                raise IdempotencyConflict(project_id=str(project_id))
            return earlier
        at = log_clock(db, now=now)
        project = Project(
            id=project_id if not queries.id_taken(db, Project, project_id) else uuid.uuid4(),
            client_id=project_id,
            proposed_by=actor.member_id,
            organisation_id=own.id,
            party_id=dir_.by_slug[party_slug].id,
            name=said,
            description=about,
            sponsors=sponsor_names,
            financing=financed_by,
            locations=places,
            starts_on=starts_on,
            ends_on=ends_on,
            status=ProjectStatus.PROPOSED,
            released_to=released,
            log_index=-1,
            proposed_at=at,
            status_changed_at=at,
        )
        appended = record_entry(
            db,
            actor,
            dir_,
            project,
            CommercialEntry.PROJECT_PROPOSED,
            {
                "name": said,
                "description": about,
                "party": party_slug,
                "sponsors": sponsor_names,
                "financing": financed_by,
                "locations": places,
                "starts_on": starts_on.isoformat(),
                "ends_on": ends_on.isoformat(),
                "status": project.status,
            },
            event=EventKind.PROJECT,
            subject=project.id,
            at=at,
        )
        project.log_index = appended.index
        project.proposed_at = project.status_changed_at = appended.logged_at
        db.add(project)
        db.flush()
        db.add_all(
            [
                ProjectRelease(project_id=project.id, organisation_id=dir_.by_slug[slug].id)
                for slug in released
            ]
        )
    return project


def do_change_project_status(
    db: Session,
    actor: Viewer,
    project_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    status: str,
    reason: str,
    now: datetime,
) -> Project:
    project = queries.get_project(db, actor, project_id)
    _require_runs(actor, project)
    rules = queries.rules_in_force(db)
    if status not in set(ProjectStatus):
        statuses = [s.value for s in ProjectStatus]
        raise InvalidInput(N_(_BAD_STATUS, statuses=", ".join(statuses)), field="status")
    why = text(reason, field="reason", limit=rules.max_text_chars)
    dir_ = directory(db, actor)
    kind = CommercialEntry.PROJECT_STATUS_CHANGED
    with atomic(db):
        at = log_clock(db, now=now)
        project = queries.for_update(db, project_id)
        if retried(db, actor, step_id, project.id, kind.value):
            return project
        if status not in TRANSITIONS[project.status]:
            raise Conflict(N_(_NO_TRANSITION, status=project.status, to=status), field="status")
        previous = project.status
        project.status = status
        appended = record_entry(
            db,
            actor,
            dir_,
            project,
            kind,
            {"from": previous, "status": status, "reason": why},
            event=EventKind.PROJECT,
            subject=project.id,
            at=at,
        )
        project.status_changed_at = appended.logged_at
        add_step(
            db, actor, appended, project=project, subject=project.id, kind=kind, step_id=step_id
        )
    return project


def _require_open(project: Project) -> None:
    if project.status in (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED):
        raise Conflict(N_(_CLOSED, status=project.status), field="status")


def do_add_milestone(
    db: Session,
    actor: Viewer,
    project_id: uuid.UUID,
    *,
    milestone_id: uuid.UUID,
    title: str,
    due_on: date,
    now: datetime,
) -> Milestone:
    project = queries.get_project(db, actor, project_id)
    _require_runs(actor, project)
    rules = queries.rules_in_force(db)
    said = text(title, field="title", limit=rules.max_name_chars)
    if not project.starts_on <= due_on <= project.ends_on:
        raise InvalidInput(
            N_(
                _AFTER_END,
                starts_on=project.starts_on.isoformat(),
                ends_on=project.ends_on.isoformat(),
            ),
            field="due_on",
            ends_on=project.ends_on.isoformat(),
        )
    dir_ = directory(db, actor)
    with atomic(db):
        earlier = queries.find_own_milestone(db, actor.member_id, milestone_id)
        if earlier is not None:
            if (earlier.project_id, earlier.title, earlier.due_on) != (project.id, said, due_on):
                raise IdempotencyConflict(milestone_id=str(milestone_id))
            return earlier
        project = queries.for_update(db, project_id)
        _require_open(project)
        at = log_clock(db, now=now)
        milestone = Milestone(
            id=milestone_id if not queries.id_taken(db, Milestone, milestone_id) else uuid.uuid4(),
            client_id=milestone_id,
            project_id=project.id,
            added_by=actor.member_id,
            title=said,
            due_on=due_on,
            status=MilestoneStatus.OPEN,
            log_index=-1,
            added_at=at,
        )
        appended = record_entry(
            db,
            actor,
            dir_,
            project,
            CommercialEntry.MILESTONE_ADDED,
            {
                "milestone": str(milestone.id),
                "title": said,
                "due_on": due_on.isoformat(),
                "status": milestone.status,
            },
            event=EventKind.PROJECT,
            subject=milestone.id,
            at=at,
        )
        milestone.log_index = appended.index
        milestone.added_at = appended.logged_at
        db.add(milestone)
    return milestone


def _cited(
    db: Session, actor: Viewer, hashes: list[str], *, already: list[str], limit: int
) -> list[dict[str, Any]]:
    """The files cited: each already before the milestone, or stored by the actor's
    organisation; as the entry records them."""
    wanted = list(dict.fromkeys(hashes))
    if len(wanted) > limit:
        raise InvalidInput(N_(_TOO_MANY, limit=limit, field="evidence"), field="evidence")
    held = evidence_queries.held_by(db, actor, [h for h in wanted if h not in already])
    known = evidence_queries.files(db, [h for h in wanted if h in already])
    found = []
    for sha256 in wanted:
        file = held.get(sha256) or known.get(sha256)
        if file is None:
            raise InvalidInput(
                N_(_NO_SUCH_EVIDENCE, sha256=sha256[:64]), field="evidence", sha256=sha256[:64]
            )
        found.append({"sha256": sha256, "size": file.size, "type": file.media_type})
    return found


def do_attach_milestone_evidence(
    db: Session,
    actor: Viewer,
    project_id: uuid.UUID,
    milestone_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    evidence: list[str],
    note: str = "",
    now: datetime,
) -> Milestone:
    require(actor, may_store_evidence(actor), _NOT_STORER)
    milestone = queries.get_milestone(db, actor, project_id, milestone_id)
    rules = queries.rules_in_force(db)
    said = text(note, field="note", limit=rules.max_text_chars, required=False)
    already = queries.attached_hashes(db, [milestone.id])[milestone.id]
    files = _cited(db, actor, evidence, already=already, limit=rules.max_evidence)
    if not files:
        raise InvalidInput(N_("Name at least one file."), field="evidence")
    dir_ = directory(db, actor)
    kind = CommercialEntry.MILESTONE_EVIDENCE_ATTACHED
    with atomic(db):
        # The log's lock first: two steps on one milestone are decided one after the other.
        at = log_clock(db, now=now)
        project = queries.for_update(db, project_id)
        milestone = queries.milestone_for_update(db, milestone.id)
        if retried(db, actor, step_id, milestone.id, kind.value):
            return milestone
        if milestone.status != MilestoneStatus.OPEN:
            raise Conflict(N_(_DECIDED, status=milestone.status), field="status")
        appended = record_entry(
            db,
            actor,
            dir_,
            project,
            kind,
            {"milestone": str(milestone.id), "evidence": files, "note": said},
            event=EventKind.PROJECT,
            subject=milestone.id,
            at=at,
        )
        _attach(db, milestone, files, already=already, index=appended.index)
        add_step(
            db, actor, appended, project=project, subject=milestone.id, kind=kind, step_id=step_id
        )
    return milestone


def _attach(
    db: Session,
    milestone: Milestone,
    files: list[dict[str, Any]],
    *,
    already: list[str],
    index: int,
) -> None:
    db.add_all(
        [
            MilestoneEvidence(milestone_id=milestone.id, sha256=f["sha256"], log_index=index)
            for f in files
            if f["sha256"] not in already
        ]
    )


def do_decide_milestone(
    db: Session,
    actor: Viewer,
    project_id: uuid.UUID,
    milestone_id: uuid.UUID,
    *,
    step_id: uuid.UUID,
    decision: str,
    reason: str,
    evidence: list[str] | None = None,
    achieved_on: date | None = None,
    now: datetime,
) -> Milestone:
    require(actor, may_decide(actor), _NOT_DECIDER)
    milestone = queries.get_milestone(db, actor, project_id, milestone_id)
    rules = queries.rules_in_force(db)
    if decision not in set(Decision):
        raise InvalidInput(_BAD_DECISION, field="decision")
    why = text(reason, field="reason", limit=rules.max_text_chars)
    already = queries.attached_hashes(db, [milestone.id])[milestone.id]
    files = _cited(db, actor, list(evidence or []), already=already, limit=rules.max_evidence)
    dir_ = directory(db, actor)
    kind = CommercialEntry.MILESTONE_DECIDED
    with atomic(db):
        # The log's lock first: two steps on one milestone are decided one after the other.
        at = log_clock(db, now=now)
        project = queries.for_update(db, project_id)
        milestone = queries.milestone_for_update(db, milestone.id)
        if retried(db, actor, step_id, milestone.id, kind.value):
            return milestone
        if milestone.status != MilestoneStatus.OPEN:
            raise Conflict(N_(_DECIDED, status=milestone.status), field="status")
        today = at.date()
        if decision == Decision.MET:
            achieved = achieved_on or today
            if achieved > today:
                raise InvalidInput(_FUTURE, field="achieved_on")
            if not files and not already:
                raise InvalidInput(_NEED_EVIDENCE, field="evidence")
            status = MilestoneStatus.MET if achieved <= milestone.due_on else MilestoneStatus.LATE
        else:
            achieved = None
            if today <= milestone.due_on:
                raise InvalidInput(
                    N_(_TOO_EARLY, due_on=milestone.due_on.isoformat()), field="decision"
                )
            status = MilestoneStatus.MISSED
        milestone.status = status
        appended = record_entry(
            db,
            actor,
            dir_,
            project,
            kind,
            {
                "milestone": str(milestone.id),
                "decision": decision,
                "due_on": milestone.due_on.isoformat(),
                "achieved_on": achieved.isoformat() if achieved is not None else None,
                "status": status,
                "reason": why,
                # Every file before the milestone once decided: those put before it, and
                # those this decision cites.
                "evidence": sorted(set(already) | {f["sha256"] for f in files}),
                "cited": files,
            },
            event=EventKind.PROJECT,
            subject=milestone.id,
            at=at,
        )
        _attach(db, milestone, files, already=already, index=appended.index)
        milestone.achieved_on = achieved
        milestone.reason = why
        milestone.decided_by = actor.member_id
        milestone.decision_index = appended.index
        milestone.decided_at = appended.logged_at
        add_step(
            db, actor, appended, project=project, subject=milestone.id, kind=kind, step_id=step_id
        )
    return milestone
