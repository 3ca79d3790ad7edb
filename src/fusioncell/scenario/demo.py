"""Load the neutral demo scenario (ALPHA, BRAVO and the supervising cell) through actions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell.actions.members import do_create_member
from fusioncell.cell.actions.organisations import do_create_organisation
from fusioncell.cell.models import OrganisationKind, Role
from fusioncell.cell.policy import Viewer, console_viewer
from fusioncell.cell.queries import get_member_by_username, viewer_of
from fusioncell.geo.actions import do_propose_geometry_version, do_sign_geometry_version
from fusioncell.geo.derive import demo_geometry_proposal
from fusioncell.hotline.actions.channels import do_open_channels
from fusioncell.scenario import geometry

# Stable ids, so loading the scenario twice changes nothing.
_NS = uuid.UUID("0b7f4a8e-5f3c-4d5e-8a8c-5c2b8c1f9e10")


@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    name: str
    kind: OrganisationKind
    # The name in the other languages offered; ``name`` is the English one.
    names: dict[str, str]


@dataclass(frozen=True)
class DemoMember:
    username: str
    display_name: str
    organisation: str
    roles: tuple[Role, ...]


ORGANISATIONS = (
    DemoOrganisation(
        "ALPHA",
        "Party ALPHA",
        OrganisationKind.PARTY,
        {"ar": "الطرف ألفا", "he": "הצד אלפא"},
    ),
    DemoOrganisation(
        "BRAVO",
        "Party BRAVO",
        OrganisationKind.PARTY,
        {"ar": "الطرف برافو", "he": "הצד בראבו"},
    ),
    DemoOrganisation(
        "SUPERVISOR",
        "Supervising cell",
        OrganisationKind.SUPERVISOR,
        {"ar": "الخلية المشرفة", "he": "התא המפקח"},
    ),
    DemoOrganisation(
        "VERIFIER",
        "Observer force",
        OrganisationKind.VERIFIER,
        {"ar": "قوة المراقبين", "he": "כוח המשקיפים"},
    ),
    DemoOrganisation(
        "HOST",
        "Host state",
        OrganisationKind.HOST,
        {"ar": "الدولة المضيفة", "he": "המדינה המארחת"},
    ),
    DemoOrganisation(
        "HUM-1",
        "Humanitarian organisation 1",
        OrganisationKind.HUMANITARIAN,
        {"ar": "المنظمة الإنسانية 1", "he": "ארגון הומניטרי 1"},
    ),
)

MEMBERS = (
    DemoMember("alpha.liaison", "ALPHA liaison officer", "ALPHA", (Role.LIAISON,)),
    DemoMember("alpha.duty", "ALPHA duty officer", "ALPHA", (Role.DUTY_OFFICER,)),
    DemoMember("alpha.analyst", "ALPHA analyst", "ALPHA", (Role.ANALYST,)),
    DemoMember("bravo.liaison", "BRAVO liaison officer", "BRAVO", (Role.LIAISON,)),
    DemoMember("bravo.duty", "BRAVO duty officer", "BRAVO", (Role.DUTY_OFFICER,)),
    DemoMember("bravo.analyst", "BRAVO analyst", "BRAVO", (Role.ANALYST,)),
    DemoMember("supervisor.chair", "Chair of the cell", "SUPERVISOR", (Role.SUPERVISOR,)),
    DemoMember(
        "supervisor.duty",
        "Supervisor duty officer",
        "SUPERVISOR",
        (Role.SUPERVISOR, Role.DUTY_OFFICER),
    ),
    DemoMember("verifier.lead", "Verifier team lead", "VERIFIER", (Role.VERIFIER,)),
    DemoMember("host.observer", "Host state observer", "HOST", (Role.OBSERVER,)),
    DemoMember("hum1.coordinator", "HUM-1 coordinator", "HUM-1", (Role.OBSERVER,)),
    # The deployment's operator: people and keys, no content access by right.
    DemoMember("cell.admin", "Cell operator", "SUPERVISOR", (Role.ADMIN,)),
)


def stable_id(kind: str, name: str) -> uuid.UUID:
    return uuid.uuid5(_NS, f"{kind}/{name}")


def load_demo(db: Session, *, password: str, now: datetime, hash_profile: str) -> None:
    """Create the demo cell. Each step is an action with a stable id, so a rerun is a no-op."""
    console = console_viewer(stable_id("organisation", "SUPERVISOR"))
    for organisation in ORGANISATIONS:
        do_create_organisation(
            db,
            console,
            organisation_id=stable_id("organisation", organisation.slug),
            slug=organisation.slug,
            name=organisation.name,
            names=organisation.names,
            kind=organisation.kind,
            now=now,
        )
    for member in MEMBERS:
        do_create_member(
            db,
            console,
            member_id=stable_id("member", member.username),
            username=member.username,
            display_name=member.display_name,
            organisation_slug=member.organisation,
            roles=member.roles,
            password=password,
            language="en",
            now=now,
            hash_profile=hash_profile,
        )
    # The host state sits in the cell-wide channel; the humanitarian organisation is in none
    # until the supervisor adds it, so observers see only what they are members of.
    do_open_channels(db, console, observers=["HOST"], now=now)
    load_demo_geometry(db, now=now)


def load_demo_geometry(db: Session, *, now: datetime) -> None:
    """Geometry version 1: the demo's lines, zones and sites, proposed by the chair and
    signed by ALPHA's and BRAVO's liaison officers and the chair, so it is in force."""
    console = console_viewer(stable_id("organisation", "SUPERVISOR"))

    def viewer(username: str) -> Viewer:
        found = viewer_of(get_member_by_username(db, console, username))
        db.commit()
        return found

    chair = viewer("supervisor.chair")
    version = do_propose_geometry_version(
        db,
        chair,
        version_id=stable_id("geometry-version", "1"),
        collection=demo_geometry_proposal(),
        authoritative=False,
        source=geometry.SOURCE,
        now=now,
    )
    for username in ("alpha.liaison", "bravo.liaison", "supervisor.chair"):
        do_sign_geometry_version(
            db,
            viewer(username),
            version_id=version.id,
            content_hash=version.content_hash,
            now=now,
        )
