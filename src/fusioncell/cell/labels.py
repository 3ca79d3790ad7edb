"""Human labels for the cell's closed vocabularies (their values stay the wire format)."""

from __future__ import annotations

from fusioncell.cell.models import OrganisationKind, Role
from fusioncell.text import N_

ROLE_LABELS: dict[str, str] = {
    Role.LIAISON: N_("Liaison officer"),
    Role.ANALYST: N_("Analyst"),
    Role.DUTY_OFFICER: N_("Duty officer"),
    Role.SUPERVISOR: N_("Supervisor"),
    Role.VERIFIER: N_("Verifier"),
    Role.OBSERVER: N_("Observer"),
    Role.AUDITOR: N_("Auditor"),
    Role.ADMIN: N_("Administrator"),
}

KIND_LABELS: dict[str, str] = {
    OrganisationKind.PARTY: N_("Party"),
    OrganisationKind.SUPERVISOR: N_("Supervisor"),
    OrganisationKind.VERIFIER: N_("Verifier"),
    OrganisationKind.HOST: N_("Host state"),
    OrganisationKind.HUMANITARIAN: N_("Humanitarian organisation"),
}
