"""The de-escalation track's entry types. Values are signed: never rename or reuse one."""

from __future__ import annotations

from enum import StrEnum

from fusioncell.cell.policy import Permission


class DeescalationEntry(StrEnum):
    # A FeatureCollection of observations, its features in the body.
    OBSERVATIONS_RECORDED = "deescalation.observations.recorded"
    BASELINE_DECLARED = "deescalation.baseline.declared"
    BASELINE_ACCEPTED = "deescalation.baseline.accepted"
    EXCEPTION_PROPOSED = "deescalation.exception.proposed"
    EXCEPTION_SIGNED = "deescalation.exception.signed"
    # The cell's statement of the candidates a batch left, as its poster's organisation sees
    # them: signed by the log, recomputed by ``fusioncell verify`` (``replay.py``).
    COMPLIANCE_COMPUTED = "deescalation.compliance.computed"
    # R7: a party asks for an inspection of a zone and side; the verifier reports one (its
    # counted holdings are the observations entry just before it, in the same transaction).
    INSPECTION_REQUESTED = "deescalation.inspection.requested"
    INSPECTION_REPORTED = "deescalation.inspection.reported"
    # R12: an incident of its own, attributed to a party (access denied to the verifier).
    INCIDENT_RECORDED = "deescalation.incident.recorded"


# Each body goes to the organisations its ``released_to`` names and, within them, to those
# who read the track: never to the operator, who sits in the supervising organisation (as for
# intelligence).
DEESCALATION_READ_PERMISSIONS: dict[StrEnum, Permission | None] = dict.fromkeys(
    DeescalationEntry, Permission.DEESCALATION_READ
)
