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


class ProtectionEntry(StrEnum):
    """The registry of protected places, the no-strike lists, incidents and early warning."""

    # A protected site or community proposed by any organisation, and each signatory's
    # consent (in force once both parties and the supervisor have signed).
    PLACE_PROPOSED = "deconfliction.place.proposed"
    PLACE_SIGNED = "deconfliction.place.signed"
    # A party's no-strike list as sent (by the log, weekly or on the supervisor's demand),
    # and its focal point's acknowledgement of receipt.
    NO_STRIKE_LIST_SENT = "deconfliction.no_strike_list.sent"
    NO_STRIKE_LIST_ACKNOWLEDGED = "deconfliction.no_strike_list.acknowledged"
    INCIDENT_REPORTED = "deconfliction.incident.reported"
    # The cell's early warning (by the log), and a recipient's receipt of it.
    ALERT_RAISED = "deconfliction.alert.raised"
    ALERT_ACKNOWLEDGED = "deconfliction.alert.acknowledged"


# Each body goes to the organisations its ``released_to`` names and, within them, to those
# who read the cell's traffic (never the operator, who sits in the supervising organisation).
DECONFLICTION_READ_PERMISSIONS: dict[StrEnum, Permission | None] = {
    **dict.fromkeys(NotificationEntry, Permission.MESSAGE_READ),
    **dict.fromkeys(ProtectionEntry, Permission.MESSAGE_READ),
}
