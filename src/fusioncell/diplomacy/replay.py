"""The diplomatic track replayed from the log: ``fusioncell verify`` recomputes from the
signed bodies alone (``fusioncell.ledger.verify.replay``):

    versions      each version's content hashes (SHA-256 of its RFC 8785 form) to the hash
                  its entry states, names its agreement and its number in order, and its
                  signatories are its parties and the supervisor; an amendment keeps the
                  parties; its proposer is one of the parties' or the supervisor
    signatures    each is by a signatory, on the version's hash, once per organisation, and
                  not on a version older than the one in force; the version in force is the
                  last one every signatory signed
    assessments   a milestone is put to verification only once it is due, as a milestone of
                  the version in force that is neither waived nor withdrawn; its comment
                  window closes at the request's log time plus the ``diplomacy`` rules'
                  hours; each party comments once, sealed, before the window closes; every
                  comment is revealed at or after the close by a nonce and a text whose
                  SHA-256 is the sealed commitment, before the assessment; the assessment
                  comes from the supervisor or the verifier, after the window, citing evidence
    escalations   each ``diplomacy.deadline.escalated`` entry is the next step of a deadline
                  still missed at its log time (a due milestone not put to verification, an
                  assessment not made once the window closed), with the due time and whom to
                  notify the rules' ladder gives, owed by the supervisor
    minutes       drafted by the supervisor; signed by the participating parties on the
                  current draft's hash
    readers       every entry is released to its agreement's or meeting's parties, the
                  supervisor and the verifier

A source that withholds any of these bodies gets no verdict rather than a wrong one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from fusioncell.cell.entries import CellEntry
from fusioncell.diplomacy.content import content_hash, milestone_id
from fusioncell.diplomacy.deadlines import ASSESSMENT, VERIFICATION_REQUEST
from fusioncell.diplomacy.entries import DiplomacyEntry as E
from fusioncell.diplomacy.models import Outcome
from fusioncell.diplomacy.rules import DiplomacyRules, RulesError, parse_rules
from fusioncell.ledger.entries import LedgerEntry, log_time, parse_log_time
from fusioncell.verification.actions.findings import commitment

ASSESSORS = frozenset({"supervisor", "verifier"})
REQUESTERS = frozenset({"party", "supervisor", "verifier"})


@dataclass
class _Agreement:
    parties: list[str]
    readers: list[str]
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> body
    numbers: int = 0
    in_force: int = 0
    signed: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class _Milestone:
    agreement: str
    due_at: datetime
    state: str = "open"
    requested_at: datetime | None = None
    closes_at: datetime | None = None
    escalations: dict[str, int] = field(default_factory=dict)  # duty -> steps logged
    comments: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> party, hash
    revealed: set[str] = field(default_factory=set)


@dataclass
class _Meeting:
    participants: list[str]
    readers: list[str]
    draft: str | None = None


class DiplomacyReplay:
    def __init__(self) -> None:
        self.complete = True
        self._problems: list[tuple[int, str]] = []
        self._rules: DiplomacyRules | None = None
        self._kinds: dict[str, str] = {}
        self._agreements: dict[str, _Agreement] = {}
        self._milestones: dict[str, _Milestone] = {}
        self._meetings: dict[str, _Meeting] = {}
        self._handlers: dict[str, Callable[[int, datetime, dict[str, Any]], None]] = {
            CellEntry.ORGANISATION_CREATED.value: self._organisation,
            LedgerEntry.POLICY_ADOPTED.value: self._policy,
            E.AGREEMENT_PROPOSED.value: partial(self._proposed, True),
            E.AMENDMENT_PROPOSED.value: partial(self._proposed, False),
            E.VERSION_SIGNED.value: self._signed,
            E.VERIFICATION_REQUESTED.value: self._requested,
            E.COMMENT_SEALED.value: self._sealed,
            E.COMMENT_REVEALED.value: self._revealed,
            E.MILESTONE_ASSESSED.value: self._assessed,
            E.MEETING_REQUESTED.value: self._meeting,
            E.MINUTES_DRAFTED.value: self._drafted,
            E.MINUTES_COMMENTED.value: self._minutes_commented,
            E.MINUTES_SIGNED.value: self._minutes_signed,
            E.DEADLINE_ESCALATED.value: self._escalated,
        }

    def observe(self, index: int, entry_type: str, logged_at: datetime, body: str | None) -> None:
        handler = self._handlers.get(entry_type)
        if handler is None:
            return
        if body is None:
            self.complete = False
            return
        try:
            value = json.loads(body)
            if not isinstance(value, dict):
                raise TypeError("not an object")
            handler(index, logged_at, value)
        except (KeyError, TypeError, ValueError, AttributeError, RulesError) as exc:
            if entry_type.startswith("diplomacy."):
                self._fault(index, f"the {entry_type} body cannot be replayed: {exc!r}")

    def first_problem(self) -> tuple[int, str] | None:
        if not self.complete or not self._problems:
            return None
        return min(self._problems)

    # -- helpers ------------------------------------------------------------------------

    def _fault(self, index: int, reason: str) -> None:
        self._problems.append((index, reason))

    def _kind(self, body: dict[str, Any]) -> str | None:
        return self._kinds.get(str(body.get("organisation")))

    def _readers(self, parties: list[str]) -> list[str]:
        shared = {s for s, k in self._kinds.items() if k in ("supervisor", "verifier")}
        return sorted(set(parties) | shared)

    def _check_readers(self, index: int, body: dict[str, Any], readers: list[str]) -> None:
        if body.get("released_to") != readers:
            self._fault(
                index, f"the entry is released to {body.get('released_to')!r}, not {readers!r}"
            )

    def _milestone(self, index: int, body: dict[str, Any]) -> _Milestone | None:
        found = self._milestones.get(str(body["milestone"]))
        if found is None:
            self._fault(index, f"milestone {body['milestone']} is not one of a version in force")
        return found

    # -- entries --------------------------------------------------------------------------

    def _organisation(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        self._kinds[str(body["slug"])] = str(body["kind"])

    def _policy(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        section = body["policy"].get("diplomacy")
        self._rules = parse_rules(section) if section is not None else None

    def _proposed(self, first: bool, index: int, at: datetime, body: dict[str, Any]) -> None:
        content = body["content"]
        aid = str(body["agreement"])
        if content_hash(content) != body["content_hash"]:
            self._fault(index, "the version's content does not hash to its content_hash")
        if str(content["agreement"]) != aid:
            self._fault(index, "the version's content names another agreement")
        parties = list(content["parties"])
        agreement = self._agreements.get(aid)
        if first == (agreement is not None):
            self._fault(index, "a first version opens a new agreement, an amendment amends one")
        if agreement is None:
            agreement = self._agreements[aid] = _Agreement(parties, self._readers(parties))
        elif parties != agreement.parties:
            self._fault(index, "an amendment keeps the agreement's parties")
        agreement.numbers += 1
        if content["version"] != agreement.numbers:
            self._fault(index, f"version {content['version']} is out of order")
        if not all(self._kinds.get(p) == "party" for p in parties):
            self._fault(index, "an agreement's parties are parties of the cell")
        supervisors = sorted(s for s, k in self._kinds.items() if k == "supervisor")
        if body["signatories"] != sorted(set(parties) | set(supervisors)):
            self._fault(index, "the signatories are the parties and the supervisor")
        kind, own = self._kind(body), body.get("organisation")
        if not (kind == "supervisor" or (kind == "party" and own in parties)):
            self._fault(index, f"{own} ({kind}) may not propose this agreement")
        self._check_readers(index, body, agreement.readers)
        agreement.versions[str(body["version"])] = body

    def _signed(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        agreement = self._agreements.get(str(body["agreement"]))
        version = agreement.versions.get(str(body["version"])) if agreement else None
        if agreement is None or version is None:
            self._fault(index, f"no version {body['version']} was proposed")
            return
        own = str(body["organisation"])
        if body["content_hash"] != version["content_hash"]:
            self._fault(index, "the signature is on another hash than the version's")
        if own not in version["signatories"]:
            self._fault(index, f"{own} is not a signatory of this version")
        if self._kinds.get(own) not in ("party", "supervisor"):
            self._fault(index, f"{own} may not sign agreements")
        number = int(version["content"]["version"])
        if number <= agreement.in_force:
            self._fault(index, f"version {number} is signed after a later one came into force")
        signed = agreement.signed.setdefault(str(body["version"]), set())
        if own in signed:
            self._fault(index, f"{own} signed this version twice")
        signed.add(own)
        self._check_readers(index, body, agreement.readers)
        if set(version["signatories"]) <= signed and number > agreement.in_force:
            agreement.in_force = number
            self._bring_into_force(str(body["agreement"]), version["content"])

    def _bring_into_force(self, aid: str, content: dict[str, Any]) -> None:
        kept = set()
        for c in content["commitments"]:
            for m in c["milestones"]:
                mid = str(milestone_id(uuid.UUID(aid), c["key"], m["key"]))
                kept.add(mid)
                found = self._milestones.get(mid)
                if found is None:
                    found = self._milestones[mid] = _Milestone(aid, parse_log_time(m["due_at"]))
                if found.state == "assessed":
                    continue
                found.due_at = parse_log_time(m["due_at"])
                if m["waived"]:
                    found.state = "waived"
                elif found.state in ("waived", "withdrawn"):
                    found.state = "open"
        for mid, found in self._milestones.items():
            if found.agreement == aid and mid not in kept and found.state != "assessed":
                found.state = "withdrawn"

    def _requested(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        milestone = self._milestone(index, body)
        if milestone is None or self._rules is None:
            if self._rules is None:
                self._fault(index, "no diplomacy rules were adopted before it")
            return
        if self._kind(body) not in REQUESTERS:
            self._fault(index, f"{body.get('organisation')} may not ask for verification")
        if milestone.state != "open":
            self._fault(index, f"the milestone is {milestone.state}: it is not put to verification")
        if at < milestone.due_at:
            self._fault(index, "the milestone is put to verification before its due date")
        closes = at + self._rules.comment_window
        if body["comments_close_at"] != log_time(closes):
            self._fault(index, f"the comment window closes at {log_time(closes)}, not as stated")
        milestone.state, milestone.closes_at = "requested", closes
        milestone.requested_at = at
        self._check_readers(index, body, self._agreements[milestone.agreement].readers)

    def _sealed(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        milestone = self._milestone(index, body)
        if milestone is None:
            return
        party = str(body["organisation"])
        if self._kinds.get(party) != "party":
            self._fault(index, f"{party} is not a party: it does not comment")
        if (
            milestone.state != "requested"
            or milestone.closes_at is None
            or at >= milestone.closes_at
        ):
            self._fault(index, "the comment is sealed outside the milestone's comment window")
        if any(p == party for p, _ in milestone.comments.values()):
            self._fault(index, f"{party} commented twice on the milestone")
        milestone.comments[str(body["comment"])] = (party, str(body["commitment"]))
        self._check_readers(index, body, self._agreements[milestone.agreement].readers)

    def _revealed(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        milestone = self._milestone(index, body)
        if milestone is None:
            return
        sealed = milestone.comments.get(str(body["comment"]))
        if body.get("organisation") is not None or sealed is None:
            self._fault(index, "a reveal is the log's, of a sealed comment")
            return
        if milestone.closes_at is None or at < milestone.closes_at:
            self._fault(index, "the comment is revealed before its window closed")
        if commitment(str(body["nonce"]), str(body["text"])) != sealed[1]:
            self._fault(index, "the revealed text and nonce do not hash to the sealed commitment")
        if body["party"] != sealed[0]:
            self._fault(index, "the reveal names another party than the comment's")
        milestone.revealed.add(str(body["comment"]))

    def _assessed(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        milestone = self._milestone(index, body)
        if milestone is None:
            return
        if self._kind(body) not in ASSESSORS:
            self._fault(index, f"{body.get('organisation')} may not assess a milestone")
        if milestone.state != "requested" or milestone.closes_at is None:
            self._fault(index, f"the milestone is {milestone.state}: it is not assessed")
        elif at < milestone.closes_at or at < milestone.due_at:
            self._fault(index, "the milestone is assessed before its comment window closed")
        if set(milestone.comments) - milestone.revealed:
            self._fault(index, "a sealed comment is not revealed before the assessment")
        if body["outcome"] not in tuple(Outcome) or not body["evidence"]:
            self._fault(index, "an assessment has an outcome and cites its evidence")
        milestone.state = "assessed"
        self._check_readers(index, body, self._agreements[milestone.agreement].readers)

    def _escalated(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        milestone = self._milestone(index, body)
        if milestone is None or self._rules is None:
            if self._rules is None:
                self._fault(index, "no diplomacy rules were adopted before it")
            return
        if body.get("organisation") is not None:
            self._fault(index, "an escalation is the log's")
        duty = str(body["duty"])
        if duty == VERIFICATION_REQUEST and milestone.state == "open":
            deadline = milestone.due_at
        elif duty == ASSESSMENT and milestone.state == "requested" and milestone.closes_at:
            deadline = milestone.closes_at
        else:
            self._fault(index, f"no {duty} deadline of the milestone is missed")
            return
        step = milestone.escalations.get(duty, 0) + 1
        ladder = self._rules.ladder
        if int(body["step"]) != step or step > len(ladder):
            self._fault(index, f"the escalation is step {body['step']}, the next is {step}")
            return
        rung = ladder[step - 1]
        if body["due_at"] != log_time(deadline + rung.after) or at < deadline + rung.after:
            self._fault(index, f"step {step} falls due at {log_time(deadline + rung.after)}")
        if body["notify"] != list(rung.notify):
            self._fault(index, f"step {step} notifies {list(rung.notify)}")
        supervisors = sorted(s for s, k in self._kinds.items() if k == "supervisor")
        if not supervisors or body["owed_by"] != supervisors[0]:
            self._fault(index, "the deadline is the supervisor's")
        milestone.escalations[duty] = step
        self._check_readers(index, body, self._agreements[milestone.agreement].readers)

    def _meeting(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        participants = list(body["participants"])
        if self._kind(body) not in ("party", "supervisor"):
            self._fault(index, f"{body.get('organisation')} may not request a meeting")
        readers = self._readers(participants)
        self._meetings[str(body["meeting"])] = _Meeting(participants, readers)
        self._check_readers(index, body, readers)

    def _meeting_of(self, index: int, body: dict[str, Any]) -> _Meeting | None:
        found = self._meetings.get(str(body["meeting"]))
        if found is None:
            self._fault(index, f"no meeting {body['meeting']} was requested")
        else:
            self._check_readers(index, body, found.readers)
        return found

    def _drafted(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        meeting = self._meeting_of(index, body)
        if meeting is None:
            return
        if self._kind(body) != "supervisor":
            self._fault(index, "only the supervisor drafts the minutes")
        if content_hash(body["minutes"]) != body["minutes_hash"]:
            self._fault(index, "the minutes do not hash to their minutes_hash")
        meeting.draft = str(body["minutes_hash"])

    def _minutes_commented(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        meeting = self._meeting_of(index, body)
        if meeting is not None and body.get("organisation") not in meeting.participants:
            self._fault(index, "only a participating party comments on the minutes")

    def _minutes_signed(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        meeting = self._meeting_of(index, body)
        if meeting is None:
            return
        if body.get("organisation") not in meeting.participants:
            self._fault(index, "only a participating party signs the minutes")
        if body["minutes_hash"] != meeting.draft:
            self._fault(index, "the signature is on another hash than the current draft's")
