"""The diplomatic track's entry types. Values are signed: never rename or reuse one."""

from __future__ import annotations

from enum import StrEnum

from fusioncell.cell.policy import Permission


class DiplomacyEntry(StrEnum):
    # An agreement's first version: its content and the SHA-256 of that content.
    AGREEMENT_PROPOSED = "diplomacy.agreement.proposed"
    # A later version (an amendment, a waiver, a decision of agreed minutes made a commitment).
    AMENDMENT_PROPOSED = "diplomacy.amendment.proposed"
    # A signatory's signature on a version's content hash; the last one puts it in force.
    VERSION_SIGNED = "diplomacy.version.signed"
    # A due milestone put to verification: it opens the comment window for every party.
    VERIFICATION_REQUESTED = "diplomacy.milestone.verification_requested"
    # A party's comment, sealed (SHA-256(nonce || text)) until the window closes, then
    # revealed by the log.
    COMMENT_SEALED = "diplomacy.comment.sealed"
    COMMENT_REVEALED = "diplomacy.comment.revealed"
    # Met, partially met, breached or not verifiable, with the evidence cited and the
    # de-escalation engine's result at the due date where a rule or zone is linked.
    MILESTONE_ASSESSED = "diplomacy.milestone.assessed"
    MEETING_REQUESTED = "diplomacy.meeting.requested"
    MINUTES_DRAFTED = "diplomacy.minutes.drafted"
    MINUTES_COMMENTED = "diplomacy.minutes.commented"
    # A party's signature on a draft's hash; the last party's makes the minutes agreed.
    MINUTES_SIGNED = "diplomacy.minutes.signed"
    # A step of a missed deadline's ladder (by the log): a due milestone not put to
    # verification, an assessment not made once the comment window closed.
    DEADLINE_ESCALATED = "diplomacy.deadline.escalated"


# Each body goes to the organisations of its agreement or meeting (the audience) and, within
# them, to those who read the track.
DIPLOMACY_READ_PERMISSIONS: dict[StrEnum, Permission | None] = dict.fromkeys(
    DiplomacyEntry, Permission.DIPLOMACY_READ
)
