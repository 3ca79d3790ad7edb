"""The demo's diplomatic track, mirrored: the agreement that holds commitments C1-C5 of the
scenario, signed by both parties and the supervisor; one milestone of each commitment
assessed after both parties' sealed comments, with one met and one breached for each side;
and a meeting requested by each party through the hotline, whose minutes both parties agree.

A comment window lasts 72 hours, so the story is told in the days after the cell is set up,
before the disputes' story:

- day 0: the supervisor proposes the agreement (dated 2026-01-06, C1's date): C1 the freeze,
  owed by each party; C2 ALPHA's withdrawal in three phases, each with the positions to
  vacate; C3 BRAVO keeps sector S clear of tanks, artillery and missiles; C4 each party lets
  humanitarian convoys reach the listed communities; C5 each party's part of the power
  project. ALPHA's and BRAVO's liaison officers and the chair sign its content hash;
- day 1: the first milestone of each commitment falls due; the supervisor asks for
  verification of each; both parties comment on each, sealed until the window closes;
- day 4: the window has closed; the verifier assesses each with the evidence cited (and, where
  a compliance rule is linked, the de-escalation engine's result at the due date beside it):
  C1 met for each party, C2 phase 1 breached by ALPHA, C3 breached by BRAVO, C4 partially met
  for each, C5 met for each; later phases stay open, due in the weeks ahead;
- each party requests a meeting through the hotline (the other party acknowledges the
  message); the chair drafts the minutes, the other party comments, both sign the same text.

Every step has a stable id, so loading the story again writes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import console_of_cell, get_member_by_username, viewer_of
from fusioncell.diplomacy.actions.agreements import do_propose_agreement, do_sign_version
from fusioncell.diplomacy.actions.assessment import (
    do_assess_milestone,
    do_comment_on_milestone,
    do_request_verification,
)
from fusioncell.diplomacy.actions.meetings import (
    do_comment_on_minutes,
    do_draft_minutes,
    do_request_meeting,
    do_sign_minutes,
)
from fusioncell.diplomacy.content import milestone_id
from fusioncell.hotline.actions.messages import (
    do_acknowledge_message,
    do_mark_delivered,
    do_send_message,
)
from fusioncell.hotline.models import ChannelKind
from fusioncell.hotline.queries import list_channels
from fusioncell.scenario.demo import stable_id

# How long the story takes: four days and some hours, from the cell's set-up.
STORY_SPAN = timedelta(days=4, hours=6)
DAY = timedelta(days=1)
TICK = timedelta(seconds=2)
OTHER = {"ALPHA": "BRAVO", "BRAVO": "ALPHA"}
LIAISON = {"ALPHA": "alpha.liaison", "BRAVO": "bravo.liaison"}
DUTY = {"ALPHA": "alpha.duty", "BRAVO": "bravo.duty"}
SIGNERS = ("alpha.liaison", "bravo.liaison", "supervisor.chair")

# (commitment, milestone, debtor) assessed, and how: one met and one breached for each side.
ASSESSED: tuple[tuple[str, str, str, str, str], ...] = (
    ("C1-ALPHA", "C1-ALPHA.1", "ALPHA", "met", "ALPHA's declared holdings match its baseline."),
    ("C1-BRAVO", "C1-BRAVO.1", "BRAVO", "met", "BRAVO's declared holdings match its baseline."),
    (
        "C2",
        "C2.1",
        "ALPHA",
        "breached",
        "Tanks were seen at the phase 1 positions after the due date.",
    ),
    (
        "C3",
        "C3.1",
        "BRAVO",
        "breached",
        "Artillery of BRAVO was seen in sector S after the due date.",
    ),
    (
        "C4-ALPHA",
        "C4-ALPHA.1",
        "ALPHA",
        "partially_met",
        "Two convoys of three passed; one waited a day.",
    ),
    (
        "C4-BRAVO",
        "C4-BRAVO.1",
        "BRAVO",
        "partially_met",
        "Two convoys of three passed; one waited a day.",
    ),
    ("C5-ALPHA", "C5-ALPHA.1", "ALPHA", "met", "The plant's contracts are signed."),
    ("C5-BRAVO", "C5-BRAVO.1", "BRAVO", "met", "The substation's contracts are signed."),
)


def _viewer(db: Session, username: str) -> Viewer:
    console = console_of_cell(db)
    if console is None:
        raise LookupError("the demo cell is not set up")
    viewer = viewer_of(get_member_by_username(db, console, username))
    db.commit()
    return viewer


def _at(moment: datetime) -> str:
    return moment.isoformat()


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def _milestone(
    key: str,
    title: str,
    due: datetime,
    *,
    rule: str | None = None,
    zone: str | None = None,
    geometry: dict[str, Any] | None = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "key": key,
        "title": title,
        "due_at": _at(due),
        "verification": {"rule": rule, "zone": zone},
    }
    if geometry is not None:
        found["geometry"] = geometry
    return found


def commitments(start: datetime) -> list[dict[str, Any]]:
    """C1-C5 of the scenario, each party's share a commitment of its own."""
    first, ends = start + DAY, start + 365 * DAY

    def each(
        key: str, obligation: str, milestones: Callable[[str], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        return [
            {
                "key": f"{key}-{party}",
                "debtor": party,
                "beneficiaries": [OTHER[party]],
                "obligation": obligation.format(party=party),
                "ends_at": _at(ends),
                "milestones": milestones(party),
            }
            for party in ("ALPHA", "BRAVO")
        ]

    found = each(
        "C1",
        "{party} freezes its deployments at the lines as declared on 2026-01-06.",
        lambda party: [
            _milestone(f"C1-{party}.1", "Holdings at or under the baseline", first, rule="R6"),
            _milestone(
                f"C1-{party}.2",
                "Holdings at or under the baseline, second review",
                start + 30 * DAY,
                rule="R6",
            ),
        ],
    )
    found.append(
        {
            "key": "C2",
            "debtor": "ALPHA",
            "beneficiaries": ["BRAVO"],
            "obligation": "ALPHA withdraws from its positions near line A in three phases.",
            "ends_at": _at(ends),
            "milestones": [
                _milestone(
                    f"C2.{n}",
                    f"Phase {n}: positions vacated",
                    due,
                    rule="R2",
                    zone="limitation-alpha-0-10",
                    geometry=_point(35.75 - 0.02 * n, 33.12),
                )
                for n, due in ((1, first), (2, start + 20 * DAY), (3, start + 40 * DAY))
            ],
        }
    )
    found.append(
        {
            "key": "C3",
            "debtor": "BRAVO",
            "beneficiaries": ["ALPHA"],
            "obligation": "BRAVO keeps sector S clear of tanks, artillery and missile systems.",
            "ends_at": _at(ends),
            "milestones": [
                _milestone("C3.1", "Sector S clear", first, rule="C3", zone="sector-s"),
                _milestone(
                    "C3.2",
                    "Sector S clear, second review",
                    start + 30 * DAY,
                    rule="C3",
                    zone="sector-s",
                ),
            ],
        }
    )
    found += each(
        "C4",
        "{party} lets humanitarian convoys reach the listed communities, Suwayda among them.",
        lambda party: [
            _milestone(f"C4-{party}.1", "Convoys of the first month passed", first),
            _milestone(f"C4-{party}.2", "Convoys of the second month passed", start + 35 * DAY),
        ],
    )
    found += each(
        "C5",
        "{party} carries out its part of the power project (some 800 MW: a placeholder figure).",
        lambda party: [
            _milestone(f"C5-{party}.1", "Contracts signed", first),
            _milestone(f"C5-{party}.2", "First unit commissioned", start + 36 * DAY),
        ],
    )
    return found


def load_diplomacy_story(db: Session, *, start: datetime) -> None:
    """Tell the story from ``start`` (the cell set up just before); it ends ``STORY_SPAN``
    later at most."""
    at = start

    def when(moment: datetime | None = None) -> datetime:
        nonlocal at
        at = max(at + TICK, moment) if moment is not None else at + TICK
        return at

    def sid(name: str) -> Any:
        return stable_id("diplomacy-story", name)

    member = {u: _viewer(db, u) for u in (*SIGNERS, "verifier.lead", *DUTY.values())}
    chair, verifier = member["supervisor.chair"], member["verifier.lead"]
    agreement_id = sid("agreement")
    version = do_propose_agreement(
        db,
        chair,
        agreement_id=agreement_id,
        title="Agreement on disengagement and cooperation",
        text=(
            "The parties freeze their deployments at the lines (C1); ALPHA withdraws from its "
            "positions near line A in three phases (C2); BRAVO keeps sector S clear of heavy "
            "weapons (C3); both let humanitarian convoys reach the listed communities (C4); "
            "both carry out their parts of the power project (C5). The supervisor assesses "
            "each milestone on its due date, after the parties' comments."
        ),
        parties=["ALPHA", "BRAVO"],
        dated="2026-01-06",
        commitments=commitments(start),
        now=when(),
    )
    for username in SIGNERS:
        do_sign_version(
            db, member[username], version.id, content_hash=version.content_hash, now=when()
        )

    # Day 1: the first milestones fall due; verification asked; both parties comment.
    when(start + DAY + timedelta(hours=1))
    for commitment, key, debtor, _outcome, _reasons in ASSESSED:
        found = milestone_id(agreement_id, commitment, key)
        do_request_verification(db, chair, found, step_id=sid(f"{key}-requested"), now=when())
        for party in ("ALPHA", "BRAVO"):
            said = (
                f"{party} met its obligation; our report is attached."
                if party == debtor
                else f"{party} disputes that {debtor} met this milestone."
            )
            do_comment_on_milestone(
                db,
                member[LIAISON[party]],
                found,
                comment_id=sid(f"{key}-comment-{party}"),
                comment=said,
                now=when(),
            )

    # Day 4: the windows have closed; the verifier assesses each, citing its report.
    when(start + 4 * DAY + timedelta(hours=2))
    for commitment, key, _debtor, outcome, reasons in ASSESSED:
        report = hashlib.sha256(f"Verifier's report on {key}: {reasons}".encode()).hexdigest()
        do_assess_milestone(
            db,
            verifier,
            milestone_id(agreement_id, commitment, key),
            step_id=sid(f"{key}-assessed"),
            outcome=outcome,
            reasons=reasons,
            evidence=[{"kind": "document", "id": report}],
            now=when(),
        )

    # A meeting requested by each party through the hotline; agreed minutes.
    for party in ("ALPHA", "BRAVO"):
        requester, other = member[LIAISON[party]], member[LIAISON[OTHER[party]]]
        [channel] = [c for c in list_channels(db, requester) if c.kind == ChannelKind.CELL]
        title = f"Review of the first milestones, requested by {party}"
        message = do_send_message(
            db,
            requester,
            message_id=sid(f"meeting-{party}-message"),
            channel_id=channel.id,
            precedence="ROUTINE",
            text=f"Meeting requested: {title}.",
            now=when(),
        )
        duty = member[DUTY[OTHER[party]]]
        do_mark_delivered(db, duty, message_ids=[message.id], now=when())
        do_acknowledge_message(
            db,
            duty,
            message_id=message.id,
            ack_id=sid(f"meeting-{party}-ack"),
            checkpoint_size=None,
            now=when(),
        )
        meeting = do_request_meeting(
            db,
            requester,
            meeting_id=sid(f"meeting-{party}"),
            title=title,
            agenda=["The assessments of C1-C5", "The next phase of the withdrawal"],
            participants=["ALPHA", "BRAVO"],
            starts_at=at + timedelta(hours=2),
            message_id=message.id,
            agreement_id=agreement_id,
            now=when(),
        )
        drafted = do_draft_minutes(
            db,
            chair,
            meeting.id,
            step_id=sid(f"meeting-{party}-minutes"),
            text=(
                "The parties reviewed the assessments of the first milestones. ALPHA and BRAVO "
                "each stated their objections; the supervisor maintained the assessments."
            ),
            decisions=[
                {
                    "key": "D1",
                    "text": "The parties meet again after phase 2 falls due.",
                    "commitment": None,
                }
            ],
            now=when(),
        )
        do_comment_on_minutes(
            db,
            other,
            meeting.id,
            comment_id=sid(f"meeting-{party}-comment"),
            comment="Agreed as drafted.",
            now=when(),
        )
        assert drafted.minutes_hash is not None
        for officer in (requester, other):
            do_sign_minutes(db, officer, meeting.id, minutes_hash=drafted.minutes_hash, now=when())
    if at > start + STORY_SPAN:
        raise ValueError("the diplomatic story ran past its span")
    db.commit()
