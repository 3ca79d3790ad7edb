"""Projects (issue 14, item 4); their milestones are in ``milestones``.

- A party's liaison officer proposes a project of its party (the supervisor, of any party):
  its name and description, sponsors, financing organisations (third states: organisations
  of the cell other than the parties), locations (RFC 7946), start and end dates. It is
  released to both parties, the supervisor, the verifier and its financing organisations.
- Its status moves proposed -> active -> suspended / completed / cancelled, with a reason.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.models import OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.commercial.actions.common import (
    NOT_MANAGER,
    NOT_OWN_PARTY,
    TOO_MANY,
    add_step,
    record_entry,
    require_runs,
    retried,
)
from fusioncell.commercial.entries import CommercialEntry
from fusioncell.commercial.events import EventKind
from fusioncell.commercial.geometry import check_geometry
from fusioncell.commercial.models import (
    TRANSITIONS,
    Project,
    ProjectRelease,
    ProjectStatus,
)
from fusioncell.commercial.policy import (
    is_party_officer,
    may_manage,
    require,
)
from fusioncell.commercial.queries import projects as queries
from fusioncell.commercial.rules import CommercialRules
from fusioncell.db.transaction import atomic
from fusioncell.deescalation.queries import Directory, directory
from fusioncell.errors import Conflict, Forbidden, IdempotencyConflict, InvalidInput
from fusioncell.ledger.append import log_clock
from fusioncell.text import N_
from fusioncell.verification.actions.common import text

_NOT_PARTY = N_("A project is a party's: name one of %(parties)s.")
_BAD_FINANCING = N_(
    "A financing party is an organisation of the cell other than the parties: %(allowed)s."
)
_BAD_DATES = N_("A project ends on or after the day it starts.")
_BAD_STATUS = N_("A project's status is one of %(statuses)s.")
_NO_TRANSITION = N_("A %(status)s project cannot become %(to)s.")


def _party_of(actor: Viewer, dir_: Directory, party: str | None) -> str:
    """The project's party: a liaison officer's own; the supervisor names one."""
    parties = dir_.parties()
    if is_party_officer(actor):
        own = dir_.by_id[actor.organisation_id].slug
        if party not in (None, own):
            raise Forbidden(NOT_OWN_PARTY)
        return own
    if party not in parties:
        raise InvalidInput(N_(_NOT_PARTY, parties=", ".join(parties)), field="party")
    return str(party)


def _financing(dir_: Directory, given: list[str], rules: CommercialRules) -> list[str]:
    allowed = sorted(o.slug for o in dir_.by_slug.values() if o.kind != OrganisationKind.PARTY)
    found = list(dict.fromkeys(given))
    if len(found) > rules.max_sponsors:
        raise InvalidInput(
            N_(TOO_MANY, limit=rules.max_sponsors, field="financing"), field="financing"
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
            N_(TOO_MANY, limit=rules.max_sponsors, field="sponsors"), field="sponsors"
        )
    found = [text(s, field="sponsors", limit=rules.max_name_chars) for s in given]
    if not found:
        raise InvalidInput(N_("Name at least one sponsor."), field="sponsors")
    return list(dict.fromkeys(found))


def _locations(given: list[Any], rules: CommercialRules) -> list[dict[str, Any]]:
    if len(given) > rules.max_locations:
        limit = rules.max_locations
        raise InvalidInput(N_(TOO_MANY, limit=limit, field="locations"), field="locations")
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
    require(actor, may_manage(actor), NOT_MANAGER)
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
    require_runs(actor, project)
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
