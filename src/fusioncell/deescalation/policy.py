"""Who may do what in the de-escalation track. What a member may *see* is the releasability,
in the SQL of ``deescalation.queries``; these rules say who may act, and who reads at all."""

from __future__ import annotations

from fusioncell.cell.models import OrganisationKind, Role
from fusioncell.cell.policy import Permission, Viewer, can
from fusioncell.deescalation.models import Source
from fusioncell.errors import Forbidden, NotAuthenticated


def may_read(viewer: Viewer | None) -> bool:
    """The same rule as reading the bodies of the track's entries
    (``DEESCALATION_READ_PERMISSIONS``), so every path agrees; never the operator."""
    return can(viewer, Permission.DEESCALATION_READ)


def is_party_officer(viewer: Viewer) -> bool:
    """A party's liaison officer speaks for it: declarations, reports, baselines, signatures."""
    return viewer.organisation_kind == OrganisationKind.PARTY and Role.LIAISON in viewer.roles


def is_verifier(viewer: Viewer) -> bool:
    return viewer.organisation_kind == OrganisationKind.VERIFIER and Role.VERIFIER in viewer.roles


def is_supervisor(viewer: Viewer) -> bool:
    return (
        viewer.organisation_kind == OrganisationKind.SUPERVISOR and Role.SUPERVISOR in viewer.roles
    )


def may_record_any(viewer: Viewer) -> bool:
    """Whether the viewer records observations of any source: asked before the body is read,
    so that a member who records none is refused whatever they sent."""
    return is_party_officer(viewer) or is_verifier(viewer)


def may_request_inspection(viewer: Viewer) -> bool:
    """R7: either party asks, through its liaison officer, for an inspection."""
    return is_party_officer(viewer)


def may_report_inspection(viewer: Viewer) -> bool:
    """Inspections, and the access denied to them, are the verifier's to report."""
    return is_verifier(viewer)


def may_record(viewer: Viewer, source: str) -> bool:
    """Declarations and reports by a party's officer; inspections and sensors by the verifier.
    (Whose holdings a party may declare or report is checked against each feature.)"""
    if source in (Source.DECLARATION, Source.REPORT):
        return is_party_officer(viewer)
    return is_verifier(viewer)


def may_sign_exceptions(viewer: Viewer) -> bool:
    """The signatories: each party's liaison officer and the supervisor."""
    return is_party_officer(viewer) or is_supervisor(viewer)


def require(viewer: Viewer | None, allowed: bool, what: str) -> Viewer:
    if viewer is None:
        raise NotAuthenticated()
    if not allowed:
        raise Forbidden(what)
    return viewer
