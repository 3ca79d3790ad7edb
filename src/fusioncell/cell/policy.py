"""The access policy: who may see and do what. Every route, page and export asks here.

Permissions are scoped ``domain:object:verb`` (after Warehouse's ``authnz``); their values
are a wire format and never change meaning. A member's permissions are the union of their
roles' permissions. Checks that depend on the object (its organisation, its marking) live in
the ``can_*`` functions below, next to the role table, so one module holds the whole policy.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fusioncell.cell.entries import CellEntry
from fusioncell.cell.models import OrganisationKind, Role
from fusioncell.errors import Forbidden, NotAuthenticated
from fusioncell.ledger.entries import LedgerEntry, Presigned, audience
from fusioncell.ledger.record import Author, ByLog, ByMember

CONSOLE_ID = uuid.UUID(int=0)


class Permission(StrEnum):
    ORGANISATION_LIST = "cell:organisation:list"
    MEMBER_LIST_ALL = "cell:member:list_all"
    MEMBER_CREATE = "cell:member:create"
    MEMBER_DISABLE = "cell:member:disable"
    ROLE_GRANT = "cell:role:grant"
    GEO_FEATURE_READ = "geo:feature:read"
    GEO_FEATURE_DEFINE = "geo:feature:define"
    GEO_VERSION_PROPOSE = "geo:version:propose"
    GEO_VERSION_SIGN = "geo:version:sign"
    KEY_REVOKE_ANY = "cell:key:revoke_any"
    CHANNEL_OPEN = "hotline:channel:open"
    MESSAGE_READ = "hotline:message:read"
    MESSAGE_SEND = "hotline:message:send"
    MESSAGE_ACK = "hotline:message:ack"
    MESSAGE_RELAY = "hotline:message:relay"
    INTEL_READ = "intel:report:read"
    INTEL_SUBMIT = "intel:report:submit"
    INTEL_RELEASE = "intel:report:release"
    DEESCALATION_READ = "deescalation:track:read"
    DIPLOMACY_READ = "diplomacy:track:read"
    COMMERCIAL_READ = "commercial:project:read"
    PROJECT_MANAGE = "commercial:project:manage"
    MILESTONE_DECIDE = "commercial:milestone:decide"
    SHIPMENT_DECLARE = "commercial:shipment:declare"
    SHIPMENT_INSPECT = "commercial:shipment:inspect"


_EVERY_MEMBER = frozenset({Permission.ORGANISATION_LIST, Permission.GEO_FEATURE_READ})

_OFFICER = frozenset({Permission.MESSAGE_READ, Permission.MESSAGE_SEND, Permission.MESSAGE_ACK})

# Intelligence (DESIGN's roles table): a party's analysts and liaisons read what is released to
# their party and submit; the supervisor reads everything released to it (every report is) and
# releases; the verifier and observers read what is released to their organisation. A duty
# officer is the hotline's watch (acknowledge, first step of escalation): the table gives it no
# intelligence, so it reads none by its role (the supervisor's duty officers read as
# supervisors). The operator and the auditor read no content.
_INTEL_PARTY = frozenset({Permission.INTEL_READ, Permission.INTEL_SUBMIT})

# De-escalation: every role that reads the cell's traffic reads the track, each what is
# released to its organisation (deescalation.queries); the operator and the auditor do not.
_DEESCALATION = frozenset({Permission.DEESCALATION_READ})

# Diplomacy: agreements, commitments and meetings are read by the parties' staff (each its
# own agreements), the supervisor and the verifier (who assesses milestones); the host, the
# humanitarian organisations, the operator and the auditor read none by right.
_DIPLOMACY = frozenset({Permission.DIPLOMACY_READ})

# Geometry versions: proposed by a party's liaison officer, the supervisor or the operator;
# signed by each party's liaison officer and the supervisor (``geo.policy`` adds the
# organisation's kind).
_GEO_SIGNATORY = frozenset({Permission.GEO_VERSION_PROPOSE, Permission.GEO_VERSION_SIGN})

# Commercial projects: every role that reads the cell's traffic reads the projects released
# to its organisation (``commercial.queries``); a party's liaison officer and the supervisor
# propose and run projects; a party's liaison officer declares its shipments; the supervisor
# and the verifier decide milestones; the verifier inspects, passes and refuses shipments.
_COMMERCIAL = frozenset({Permission.COMMERCIAL_READ})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.LIAISON: _EVERY_MEMBER
    | _OFFICER
    | _INTEL_PARTY
    | _DEESCALATION
    | _GEO_SIGNATORY
    | _DIPLOMACY
    | _COMMERCIAL
    | {Permission.PROJECT_MANAGE, Permission.SHIPMENT_DECLARE},
    Role.ANALYST: _EVERY_MEMBER
    | {Permission.MESSAGE_READ}
    | _INTEL_PARTY
    | _DEESCALATION
    | _DIPLOMACY
    | _COMMERCIAL,
    Role.DUTY_OFFICER: _EVERY_MEMBER | _OFFICER | _DEESCALATION | _DIPLOMACY | _COMMERCIAL,
    Role.SUPERVISOR: _EVERY_MEMBER
    | _GEO_SIGNATORY
    | _DIPLOMACY
    | {
        Permission.MEMBER_LIST_ALL,
        Permission.GEO_FEATURE_DEFINE,
        Permission.CHANNEL_OPEN,
        Permission.MESSAGE_READ,
        Permission.MESSAGE_SEND,
        Permission.MESSAGE_RELAY,
        Permission.INTEL_READ,
        Permission.INTEL_RELEASE,
        Permission.DEESCALATION_READ,
        Permission.COMMERCIAL_READ,
        Permission.PROJECT_MANAGE,
        Permission.MILESTONE_DECIDE,
    },
    Role.VERIFIER: _EVERY_MEMBER
    | _DEESCALATION
    | _DIPLOMACY
    | _COMMERCIAL
    | {
        Permission.MESSAGE_READ,
        Permission.MESSAGE_SEND,
        Permission.INTEL_READ,
        Permission.MILESTONE_DECIDE,
        Permission.SHIPMENT_INSPECT,
    },
    Role.OBSERVER: _EVERY_MEMBER
    | _DEESCALATION
    | _COMMERCIAL
    | {Permission.MESSAGE_READ, Permission.INTEL_READ},
    Role.AUDITOR: _EVERY_MEMBER,
    # The operator manages people and keys but has no content access by right; the
    # agreed geometry is shared with every member of the cell, so it is not content.
    Role.ADMIN: _EVERY_MEMBER
    | {
        Permission.MEMBER_LIST_ALL,
        Permission.MEMBER_CREATE,
        Permission.MEMBER_DISABLE,
        Permission.ROLE_GRANT,
        Permission.KEY_REVOKE_ANY,
        Permission.GEO_FEATURE_DEFINE,
        Permission.GEO_VERSION_PROPOSE,
        Permission.CHANNEL_OPEN,
    },
}


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a snapshot taken when the request was authenticated."""

    member_id: uuid.UUID
    username: str
    organisation_id: uuid.UUID
    organisation_kind: OrganisationKind
    roles: frozenset[Role]
    language: str
    # The web session's CSRF secret; None for bearer-token and console viewers.
    csrf_token: str | None = None
    # An entry the client signed itself for this request (no custody), if it sent one.
    presigned: Presigned | None = None

    @property
    def is_console(self) -> bool:
        return self.member_id == CONSOLE_ID

    @property
    def permissions(self) -> frozenset[Permission]:
        granted: frozenset[Permission] = frozenset()
        for role in self.roles:
            granted |= ROLE_PERMISSIONS[role]
        return granted

    # What the ledger needs to filter bodies (``fusioncell.ledger.queries.Reader``), computed
    # here so that the read rule stays in this module.
    @property
    def audience_grants(self) -> list[tuple[str, str]]:
        return audience_grants(self)

    @property
    def readable_entry_types(self) -> frozenset[str]:
        return readable_entry_types(self)


CONSOLE_USERNAME = "console"


def console_viewer(organisation_id: uuid.UUID) -> Viewer:
    """The operator at the server's console (``fusioncell users ...``).

    Whoever can run the CLI against the database already holds the database; naming that
    power keeps it visible instead of pretending the CLI is an ordinary member.
    """
    return Viewer(
        member_id=CONSOLE_ID,
        username=CONSOLE_USERNAME,
        organisation_id=organisation_id,
        organisation_kind=OrganisationKind.SUPERVISOR,
        roles=frozenset({Role.ADMIN}),
        language="en",
    )


def author_of(viewer: Viewer) -> Author:
    """Who signs for a viewer: the console signs as the log; a client that sent its own
    signature signs itself; everyone else signs with the key the server keeps for them."""
    if viewer.is_console:
        return ByLog()
    if viewer.presigned is not None:
        return viewer.presigned
    return ByMember(viewer.member_id)


def can(viewer: Viewer | None, permission: Permission) -> bool:
    return viewer is not None and permission in viewer.permissions


def require(viewer: Viewer | None, permission: Permission) -> Viewer:
    if viewer is None:
        raise NotAuthenticated()
    if permission not in viewer.permissions:
        raise Forbidden(f"this needs the permission {permission.value}")
    return viewer


def can_watch_deadlines(viewer: Viewer) -> bool:
    """The chair and the supervising organisation's duty officers watch every party's deadlines."""
    if not can(viewer, Permission.MESSAGE_READ):
        return False
    return Role.SUPERVISOR in viewer.roles or (
        viewer.organisation_kind == OrganisationKind.SUPERVISOR
        and Role.DUTY_OFFICER in viewer.roles
    )


def can_see_member(viewer: Viewer, organisation_id: uuid.UUID) -> bool:
    """Members of one's own organisation are visible to all; everyone only to the chair and
    the operator."""
    return viewer.organisation_id == organisation_id or can(viewer, Permission.MEMBER_LIST_ALL)


# -- the two-person rule for people ------------------------------------------------------

# Whose countersign puts a proposed member, or a proposed role, in force: the organisation's
# own lead. The operator proposes; the organisation that the member will speak for decides.
COUNTERSIGNING_ROLE: dict[OrganisationKind, Role] = {
    OrganisationKind.PARTY: Role.LIAISON,
    OrganisationKind.SUPERVISOR: Role.SUPERVISOR,
    OrganisationKind.VERIFIER: Role.VERIFIER,
    OrganisationKind.HOST: Role.OBSERVER,
    OrganisationKind.HUMANITARIAN: Role.OBSERVER,
}


def can_countersign(
    viewer: Viewer, *, organisation_id: uuid.UUID, organisation_kind: OrganisationKind
) -> bool:
    """Only a member of the same organisation holding its lead role countersigns its people."""
    return (
        not viewer.is_console
        and viewer.organisation_id == organisation_id
        and COUNTERSIGNING_ROLE[organisation_kind] in viewer.roles
    )


# -- who may read an entry's body ---------------------------------------------------------


def member_audience(organisation_id: uuid.UUID) -> dict[str, Any]:
    """Membership changes: the member's own organisation, the chair and the operator."""
    return audience(organisations=[organisation_id], roles=[Role.SUPERVISOR, Role.ADMIN])


def personal_audience(member_id: uuid.UUID) -> dict[str, Any]:
    """A member's own credentials and settings: the member and the operator."""
    return audience(members=[member_id], roles=[Role.ADMIN])


OPERATORS = audience(roles=[Role.SUPERVISOR, Role.ADMIN])


# Reading a body needs two things: being in the entry's audience, and holding the permission
# of the track that owns the entry type. The audience alone is not enough: the supervising
# organisation is in every channel's audience, and so is its operator, who reads no content.
# ``None`` means the audience decides alone (people, keys, accounts, the shared geometry and
# the rules in force, whose audiences are written for exactly who may read them). Each track
# declares its own types' permission (``Track.read_permissions``) and the bootstrap registers
# them here; a type missing here is readable by nobody, so a new track's entries are closed
# until it says so.
ENTRY_READ_PERMISSION: dict[str, Permission | None] = {}


def register_read_permissions(permissions: Mapping[StrEnum, Permission | None]) -> None:
    """Declare who may read the bodies of these entry types (once; never changed)."""
    for entry_type, needed in permissions.items():
        if ENTRY_READ_PERMISSION.get(entry_type.value, needed) != needed:
            raise ValueError(f"{entry_type.value} already has another read permission")
        ENTRY_READ_PERMISSION[entry_type.value] = needed


# The cell's own entries and the log's (the rules in force, keys): their audiences decide.
CELL_READ_PERMISSIONS: dict[StrEnum, Permission | None] = {
    **dict.fromkeys(CellEntry),
    **dict.fromkeys(LedgerEntry),
}


def readable_entry_types(viewer: Viewer) -> frozenset[str]:
    """The entry types whose bodies this viewer's roles allow, wherever they are in the
    audience."""
    granted = viewer.permissions
    return frozenset(
        entry_type
        for entry_type, needed in ENTRY_READ_PERMISSION.items()
        if needed is None or needed in granted
    )


def audience_grants(viewer: Viewer) -> list[tuple[str, str]]:
    """The audience rows that let this viewer read a body: match any one of them."""
    return [
        ("all", ""),
        ("organisation", str(viewer.organisation_id)),
        ("member", str(viewer.member_id)),
        *(("role", role.value) for role in sorted(viewer.roles)),
    ]
