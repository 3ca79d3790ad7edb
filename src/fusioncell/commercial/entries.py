"""The commercial track's entry types. Values are signed: never rename or reuse one."""

from __future__ import annotations

from enum import StrEnum

from fusioncell.cell.policy import Permission


class CommercialEntry(StrEnum):
    # A file of evidence stored by its SHA-256 (hash, size and type; never its bytes).
    EVIDENCE_STORED = "commercial.evidence.stored"
    PROJECT_PROPOSED = "commercial.project.proposed"
    # proposed -> active -> suspended / completed / cancelled, with a reason.
    PROJECT_STATUS_CHANGED = "commercial.project.status_changed"
    MILESTONE_ADDED = "commercial.milestone.added"
    # Files a party, the supervisor or the verifier puts before the milestone's decision.
    MILESTONE_EVIDENCE_ATTACHED = "commercial.milestone.evidence_attached"
    # The supervisor's or the verifier's decision: met (on time or late) or missed.
    MILESTONE_DECIDED = "commercial.milestone.decided"
    # The body states the lead-time verdict; ``fusioncell verify`` recomputes it.
    SHIPMENT_DECLARED = "commercial.shipment.declared"
    SHIPMENT_INSPECTED = "commercial.shipment.inspected"
    SHIPMENT_PASSED = "commercial.shipment.passed"
    SHIPMENT_REFUSED = "commercial.shipment.refused"


# Each body goes to the organisations its ``released_to`` names and, within them, to those
# who read the track (never the operator or the auditor).
COMMERCIAL_READ_PERMISSIONS: dict[StrEnum, Permission | None] = dict.fromkeys(
    CommercialEntry, Permission.COMMERCIAL_READ
)
