"""Who may do what with intelligence. What a member may *see* is the releasability, in the SQL
of ``intel.queries``; these rules say who may act, and who reads at all."""

from __future__ import annotations

from fusioncell.cell.models import OrganisationKind, Role
from fusioncell.cell.policy import Permission, Viewer, can
from fusioncell.errors import Forbidden, NotAuthenticated

# The roles that submit a party's intelligence (DESIGN: analyst and liaison); the cell's
# policy grants them ``INTEL_SUBMIT``.
SUBMITTING_ROLES = frozenset({Role.ANALYST, Role.LIAISON})
# Those who may answer a report they received with an opinion or a sighting.
RESPONDING_ROLES = frozenset(
    {Role.ANALYST, Role.LIAISON, Role.SUPERVISOR, Role.VERIFIER, Role.OBSERVER}
)


def may_read(viewer: Viewer | None) -> bool:
    """Reading intelligence released to one's organisation: the same rule as reading the
    bodies of its log entries (``INTEL_READ_PERMISSIONS``), so every path agrees."""
    return can(viewer, Permission.INTEL_READ)


def may_submit(viewer: Viewer) -> bool:
    """A party submits (and releases its own reports further): never the supervising or an
    observing organisation, whatever roles a member there holds."""
    return viewer.organisation_kind == OrganisationKind.PARTY and can(
        viewer, Permission.INTEL_SUBMIT
    )


def may_release_any(viewer: Viewer) -> bool:
    """The supervisor releases (and sanitises) any report it can read."""
    return can(viewer, Permission.INTEL_RELEASE)


def may_release(viewer: Viewer, author_organisation_id: object) -> bool:
    return may_release_any(viewer) or (
        may_submit(viewer) and viewer.organisation_id == author_organisation_id
    )


def may_respond(viewer: Viewer) -> bool:
    return may_read(viewer) and bool(viewer.roles & RESPONDING_ROLES)


def require(viewer: Viewer | None, allowed: bool, what: str) -> Viewer:
    if viewer is None:
        raise NotAuthenticated()
    if not allowed:
        raise Forbidden(what)
    return viewer
