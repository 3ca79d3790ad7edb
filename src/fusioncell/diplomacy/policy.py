"""Who may do what in the diplomatic track (issue 14). What a member may *see* is in the SQL
of ``diplomacy.queries`` (an agreement's parties, a meeting's participants, sealed
comments); these rules say who may act.

- A party's liaison officer or the supervisor proposes an agreement or an amendment; each
  party's liaison officer and the supervisor sign a version's content hash.
- The supervisor, the verifier or a party's liaison officer puts a due milestone to
  verification; the parties comment (sealed) while the window is open; only the supervisor
  or the verifier assesses.
- A party's liaison officer or the supervisor requests a meeting; the supervisor drafts the
  minutes; the participating parties' liaison officers comment and sign them.
"""

from __future__ import annotations

from fusioncell.cell.models import OrganisationKind, Role
from fusioncell.cell.policy import Permission, Viewer, can
from fusioncell.errors import Forbidden, NotAuthenticated


def may_read(viewer: Viewer | None) -> bool:
    return can(viewer, Permission.DIPLOMACY_READ)


def is_party_officer(viewer: Viewer) -> bool:
    return (
        viewer.organisation_kind == OrganisationKind.PARTY
        and Role.LIAISON in viewer.roles
        and may_read(viewer)
    )


def is_supervisor(viewer: Viewer) -> bool:
    return (
        viewer.organisation_kind == OrganisationKind.SUPERVISOR
        and Role.SUPERVISOR in viewer.roles
        and may_read(viewer)
    )


def is_verifier(viewer: Viewer) -> bool:
    return (
        viewer.organisation_kind == OrganisationKind.VERIFIER
        and Role.VERIFIER in viewer.roles
        and may_read(viewer)
    )


def may_propose(viewer: Viewer) -> bool:
    return is_party_officer(viewer) or is_supervisor(viewer)


def may_sign(viewer: Viewer) -> bool:
    """Whether the organisation is a signatory of the version is checked against it."""
    return is_party_officer(viewer) or is_supervisor(viewer)


def may_request_verification(viewer: Viewer) -> bool:
    return is_party_officer(viewer) or is_supervisor(viewer) or is_verifier(viewer)


def may_comment(viewer: Viewer) -> bool:
    return is_party_officer(viewer)


def may_assess(viewer: Viewer) -> bool:
    return is_supervisor(viewer) or is_verifier(viewer)


def may_request_meeting(viewer: Viewer) -> bool:
    return is_party_officer(viewer) or is_supervisor(viewer)


def may_draft_minutes(viewer: Viewer) -> bool:
    return is_supervisor(viewer)


def require(viewer: Viewer | None, allowed: bool, what: str) -> Viewer:
    if viewer is None:
        raise NotAuthenticated()
    if not allowed:
        raise Forbidden(what)
    return viewer
