"""Who may do what in the commercial track (issue 14, item 4). What a member may *see* is in
the SQL of ``commercial.queries`` (a project's ``released_to``); these rules say who may act.

- A party's liaison officer proposes its party's projects and runs them (status, milestones);
  the supervisor does so for any party.
- Evidence is stored by a party's liaison officer, the supervisor or the verifier, and put
  before a milestone by any of them who reads the project.
- Only the supervisor or the verifier decides a milestone (DESIGN: only they issue findings).
- A party's liaison officer declares its party's shipments; the verifier, neutral between
  the parties, inspects every shipment and passes or refuses it, the same way for every
  party (R13). The registry's crossings name no controlling party, so no party inspects.
"""

from __future__ import annotations

from fusioncell.cell.models import OrganisationKind
from fusioncell.cell.policy import Permission, Viewer, can
from fusioncell.errors import Forbidden, NotAuthenticated


def may_read(viewer: Viewer | None) -> bool:
    """The same rule as reading the bodies of the track's entries
    (``COMMERCIAL_READ_PERMISSIONS``); never the operator or the auditor."""
    return can(viewer, Permission.COMMERCIAL_READ)


def _of(viewer: Viewer, kind: OrganisationKind, permission: Permission) -> bool:
    return viewer.organisation_kind == kind and can(viewer, permission) and may_read(viewer)


def is_party_officer(viewer: Viewer) -> bool:
    return _of(viewer, OrganisationKind.PARTY, Permission.PROJECT_MANAGE)


def is_supervisor(viewer: Viewer) -> bool:
    return _of(viewer, OrganisationKind.SUPERVISOR, Permission.MILESTONE_DECIDE)


def is_verifier(viewer: Viewer) -> bool:
    return _of(viewer, OrganisationKind.VERIFIER, Permission.SHIPMENT_INSPECT)


def may_manage(viewer: Viewer) -> bool:
    """Propose projects, change their status, add milestones (which party's: checked
    against the project)."""
    return is_party_officer(viewer) or _of(
        viewer, OrganisationKind.SUPERVISOR, Permission.PROJECT_MANAGE
    )


def may_store_evidence(viewer: Viewer) -> bool:
    return is_party_officer(viewer) or is_supervisor(viewer) or is_verifier(viewer)


def may_decide(viewer: Viewer) -> bool:
    return is_supervisor(viewer) or _of(
        viewer, OrganisationKind.VERIFIER, Permission.MILESTONE_DECIDE
    )


def may_declare(viewer: Viewer) -> bool:
    return _of(viewer, OrganisationKind.PARTY, Permission.SHIPMENT_DECLARE)


def may_inspect(viewer: Viewer) -> bool:
    """Inspect, pass and refuse shipments."""
    return is_verifier(viewer)


def require(viewer: Viewer | None, allowed: bool, what: str) -> Viewer:
    if viewer is None:
        raise NotAuthenticated()
    if not allowed:
        raise Forbidden(what)
    return viewer
