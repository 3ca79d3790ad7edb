"""Who may propose and sign geometry versions. Everyone in the cell reads the geometry
(``Permission.GEO_FEATURE_READ``); proposing and signing need more."""

from __future__ import annotations

from fusioncell.cell.models import OrganisationKind, Role
from fusioncell.cell.policy import Permission, Viewer, can

# The organisations whose signatures put a version in force.
SIGNATORY_KINDS = frozenset({OrganisationKind.PARTY, OrganisationKind.SUPERVISOR})


def may_propose(viewer: Viewer) -> bool:
    """A party's liaison officer, the supervisor or the operator (also at the console)."""
    return can(viewer, Permission.GEO_VERSION_PROPOSE)


def may_sign(viewer: Viewer) -> bool:
    """Each party's liaison officer and the supervisor sign for their organisation; the
    console, which is no person, signs for no one."""
    if viewer.is_console or not can(viewer, Permission.GEO_VERSION_SIGN):
        return False
    if viewer.organisation_kind == OrganisationKind.PARTY:
        return Role.LIAISON in viewer.roles
    if viewer.organisation_kind == OrganisationKind.SUPERVISOR:
        return Role.SUPERVISOR in viewer.roles
    return False
