"""Human labels for the cell's closed vocabularies (their values stay the wire format)."""

from __future__ import annotations

from collections.abc import Iterable

from fusioncell.cell.models import Organisation, OrganisationKind, Role
from fusioncell.i18n import join_list, translate
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


def role_label(role: str, language: str) -> str:
    return translate(language, ROLE_LABELS.get(role, role))


def role_list(roles: Iterable[str], language: str) -> str:
    """Roles by their names in ``language``, in a stable order, joined as the locale joins a
    list."""
    return join_list(language, [role_label(role, language) for role in sorted(roles)])


def organisation_name(organisation: Organisation, language: str) -> str:
    return organisation.name_in(language)
