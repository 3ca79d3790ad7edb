"""The cell's entry types: organisations, people, roles, credentials and sessions.

Values are part of the signed message: never rename or reuse one. The key entries
(``cell.key.*``) are the ledger's own (``fusioncell.ledger.entries.LedgerEntry``): the log
applies them to its key table and needs them to check every other signature.
"""

from __future__ import annotations

from enum import StrEnum


class CellEntry(StrEnum):
    ORGANISATION_CREATED = "cell.organisation.created"
    MEMBER_CREATED = "cell.member.created"
    MEMBER_DISABLED = "cell.member.disabled"
    MEMBER_COUNTERSIGNED = "cell.member.countersigned"
    ROLE_GRANTED = "cell.role.granted"
    ROLE_REVOKED = "cell.role.revoked"
    PASSWORD_CHANGED = "cell.password.changed"
    TOTP_ENABLED = "cell.totp.enabled"
    TOTP_DISABLED = "cell.totp.disabled"
    TOTP_ENROLMENT_STARTED = "cell.totp.enrolment_started"
    TOKEN_ISSUED = "cell.token.issued"
    TOKEN_REVOKED = "cell.token.revoked"
    SESSION_STARTED = "cell.session.started"
    SESSION_ENDED = "cell.session.ended"
    LOGIN_THROTTLED = "cell.login.throttled"
    LANGUAGE_SET = "cell.language.set"
