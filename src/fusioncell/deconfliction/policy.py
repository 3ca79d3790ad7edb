"""Who may do what with notifications. What a member may *see* is in the SQL of
``deconfliction.queries``; these rules say who may act.

A party's liaison officer notifies its planned military activity, its movements and its
emergencies; the humanitarian organisation notifies its movements, its static sites and its
emergencies. The parties other than the sender's owe each notification an acknowledgement of
receipt, given by their liaison or duty officers (the duty officer acknowledges on behalf of
the party, as on the hotline). The supervisor and the verifier receive every notification.
"""

from __future__ import annotations

from fusioncell.cell.models import OrganisationKind, Role
from fusioncell.cell.policy import Permission, Viewer, can
from fusioncell.deconfliction.models import NotificationKind
from fusioncell.errors import Forbidden, NotAuthenticated

# Who reads every notification besides its sender's organisation.
SHARED_KINDS = frozenset(
    {OrganisationKind.PARTY, OrganisationKind.SUPERVISOR, OrganisationKind.VERIFIER}
)

MAY_SEND: dict[OrganisationKind, frozenset[str]] = {
    OrganisationKind.PARTY: frozenset(
        {NotificationKind.ACTIVITY, NotificationKind.MOVEMENT, NotificationKind.EMERGENCY}
    ),
    OrganisationKind.HUMANITARIAN: frozenset(
        {NotificationKind.MOVEMENT, NotificationKind.SITE, NotificationKind.EMERGENCY}
    ),
}
# The role that speaks for each kind of organisation that sends notifications.
SENDING_ROLE: dict[OrganisationKind, Role] = {
    OrganisationKind.PARTY: Role.LIAISON,
    OrganisationKind.HUMANITARIAN: Role.OBSERVER,
}
ACKNOWLEDGING_ROLES = frozenset({Role.LIAISON, Role.DUTY_OFFICER})


def may_read(viewer: Viewer | None) -> bool:
    """The same rule as reading the bodies of the track's entries
    (``DECONFLICTION_READ_PERMISSIONS``); never the operator."""
    return can(viewer, Permission.MESSAGE_READ)


def kinds_sendable(viewer: Viewer) -> frozenset[str]:
    role = SENDING_ROLE.get(viewer.organisation_kind)
    if role is None or role not in viewer.roles or not may_read(viewer):
        return frozenset()
    return MAY_SEND.get(viewer.organisation_kind, frozenset())


def may_send(viewer: Viewer, kind: str) -> bool:
    return kind in kinds_sendable(viewer)


def may_acknowledge(viewer: Viewer) -> bool:
    """A party's liaison or duty officer (whether the party is a recipient is checked
    against the notification)."""
    return (
        viewer.organisation_kind == OrganisationKind.PARTY
        and bool(ACKNOWLEDGING_ROLES & viewer.roles)
        and can(viewer, Permission.MESSAGE_ACK)
    )


def require(viewer: Viewer | None, allowed: bool, what: str) -> Viewer:
    if viewer is None:
        raise NotAuthenticated()
    if not allowed:
        raise Forbidden(what)
    return viewer
