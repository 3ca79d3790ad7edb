"""The demo's disputes, mirrored: every kind of complaint, step and finding happens for both
parties, so the disputes pages show the whole workflow the moment the demo starts.

A comment window lasts 72 hours, so the story begins six days before the demo's other
stories (the cell is set up then) and ends before they start:

- a UAV crossing of each line, seen by the verifier: substantiated, unattributed;
- armed personnel in the area of separation alleged against BRAVO by ALPHA, and new
  earthworks alleged against ALPHA by BRAVO: both substantiated and attributed, each with a
  remedy requested and verified;
- artillery and a SAM unit alleged against each side: all four not substantiated;
- an access request denied by each side: the finding is inconclusive because of it (each
  denial is an incident attributed to the denying party, R12);

and, still open when the demo starts:

- a draft finding on mortar fire alleged against each side, its comment window open, both
  parties' comments sealed (each party reads its own; the other's only as a hash);
- a case against each side under investigation, the verifier's access request waiting for
  the party's answer (counted down in that party's header strip);
- a complaint by each party and one by HUM-1 waiting in the supervisor's triage queue.

Every step has a stable id, so loading the story again writes nothing.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import console_of_cell, get_member_by_username, viewer_of
from fusioncell.scenario.demo import stable_id
from fusioncell.verification.actions.complaints import do_file_complaint, do_store_evidence
from fusioncell.verification.actions.findings import (
    do_close_case,
    do_comment_on_finding,
    do_draft_finding,
    do_issue_finding,
    do_request_remedy,
    do_reveal_due_comments,
    do_verify_remedy,
)
from fusioncell.verification.actions.investigation import (
    do_answer_access,
    do_record_site_visit,
    do_request_access,
    do_task_verifier,
    do_triage_complaint,
)
from fusioncell.verification.models import Case

# How long before the demo's other stories this one begins: a comment window (72 h), the
# days around it, and a margin.
STORY_LEAD = timedelta(days=6)
OTHER = {"ALPHA": "BRAVO", "BRAVO": "ALPHA"}
LIAISON = {"ALPHA": "alpha.liaison", "BRAVO": "bravo.liaison"}

# Places (lon, lat): each side's ground near its own line, and the area of separation.
IN_SEPARATION = (35.84, 33.15)
NEAR_LINE = {"ALPHA": (35.79, 33.10), "BRAVO": (35.90, 33.12)}
BAND_10_20 = {"ALPHA": (35.70, 33.05), "BRAVO": (36.02, 33.10)}
BAND_20_25 = {"ALPHA": (35.565, 33.20), "BRAVO": (36.08, 33.30)}


@dataclass(frozen=True)
class Complaint:
    """A complaint as filed: by whom, against whom, what, where and under which rule."""

    name: str
    filer: str
    against: str | None
    rule: str
    allegation: str
    where: tuple[float, float]


def _viewer(db: Session, username: str) -> Viewer:
    console = console_of_cell(db)
    if console is None:
        raise LookupError("the demo cell is not set up")
    viewer = viewer_of(get_member_by_username(db, console, username))
    db.commit()
    return viewer


def _point(where: tuple[float, float]) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(where)}


def photograph(sky: tuple[int, int, int], ground: tuple[int, int, int]) -> bytes:
    """A small PNG standing in for a photograph: sky, ground, and a dark shape on the line
    between them (the demo ships no real imagery)."""
    width, height = 160, 96
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            if 44 <= y < 58 and 62 <= x < 98:
                row += bytes((40, 44, 36))
            else:
                row += bytes(sky if y < 52 else ground)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def load_verification_story(db: Session, *, start: datetime, end: datetime) -> None:
    """Tell the story from ``start``; its last step comes before ``end`` (the moment the
    demo's other stories begin), which must be at least ``STORY_LEAD`` later."""
    if end - start < STORY_LEAD:
        raise ValueError("the disputes story needs six days before the other stories")
    at = start

    def when(moment: datetime | None = None, *, step: timedelta = timedelta(seconds=2)) -> datetime:
        nonlocal at
        at = max(at + step, moment) if moment is not None else at + step
        return at

    def sid(name: str) -> Any:
        return stable_id("verification-story", name)

    member: Callable[[str], Viewer] = lambda username: _viewer(db, username)  # noqa: E731
    chair, verifier = member("supervisor.chair"), member("verifier.lead")
    liaison = {party: member(username) for party, username in LIAISON.items()}

    def evidence(filer: Viewer, name: str, content: bytes, media_type: str) -> str:
        return do_store_evidence(db, filer, content, media_type=media_type, now=when()).sha256

    def file(complaint: Complaint, seen: datetime, files: list[str]) -> Case:
        filer = member(complaint.filer)
        return do_file_complaint(
            db,
            filer,
            case_id=sid(f"{complaint.name}-case"),
            allegation=complaint.allegation,
            against=complaint.against,
            rule=complaint.rule,
            location=_point(complaint.where),
            occurred_at=seen,
            evidence=files,
            now=when(),
        )

    def investigate(case: Case, name: str, note: str) -> None:
        do_triage_complaint(
            db,
            chair,
            case.id,
            step_id=sid(f"{name}-triage"),
            triage="admissible",
            reasons="Within the rules, with a place, a time and evidence.",
            now=when(step=timedelta(minutes=30)),
        )
        do_task_verifier(
            db,
            chair,
            case.id,
            step_id=sid(f"{name}-task"),
            verifier=verifier.member_id,
            now=when(step=timedelta(minutes=5)),
        )
        visited = when(step=timedelta(hours=1))
        do_record_site_visit(
            db,
            verifier,
            case.id,
            step_id=sid(f"{name}-visit"),
            visited_at=visited,
            note=note,
            now=when(),
        )

    def deny_access(case: Case, name: str, party: str, place: str) -> None:
        request = do_request_access(
            db,
            verifier,
            case.id,
            step_id=sid(f"{name}-access"),
            party=party,
            place=place,
            now=when(),
        )
        do_answer_access(
            db,
            liaison[party],
            case.id,
            request.id,
            step_id=sid(f"{name}-access-answer"),
            answer="denied",
            note="A closed military area; no visits without the commander's approval.",
            now=when(step=timedelta(hours=1)),
        )

    def draft(case: Case, name: str, outcome: str, party: str | None, summary: str) -> None:
        do_draft_finding(
            db,
            verifier,
            case.id,
            step_id=sid(f"{name}-draft"),
            outcome=outcome,
            party=party,
            summary=summary,
            now=when(step=timedelta(minutes=15)),
        )

    def comment(case: Case, name: str, party: str, text: str) -> None:
        do_comment_on_finding(
            db,
            liaison[party],
            case.id,
            comment_id=sid(f"{name}-comment-{party}"),
            comment=text,
            now=when(step=timedelta(minutes=10)),
        )

    # Ten cases that run their whole course: filed, investigated and drafted on the first
    # day, commented on within the window, decided once every window has closed.
    seen = start - timedelta(hours=6)
    finished: list[tuple[Case, str, str, str | None, str]] = []

    for party, line in (("ALPHA", "A"), ("BRAVO", "B")):
        complaint = Complaint(
            name=f"uav-{party}",
            filer="verifier.lead",
            against=None,
            rule="R5",
            allegation=(
                f"A small UAV of unknown origin crossed line {line} at low altitude, heading "
                f"into {party}'s side, and returned after 14 minutes."
            ),
            where=NEAR_LINE[party],
        )
        log = evidence(
            verifier,
            complaint.name,
            f"Sensor log, post {line}-3: radar track 0417 crossed line {line} at 05:52 and "
            f"recrossed at 06:06; no transponder.".encode(),
            "text/plain",
        )
        case = file(complaint, seen, [log])
        investigate(case, complaint.name, "The radar track is genuine; the launch site is unknown.")
        summary = f"A UAV crossed line {line}; who flew it could not be established."
        draft(case, complaint.name, "substantiated_unattributed", None, summary)
        finished.append((case, complaint.name, "substantiated_unattributed", None, summary))

    for party, allegation, note in (
        (
            "BRAVO",
            "About forty armed personnel of BRAVO with two technicals inside the area of "
            "separation, 1.5 km west of line B.",
            "Fresh vehicle tracks and an occupied position at the grid given.",
        ),
        (
            "ALPHA",
            "New earthworks by ALPHA: a berm and two firing positions dug 300 m from line A, "
            "inside the 0-10 km band.",
            "A berm about 400 m long and two prepared positions, dug within the last week.",
        ),
    ):
        complaint = Complaint(
            name=f"attributed-{party}",
            filer=LIAISON[OTHER[party]],
            against=party,
            rule="R1" if party == "BRAVO" else "R2",
            allegation=allegation,
            where=IN_SEPARATION if party == "BRAVO" else NEAR_LINE["ALPHA"],
        )
        filer = liaison[OTHER[party]]
        picture = evidence(
            filer,
            complaint.name,
            photograph((150, 190, 225), (196, 172, 120) if party == "BRAVO" else (150, 128, 96)),
            "image/png",
        )
        report = evidence(
            filer,
            complaint.name,
            f"Observation report, {OTHER[party]} post 7: {allegation}".encode(),
            "text/plain",
        )
        case = file(complaint, seen, [picture, report])
        investigate(case, complaint.name, note)
        summary = f"{party} is responsible: {note}"
        draft(case, complaint.name, "substantiated_attributed", party, summary)
        finished.append((case, complaint.name, "substantiated_attributed", party, summary))

    for weapon, rule, place in (
        ("artillery", "R3", BAND_10_20),
        ("sam", "R4", BAND_20_25),
    ):
        for party in ("ALPHA", "BRAVO"):
            what = (
                "A battery of long-range artillery (over 20 km)"
                if weapon == "artillery"
                else "A surface-to-air missile unit"
            )
            complaint = Complaint(
                name=f"{weapon}-{party}",
                filer=LIAISON[OTHER[party]],
                against=party,
                rule=rule,
                allegation=f"{what} of {party} seen moving into its {rule} band.",
                where=place[party],
            )
            case = file(complaint, seen, [])
            investigate(case, complaint.name, "Nothing at the place given; old tracks only.")
            summary = "No such holding was found at or near the place given."
            draft(case, complaint.name, "not_substantiated", None, summary)
            finished.append((case, complaint.name, "not_substantiated", None, summary))

    for party in ("ALPHA", "BRAVO"):
        complaint = Complaint(
            name=f"denied-{party}",
            filer=LIAISON[OTHER[party]],
            against=party,
            rule="R2",
            allegation=f"Tanks of {party} beyond its limit, moved at night into its 0-10 km band.",
            where=NEAR_LINE[party],
        )
        case = file(complaint, seen, [])
        investigate(case, complaint.name, "The road to the position is closed by a checkpoint.")
        deny_access(case, complaint.name, party, "The position behind the checkpoint.")
        summary = f"The verifier could not see the position: {party} denied access."
        draft(case, complaint.name, "inconclusive_access_denied", None, summary)
        finished.append((case, complaint.name, "inconclusive_access_denied", None, summary))

    for case, name, _outcome, attributed, _summary in finished:
        for commenter in ("ALPHA", "BRAVO"):
            if attributed == commenter:
                text = f"{commenter} disputes the finding; our own patrol saw nothing."
            elif attributed is not None:
                text = f"{commenter} agrees and asks for the remedy without delay."
            else:
                text = f"{commenter} takes note and has nothing to add."
            comment(case, name, commenter, text)

    # The last window closes 72 hours after the last draft: reveal, then decide each case.
    last_close = max(c.comments_close_at for c, *_ in finished if c.comments_close_at)
    do_reveal_due_comments(db, now=when(last_close + timedelta(minutes=5)))
    for case, name, outcome, attributed, summary in finished:
        do_issue_finding(
            db,
            chair,
            case.id,
            step_id=sid(f"{name}-finding"),
            outcome=outcome,
            party=attributed,
            summary=summary,
            now=when(step=timedelta(minutes=10)),
        )
        if attributed is None:
            do_close_case(db, chair, case.id, step_id=sid(f"{name}-close"), now=when())
            continue
        do_request_remedy(
            db,
            chair,
            case.id,
            step_id=sid(f"{name}-remedy"),
            remedy="Withdraw from the place named and restore it within seven days.",
            due_at=at + timedelta(days=7),
            now=when(),
        )
    for case, name, _outcome, attributed, _summary in finished:
        if attributed is not None:
            do_verify_remedy(
                db,
                verifier,
                case.id,
                step_id=sid(f"{name}-remedy-verified"),
                note="Seen on a second visit: the place is empty and restored.",
                now=when(step=timedelta(hours=1)),
            )

    if at >= end - timedelta(hours=30):
        raise ValueError("the disputes story's decided cases ran into its open ones")
    # Still open when the demo starts: a comment window on each side's mortar complaint.
    when(end - timedelta(hours=30))
    for party in ("ALPHA", "BRAVO"):
        complaint = Complaint(
            name=f"mortar-{party}",
            filer=LIAISON[OTHER[party]],
            against=party,
            rule="R1",
            allegation=f"Mortar rounds fired from {party}'s side fell 800 m short of post 4.",
            where=NEAR_LINE[OTHER[party]],
        )
        crater = evidence(
            liaison[OTHER[party]],
            complaint.name,
            photograph((170, 180, 190), (120, 110, 96) if party == "ALPHA" else (104, 96, 84)),
            "image/png",
        )
        case = file(complaint, end - timedelta(hours=36), [crater])
        investigate(case, complaint.name, "Two craters; fragments of 81 mm rounds.")
        draft(
            case,
            complaint.name,
            "substantiated_attributed",
            party,
            f"The rounds came from {party}'s side, from a position 3 km behind its line.",
        )
        for commenter in ("ALPHA", "BRAVO"):
            text = (
                f"{commenter} rejects the attribution: the crater analysis is one-sided."
                if commenter == party
                else f"{commenter} accepts the draft and asks for a remedy."
            )
            comment(case, complaint.name, commenter, text)

    # Under investigation: the verifier asks each party for access; the answer is due.
    when(end - timedelta(hours=16))
    for party in ("ALPHA", "BRAVO"):
        complaint = Complaint(
            name=f"checkpoint-{party}",
            filer=LIAISON[OTHER[party]],
            against=party,
            rule="R1",
            allegation=f"A new checkpoint of {party} on the road inside the area of separation.",
            where=IN_SEPARATION,
        )
        case = file(complaint, end - timedelta(hours=18), [])
        investigate(case, complaint.name, "A barrier at the place; its guards left on arrival.")
        do_request_access(
            db,
            verifier,
            case.id,
            step_id=sid(f"{complaint.name}-access"),
            party=party,
            place="The compound beside the barrier.",
            now=when(step=timedelta(hours=1)),
        )

    # Waiting for triage: one complaint by each party and one by HUM-1.
    when(end - timedelta(hours=1))
    for party in ("ALPHA", "BRAVO"):
        complaint = Complaint(
            name=f"triage-{party}",
            filer=LIAISON[OTHER[party]],
            against=party,
            rule="R5",
            allegation=f"A patrol of {party} crossed the line for an hour at dawn.",
            where=NEAR_LINE[OTHER[party]],
        )
        file(complaint, end - timedelta(hours=3), [])
    convoy = Complaint(
        name="triage-hum",
        filer="hum1.coordinator",
        against=None,
        rule="R12",
        allegation="The convoy to Suwayda was held for six hours at a checkpoint; who held it "
        "is not clear.",
        where=(36.30, 32.66),
    )
    file(convoy, end - timedelta(hours=2), [])
    if at >= end:
        raise ValueError("the disputes story ran past the other stories' start")
    db.commit()
