"""The intelligence track's entry types. Values are signed: never rename or reuse one."""

from __future__ import annotations

from enum import StrEnum

from fusioncell.cell.policy import Permission


class IntelEntry(StrEnum):
    REPORT_SUBMITTED = "intel.report.submitted"
    REPORT_RELEASED = "intel.report.released"
    REPORT_RESPONDED = "intel.report.responded"


# A report's body goes to its audience (the organisations it is released to) and, within
# them, to those who read intelligence: never to the operator, who sits in the supervising
# organisation, nor to a party's duty officer (``cell.policy``'s role table).
INTEL_READ_PERMISSIONS: dict[StrEnum, Permission | None] = dict.fromkeys(
    IntelEntry, Permission.INTEL_READ
)
