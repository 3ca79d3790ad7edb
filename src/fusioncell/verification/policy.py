"""Who may do what in the verification track (issue 13, item 3). What a member may *see* is
in the SQL of ``verification.queries`` (a case's ``released_to``, sealed comments); these
rules say who may act.

- A party's liaison officer, the verifier or the humanitarian organisation files a
  complaint; the parties comment on a draft finding and answer the access requests made to
  them.
- Only the supervisor triages; the supervisor or the verifier tasks the verifier.
- The verifier investigates: site visits and access requests.
- Only the supervisor or the verifier drafts and issues findings, requests and verifies
  remedies; the supervisor closes a case.
"""

from __future__ import annotations

from fusioncell.cell.models import OrganisationKind, Role
from fusioncell.cell.policy import Permission, Viewer, can
from fusioncell.errors import Forbidden, NotAuthenticated


def may_read(viewer: Viewer | None) -> bool:
    """The same rule as reading the bodies of the track's entries
    (``VERIFICATION_READ_PERMISSIONS``); never the operator."""
    return can(viewer, Permission.MESSAGE_READ)


def is_party_officer(viewer: Viewer) -> bool:
    return (
        viewer.organisation_kind == OrganisationKind.PARTY
        and Role.LIAISON in viewer.roles
        and may_read(viewer)
    )


def is_verifier(viewer: Viewer) -> bool:
    return (
        viewer.organisation_kind == OrganisationKind.VERIFIER
        and Role.VERIFIER in viewer.roles
        and may_read(viewer)
    )


def is_supervisor(viewer: Viewer) -> bool:
    return (
        viewer.organisation_kind == OrganisationKind.SUPERVISOR
        and Role.SUPERVISOR in viewer.roles
        and may_read(viewer)
    )


def is_humanitarian(viewer: Viewer) -> bool:
    return viewer.organisation_kind == OrganisationKind.HUMANITARIAN and may_read(viewer)


def may_file(viewer: Viewer) -> bool:
    return is_party_officer(viewer) or is_verifier(viewer) or is_humanitarian(viewer)


def may_store_evidence(viewer: Viewer) -> bool:
    """Whoever files or investigates stores evidence."""
    return may_file(viewer) or is_supervisor(viewer)


def may_triage(viewer: Viewer) -> bool:
    return is_supervisor(viewer)


def may_task(viewer: Viewer) -> bool:
    return is_supervisor(viewer) or is_verifier(viewer)


def may_investigate(viewer: Viewer) -> bool:
    return is_verifier(viewer)


def may_find(viewer: Viewer) -> bool:
    """Draft and issue findings, request and verify remedies."""
    return is_supervisor(viewer) or is_verifier(viewer)


def may_comment(viewer: Viewer) -> bool:
    return is_party_officer(viewer)


def may_answer_access(viewer: Viewer) -> bool:
    """Whether the party is the one asked is checked against the request."""
    return is_party_officer(viewer)


def may_close(viewer: Viewer) -> bool:
    return is_supervisor(viewer)


def require(viewer: Viewer | None, allowed: bool, what: str) -> Viewer:
    if viewer is None:
        raise NotAuthenticated()
    if not allowed:
        raise Forbidden(what)
    return viewer
