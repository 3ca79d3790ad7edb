"""The deconfliction track's entry types. Values are signed: never rename or reuse one."""

from __future__ import annotations

from enum import StrEnum

from fusioncell.cell.policy import Permission


class NotificationEntry(StrEnum):
    # The notification as sent, its lead-time verdict and its recipients.
    SUBMITTED = "deconfliction.notification.submitted"
    # The cell's statement of the conflicts a check found (signed by the log, recomputed by
    # ``fusioncell verify``): after every submission or amendment, and whenever what the
    # conflicts depend on changes.
    CHECKED = "deconfliction.notification.checked"
    # A recipient party's receipt of a version: receipt, never approval.
    ACKNOWLEDGED = "deconfliction.notification.acknowledged"
    AMENDED = "deconfliction.notification.amended"
    WITHDRAWN = "deconfliction.notification.withdrawn"
    # The sender notes the conflicts listed (keeps the notification as it is).
    NOTED = "deconfliction.notification.noted"
    # A FLASH emergency's written justification.
    JUSTIFIED = "deconfliction.notification.justified"
    # A step of an overdue acknowledgement's or justification's ladder (by the log).
    ESCALATED = "deconfliction.notification.escalated"


# Each body goes to the organisations its ``released_to`` names and, within them, to those
# who read the cell's traffic (never the operator, who sits in the supervising organisation).
DECONFLICTION_READ_PERMISSIONS: dict[StrEnum, Permission | None] = dict.fromkeys(
    NotificationEntry, Permission.MESSAGE_READ
)
