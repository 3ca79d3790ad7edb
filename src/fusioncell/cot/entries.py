"""The CoT gateway's entry types. Values are signed: never rename or reuse one."""

from __future__ import annotations

from enum import StrEnum

from fusioncell.cell.policy import Permission


class CotEntry(StrEnum):
    # A member's client certificate issued by the cell's CA (serial, SHA-256 fingerprint).
    CERTIFICATE_ISSUED = "cot.certificate.issued"
    CERTIFICATE_REVOKED = "cot.certificate.revoked"
    # A CoT event received from a member's client: its raw XML, its digest, and what the
    # gateway made of it (the observation batch or hotline message it became, or nothing).
    EVENT_RECEIVED = "cot.event.received"


# Certificates: the audience decides (the member's organisation and the supervisor). What a
# client sent is read by those who read the de-escalation track in its audience (never the
# operator or the auditor).
COT_READ_PERMISSIONS: dict[StrEnum, Permission | None] = {
    CotEntry.CERTIFICATE_ISSUED: None,
    CotEntry.CERTIFICATE_REVOKED: None,
    CotEntry.EVENT_RECEIVED: Permission.DEESCALATION_READ,
}
