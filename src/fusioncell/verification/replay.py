"""Cases replayed from the log: ``fusioncell verify`` recomputes every case's state and
deadlines from the signed bodies alone (``fusioncell.ledger.verify.replay``):

    who           each step comes from an organisation of the kind the workflow allows
                  (``cell.organisation.created`` says who is what): a complaint from a party,
                  the verifier or the humanitarian organisation; a triage from the
                  supervisor; a finding, a remedy from the supervisor or the verifier; an
                  answer from the party asked; a comment from a party, once per draft
    states        each step is allowed from the state the earlier ones left, and states the
                  state it leaves (``verification.workflow``)
    deadlines     the triage, site-visit, access-answer deadlines and the comment window
                  are the entry's log time plus the ``verification`` rules adopted last
                  before it; the ladder bound at filing is those rules' ladder
    comments      sealed before the window closes; revealed at or after it, by a nonce and a
                  text whose SHA-256 is the sealed commitment; every comment revealed before
                  the finding is issued, and within ``GRACE`` of its window's close
    escalations   each ``verification.deadline.escalated`` entry is a step due at its own
                  log time and not yet logged, with the due time and whom to notify the
                  bound ladder gives; every step that fell due more than ``GRACE`` before the
                  log's last entry is logged

A source that withholds any of these bodies gets no verdict rather than a wrong one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from fusioncell.cell.entries import CellEntry
from fusioncell.hotline.rules import Rung
from fusioncell.ledger.entries import LedgerEntry, log_time, parse_log_time
from fusioncell.verification import workflow
from fusioncell.verification.actions.escalation import HORIZON
from fusioncell.verification.actions.findings import commitment
from fusioncell.verification.entries import VerificationEntry as E
from fusioncell.verification.models import SUBSTANTIATED, CaseState, Duty, Outcome, Triage
from fusioncell.verification.rules import RulesError, VerificationRules, parse_rules

GRACE = timedelta(seconds=5)
SHARED = ("party", "supervisor", "verifier")

# Who takes each step, by kind of organisation (None: the log itself).
ACTORS: dict[str, frozenset[str] | None] = {
    E.COMPLAINT_FILED: frozenset({"party", "verifier", "humanitarian"}),
    E.COMPLAINT_TRIAGED: frozenset({"supervisor"}),
    E.VERIFIER_TASKED: frozenset({"supervisor", "verifier"}),
    E.SITE_VISITED: frozenset({"verifier"}),
    E.ACCESS_REQUESTED: frozenset({"verifier"}),
    E.ACCESS_ANSWERED: frozenset({"party"}),
    E.FINDING_DRAFTED: frozenset({"supervisor", "verifier"}),
    E.COMMENT_SEALED: frozenset({"party"}),
    E.FINDING_ISSUED: frozenset({"supervisor", "verifier"}),
    E.REMEDY_REQUESTED: frozenset({"supervisor", "verifier"}),
    E.REMEDY_VERIFIED: frozenset({"supervisor", "verifier"}),
    E.CASE_CLOSED: frozenset({"supervisor"}),
    E.COMMENT_REVEALED: None,
    E.INCIDENT_RECORDED: None,
    E.DEADLINE_ESCALATED: None,
}


@dataclass
class _Request:
    party: str
    requested_at: datetime
    due_at: datetime
    answered_at: datetime | None = None
    denied_index: int | None = None
    incident: bool = False


@dataclass
class _Comment:
    index: int
    party: str
    commitment: str
    revealed: bool = False


@dataclass
class _Case:
    index: int
    id: str
    state: str
    filed_at: datetime
    triage_due_at: datetime
    ladder: tuple[Rung, ...]
    triaged_at: datetime | None = None
    tasked_at: datetime | None = None
    on_site_due_at: datetime | None = None
    visited_at: datetime | None = None
    drafted_at: datetime | None = None
    closes_at: datetime | None = None
    issued_at: datetime | None = None
    outcome: str | None = None
    requests: dict[str, _Request] = field(default_factory=dict)
    comments: dict[str, _Comment] = field(default_factory=dict)
    denials: int = 0
    logged: set[tuple[str, str, int]] = field(default_factory=set)


class CaseReplay:
    def __init__(self) -> None:
        self.complete = True
        self._problems: list[tuple[int, str]] = []
        self._rules: VerificationRules | None = None
        self._kinds: dict[str, str] = {}  # organisation slug -> kind
        self._cases: dict[str, _Case] = {}
        # (organisation, sha256) -> (size, type), as each file's stored entry says.
        self._stored: dict[tuple[str, str], tuple[int, str]] = {}
        self.last_logged_at: datetime | None = None
        self._ended = False
        self._handlers: dict[str, Callable[[int, datetime, dict[str, Any]], None]] = {
            CellEntry.ORGANISATION_CREATED.value: self._organisation,
            LedgerEntry.POLICY_ADOPTED.value: self._policy,
            E.EVIDENCE_STORED.value: self._stored_file,
            E.COMPLAINT_FILED.value: self._filed,
            **{kind.value: partial(self._step, kind.value) for kind in E if kind in workflow.FROM},
            E.COMMENT_REVEALED.value: self._revealed,
            E.INCIDENT_RECORDED.value: self._incident,
            E.DEADLINE_ESCALATED.value: self._escalated,
        }

    def observe(self, index: int, entry_type: str, logged_at: datetime, body: str | None) -> None:
        self.last_logged_at = logged_at
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
            if entry_type.startswith("verification.") and entry_type != E.EVIDENCE_STORED:
                self._check_actor(index, entry_type, value)
            handler(index, logged_at, value)
        except (KeyError, TypeError, ValueError, AttributeError, RulesError) as exc:
            if entry_type.startswith("verification."):
                reason = f"the {entry_type} body cannot be replayed: {exc!r}"
                self._problems.append((index, reason))

    def first_problem(self) -> tuple[int, str] | None:
        if not self._ended:
            self._ended = True
            self._missing()
        if not self.complete or not self._problems:
            return None
        return min(self._problems)

    # -- helpers ------------------------------------------------------------------------

    def _fault(self, index: int, reason: str) -> None:
        self._problems.append((index, reason))

    def _compare(self, index: int, what: str, stated: Any, expected: Any) -> None:
        if stated != expected:
            self._fault(index, f"the entry states {what} {stated!r}, the log gives {expected!r}")

    def _check_actor(self, index: int, entry_type: str, body: dict[str, Any]) -> None:
        allowed = ACTORS.get(entry_type)
        organisation = body.get("organisation")
        if allowed is None:
            if organisation is not None:
                self._fault(index, f"a {entry_type} entry is the log's, not {organisation}'s")
            return
        kind = self._kinds.get(str(organisation))
        if kind not in allowed:
            self._fault(index, f"{organisation} ({kind}) may not take a {entry_type} step")

    def _need_rules(self, index: int) -> VerificationRules | None:
        if self._rules is None:
            self._fault(index, "no verification rules were adopted before it")
        return self._rules

    def _case(self, index: int, body: dict[str, Any]) -> _Case | None:
        case = self._cases.get(str(body["case"]))
        if case is None:
            self._fault(index, f"no complaint filed case {body['case']}")
        return case

    def _owner(self, kind: str) -> str | None:
        found = sorted(slug for slug, k in self._kinds.items() if k == kind)
        return found[0] if found else None

    def _released(self, filer: str) -> list[str]:
        return sorted({s for s, k in self._kinds.items() if k in SHARED} | {filer})

    # -- entries --------------------------------------------------------------------------

    def _organisation(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        self._kinds[str(body["slug"])] = str(body["kind"])

    def _policy(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        section = body["policy"].get("verification")
        self._rules = parse_rules(section) if section is not None else None

    def _stored_file(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        key = (str(body["organisation"]), str(body["sha256"]))
        self._stored[key] = (int(body["size"]), str(body["type"]))

    def _filed(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        rules = self._need_rules(index)
        if rules is None:
            return
        for f in body["evidence"]:
            stored = self._stored.get((str(body["organisation"]), str(f["sha256"])))
            if stored != (int(f["size"]), str(f["type"])):
                self._fault(index, f"evidence {f['sha256']} was not stored by the filer as stated")
        against = body["against"]
        if against is not None and self._kinds.get(against) != "party":
            self._fault(index, f"a complaint is against a party, not {against!r}")
        self._compare(
            index, "the triage deadline", body["triage_due_at"], log_time(at + rules.triage)
        )
        self._compare(index, "the ladder", body["ladder"], rules.ladder_terms())
        self._compare(index, "the state", body["state"], CaseState.FILED.value)
        self._compare(
            index, "the release", body["released_to"], self._released(body["organisation"])
        )
        self._cases[str(body["case"])] = _Case(
            index=index,
            id=str(body["case"]),
            state=CaseState.FILED,
            filed_at=at,
            triage_due_at=parse_log_time(body["triage_due_at"]),
            ladder=workflow.ladder_of(body["ladder"]),
        )

    def _step(self, kind: str, index: int, at: datetime, body: dict[str, Any]) -> None:
        case = self._case(index, body)
        rules = self._need_rules(index)
        if case is None or rules is None:
            return
        if not workflow.allowed(kind, case.state):
            self._fault(index, f"a {kind} step is not open to a case that is {case.state}")
            return
        getattr(self, "_" + kind.split(".", 1)[1].replace(".", "_"))(index, at, body, case, rules)
        state = workflow.after(kind, case.state, triage=body.get("triage"))
        self._compare(index, "the state", body["state"], state)
        case.state = state

    # Each step's own checks, named after its entry type.

    def _complaint_triaged(self, i: int, at: datetime, b: dict[str, Any], c: _Case, r: Any) -> None:
        if b["triage"] not in tuple(Triage):
            self._fault(i, f"no triage {b['triage']!r}")
        if (b["triage"] == Triage.DUPLICATE) != (b["duplicate_of"] is not None):
            self._fault(i, "only a duplicate names the case it duplicates")
        c.triaged_at = at

    def _verifier_tasked(
        self, i: int, at: datetime, b: dict[str, Any], c: _Case, r: VerificationRules
    ) -> None:
        self._compare(i, "the site-visit deadline", b["on_site_due_at"], log_time(at + r.on_site))
        c.tasked_at, c.on_site_due_at = at, at + r.on_site

    def _site_visited(self, i: int, at: datetime, b: dict[str, Any], c: _Case, r: Any) -> None:
        if c.visited_at is None:
            c.visited_at = at

    def _access_requested(
        self, i: int, at: datetime, b: dict[str, Any], c: _Case, r: VerificationRules
    ) -> None:
        if self._kinds.get(b["party"]) != "party":
            self._fault(i, f"access is asked of a party, not {b['party']!r}")
        self._compare(i, "the answer's deadline", b["due_at"], log_time(at + r.access_answer))
        c.requests[str(b["request"])] = _Request(b["party"], at, at + r.access_answer)

    def _access_answered(self, i: int, at: datetime, b: dict[str, Any], c: _Case, r: Any) -> None:
        request = c.requests.get(str(b["request"]))
        if request is None or request.answered_at is not None:
            self._fault(i, "an answer to no open access request of the case")
            return
        if b["organisation"] != request.party:
            self._fault(i, f"{b['organisation']} answers a request made to {request.party}")
        request.answered_at = at
        if b["answer"] == "denied":
            request.denied_index = i

    def _finding_drafted(
        self, i: int, at: datetime, b: dict[str, Any], c: _Case, r: VerificationRules
    ) -> None:
        self._check_outcome(i, b)
        self._compare(i, "the window's opening", b["comments_open_at"], log_time(at))
        self._compare(
            i, "the window's close", b["comments_close_at"], log_time(at + r.comment_window)
        )
        c.drafted_at, c.closes_at = at, at + r.comment_window

    def _comment_sealed(self, i: int, at: datetime, b: dict[str, Any], c: _Case, r: Any) -> None:
        assert c.closes_at is not None
        if at >= c.closes_at:
            self._fault(i, "a comment after the window closed")
        if any(x.party == b["organisation"] for x in c.comments.values()):
            self._fault(i, f"{b['organisation']} commented twice on one draft")
        c.comments[str(b["comment"])] = _Comment(i, b["organisation"], str(b["commitment"]))

    def _finding_issued(self, i: int, at: datetime, b: dict[str, Any], c: _Case, r: Any) -> None:
        assert c.closes_at is not None
        self._check_outcome(i, b)
        if at < c.closes_at:
            self._fault(i, "a finding issued while the comment window was open")
        if any(not x.revealed for x in c.comments.values()):
            self._fault(i, "a finding issued before every comment was revealed")
        if b["outcome"] == Outcome.INCONCLUSIVE_ACCESS_DENIED and not c.denials:
            self._fault(i, "a finding rests on a denial of access the case does not hold")
        c.issued_at, c.outcome = at, b["outcome"]

    def _remedy_requested(self, i: int, at: datetime, b: dict[str, Any], c: _Case, r: Any) -> None:
        if c.outcome not in SUBSTANTIATED:
            self._fault(i, "a remedy on a finding that is not substantiated")

    def _remedy_verified(self, i: int, at: datetime, b: dict[str, Any], c: _Case, r: Any) -> None:
        return

    def _case_closed(self, i: int, at: datetime, b: dict[str, Any], c: _Case, r: Any) -> None:
        return

    def _check_outcome(self, i: int, b: dict[str, Any]) -> None:
        if b["outcome"] not in tuple(Outcome):
            self._fault(i, f"no outcome {b['outcome']!r}")
        attributed = b["outcome"] == Outcome.SUBSTANTIATED_ATTRIBUTED
        if attributed != (b["party"] is not None) or (
            attributed and self._kinds.get(b["party"]) != "party"
        ):
            self._fault(i, "only a substantiated and attributed finding names a party")

    def _revealed(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        case = self._case(index, body)
        if case is None:
            return
        comment = case.comments.get(str(body["comment"]))
        if comment is None or comment.revealed:
            self._fault(index, "a reveal of no sealed comment")
            return
        assert case.closes_at is not None
        if at < case.closes_at:
            self._fault(index, "a comment revealed before its window closed")
        if commitment(str(body["nonce"]), str(body["text"])) != comment.commitment:
            self._fault(index, "the revealed comment does not hash to its sealed commitment")
        self._compare(index, "the sealed entry", body["sealed_index"], comment.index)
        comment.revealed = True

    def _incident(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        case = self._case(index, body)
        if case is None:
            return
        request = case.requests.get(str(body["request"]))
        if (
            request is None
            or request.denied_index is None
            or request.incident
            or request.party != body["party"]
        ):
            self._fault(index, "an incident of access denied with no denial by that party")
            return
        request.incident = True
        case.denials += 1

    def _deadlines(self, case: _Case) -> list[workflow.Deadline]:
        found = []
        supervisor, verifier = self._owner("supervisor"), self._owner("verifier")
        if supervisor is not None:
            found.append(
                workflow.Deadline(
                    Duty.TRIAGE,
                    case.id,
                    supervisor,
                    case.filed_at,
                    case.triage_due_at,
                    case.triaged_at,
                    None,
                )
            )
        if verifier is not None and case.tasked_at and case.on_site_due_at:
            found.append(
                workflow.Deadline(
                    Duty.SITE_VISIT,
                    case.id,
                    verifier,
                    case.tasked_at,
                    case.on_site_due_at,
                    case.visited_at,
                    case.drafted_at,
                )
            )
        for ident, r in case.requests.items():
            found.append(
                workflow.Deadline(
                    Duty.ACCESS_ANSWER,
                    ident,
                    r.party,
                    r.requested_at,
                    r.due_at,
                    r.answered_at,
                    case.issued_at,
                )
            )
        return found

    def _escalated(self, index: int, at: datetime, body: dict[str, Any]) -> None:
        case = self._case(index, body)
        if case is None:
            return
        key = (str(body["duty"]), str(body["subject"]), int(body["step"]))
        deadline = next((d for d in self._deadlines(case) if (d.duty, d.subject) == key[:2]), None)
        steps = workflow.steps_due(deadline, case.ladder, now=at) if deadline else []
        expected = next((s for s in steps if s.step == key[2]), None)
        if deadline is None or expected is None or key in case.logged:
            self._fault(index, f"step {key[2]} of the {key[0]} deadline was not due then")
            return
        self._compare(
            index,
            "the escalation",
            (body["owed_by"], body["due_at"], list(body["notify"])),
            (deadline.organisation, log_time(expected.due_at), list(expected.notify)),
        )
        case.logged.add(key)

    def _missing(self) -> None:
        end = self.last_logged_at
        if end is None:
            return
        for case in self._cases.values():
            for request in case.requests.values():
                if request.denied_index is not None and not request.incident:
                    self._fault(request.denied_index, "a denial of access recorded no incident")
            for comment in case.comments.values():
                if not comment.revealed and case.closes_at and case.closes_at < end - GRACE:
                    self._fault(comment.index, "a comment whose window closed was never revealed")
            if case.filed_at <= end - HORIZON:
                continue
            for d in self._deadlines(case):
                for s in workflow.steps_due(d, case.ladder, now=end - GRACE):
                    if (d.duty, d.subject, s.step) not in case.logged:
                        self._fault(
                            case.index,
                            f"step {s.step} of the {d.duty} deadline ({d.organisation}) fell "
                            f"due at {log_time(s.due_at)} and was never logged",
                        )
