"""The intelligence track's entry types. Values are signed: never rename or reuse one."""

from __future__ import annotations

from enum import StrEnum

from fusioncell.cell.policy import Permission


class IntelEntry(StrEnum):
    REPORT_SUBMITTED = "intel.report.submitted"
    REPORT_RELEASED = "intel.report.released"
    REPORT_RESPONDED = "intel.report.responded"


# A report's body goes to its audience (the organisations it is released to) and, within
# them, to those who read the cell's traffic: never to the operator, who sits in the
# supervising organisation. (The cell's policy has no intelligence permission of its own yet;
# the track's own reads ask ``intel.policy``.)
INTEL_READ_PERMISSIONS: dict[StrEnum, Permission | None] = dict.fromkeys(
    IntelEntry, Permission.MESSAGE_READ
)
