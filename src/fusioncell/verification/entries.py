"""The verification track's entry types. Values are signed: never rename or reuse one."""

from __future__ import annotations

from enum import StrEnum

from fusioncell.cell.policy import Permission


class VerificationEntry(StrEnum):
    # A file of evidence stored by its SHA-256 (hash, size and type; never its bytes).
    EVIDENCE_STORED = "verification.evidence.stored"
    COMPLAINT_FILED = "verification.complaint.filed"
    # The supervisor's triage: admissible, duplicate of another case, or out of scope.
    COMPLAINT_TRIAGED = "verification.complaint.triaged"
    VERIFIER_TASKED = "verification.verifier.tasked"
    SITE_VISITED = "verification.site.visited"
    ACCESS_REQUESTED = "verification.access.requested"
    ACCESS_ANSWERED = "verification.access.answered"
    # R12: a denial of access to the verifier, an incident of its own attributed to a party.
    INCIDENT_RECORDED = "verification.incident.recorded"
    # A draft finding; it opens the comment window for every party at the same moment.
    FINDING_DRAFTED = "verification.finding.drafted"
    # A party's comment, sealed: the body holds only SHA-256(nonce || text) until the window
    # closes; the log then reveals the nonce and the text (checked by ``fusioncell verify``).
    COMMENT_SEALED = "verification.comment.sealed"
    COMMENT_REVEALED = "verification.comment.revealed"
    FINDING_ISSUED = "verification.finding.issued"
    REMEDY_REQUESTED = "verification.remedy.requested"
    REMEDY_VERIFIED = "verification.remedy.verified"
    CASE_CLOSED = "verification.case.closed"
    # A step of an overdue deadline's ladder (by the log): triage, site visit, access answer.
    DEADLINE_ESCALATED = "verification.deadline.escalated"


# Each body goes to the organisations its ``released_to`` names and, within them, to those
# who read the cell's traffic (never the operator, who sits in the supervising organisation).
VERIFICATION_READ_PERMISSIONS: dict[StrEnum, Permission | None] = dict.fromkeys(
    VerificationEntry, Permission.MESSAGE_READ
)
