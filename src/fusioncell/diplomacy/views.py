"""Pages of the diplomatic track: the agreements with who signed which hash
(``/agreements``), an agreement with its commitments, milestones and their assessment
(``/agreements/{id}``), the meetings and their minutes (``/meetings``, ``/meetings/{id}``)
and the dashboard with its CSV and signed, printable HTML exports
(``/agreements/dashboard``).

Every read goes through the track's queries (``page_data``), every change is the action the
API calls; the forms work without script (a plain POST, then a redirect; a refusal of the
input is shown on the page, translated, with nothing written). The pages are live through
the page's one stream: ``diplomacy.js`` fetches the sections again on the track's frames.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from fusioncell.cell.policy import Viewer
from fusioncell.diplomacy import dashboard as exports
from fusioncell.diplomacy import page_data
from fusioncell.diplomacy.actions.agreements import do_sign_version
from fusioncell.diplomacy.actions.assessment import (
    do_assess_milestone,
    do_comment_on_milestone,
    do_request_verification,
)
from fusioncell.diplomacy.actions.meetings import (
    do_adopt_decision,
    do_comment_on_minutes,
    do_draft_minutes,
    do_sign_minutes,
)
from fusioncell.diplomacy.models import Milestone
from fusioncell.diplomacy.policy import may_read, require
from fusioncell.diplomacy.queries import agreements as q
from fusioncell.diplomacy.queries import meetings as mq
from fusioncell.errors import FusioncellError, InvalidInput, NotFound
from fusioncell.text import N_
from fusioncell.web.deps import AppClock, CurrentViewer, Db
from fusioncell.web.pages import page
from fusioncell.web.templating import render

router = APIRouter(include_in_schema=False)
SECTIONS = "diplomacy-sections"
_READ = N_("You do not read the diplomatic track.")
_BAD_LINE = N_("Give each item on its own line: its kind (or key), then the rest.")


def _text(data: FormData, name: str) -> str:
    value = data.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _form_id(data: FormData) -> uuid.UUID:
    try:
        return uuid.UUID(_text(data, "id"))
    except ValueError:
        return uuid.uuid4()


def _pairs(value: str, field: str, first: str, second: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for line in value.splitlines():
        parts = line.strip().split(None, 1)
        if not parts:
            continue
        if len(parts) != 2:
            raise InvalidInput(_BAD_LINE, field=field)
        found.append({first: parts[0], second: parts[1].strip()})
    return found


def _refused(problem: FusioncellError) -> bool:
    """Refusals of the member and faults go to the error page; bad input is shown."""
    return problem.status >= 500 or problem.status in (401, 403, 404)


def _sectioned(request: Request, viewer: Viewer, full: str, part: str, **context: Any) -> Response:
    headers = {"Vary": "HX-Target"}
    if request.headers.get("hx-target") == SECTIONS and context.get("error") is None:
        return page(request, viewer, part, headers=headers, sections_id=SECTIONS, **context)
    status = context.pop("status_code", 200)
    return page(
        request,
        viewer,
        full,
        status_code=status,
        headers=headers,
        sections_id=SECTIONS,
        script_labels=page_data.labels_json(viewer.language, *page_data.SCRIPT_LABELS),
        **context,
    )


# -- agreements ------------------------------------------------------------------------------


@router.get("/agreements")
def agreements(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    require(viewer, may_read(viewer), _READ)
    context = page_data.list_context(db, viewer, now=clock.now())
    return _sectioned(
        request, viewer, "diplomacy/list.html", "diplomacy/list_sections.html", **context
    )


@router.get("/agreements/dashboard")
def dashboard(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    require(viewer, may_read(viewer), _READ)
    found = page_data.dashboard(db, viewer, now=clock.now())
    return _sectioned(
        request,
        viewer,
        "diplomacy/dashboard.html",
        "diplomacy/dashboard_sections.html",
        board=found,
        now=found.now,
        figure_labels=page_data.FIGURE_LABELS,
        figures=page_data.FIGURES,
        status_labels=page_data.STATUS_LABELS,
        outcome_labels=page_data.OUTCOME_LABELS,
    )


@router.get("/agreements/dashboard.csv")
def dashboard_csv(viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    require(viewer, may_read(viewer), _READ)
    found = page_data.dashboard(db, viewer, now=clock.now())
    return Response(
        exports.as_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="diplomacy-dashboard.csv"'},
    )


@router.get("/agreements/dashboard.html")
def dashboard_html(viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    """The printable page: its content, then the log's signed note over that content."""
    require(viewer, may_read(viewer), _READ)
    found = page_data.dashboard(db, viewer, now=clock.now())
    language = viewer.language
    context = {
        "board": found,
        "now": found.now,
        "figure_labels": page_data.FIGURE_LABELS,
        "figures": page_data.FIGURES,
        "status_labels": page_data.STATUS_LABELS,
        "outcome_labels": page_data.OUTCOME_LABELS,
        "viewer": viewer,
    }
    content = render("diplomacy/dashboard_content.html", language=language, **context)
    note = exports.signed_note(db, content)
    body = render(
        "diplomacy/dashboard_export.html",
        language=language,
        content=exports.START + content + exports.END,
        note=note,
        **context,
    )
    return Response(
        body,
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="diplomacy-dashboard.html"'},
    )


def agreement_page(
    request: Request,
    viewer: Viewer,
    db: Session,
    now: datetime,
    agreement_id: uuid.UUID,
    *,
    error: Any = None,
    status_code: int = 200,
    sent: FormData | None = None,
    sent_for: str | None = None,
) -> Response:
    """The agreement's page; after a refusal, the form sent (``sent_for``: the milestone's
    id) is shown again with what was typed."""
    require(viewer, may_read(viewer), _READ)
    db.rollback()  # a fresh read, past a refused action's transaction
    agreement = q.get_agreement(db, viewer, agreement_id)
    context = page_data.agreement_context(db, viewer, agreement, now=now)
    context["sent"], context["sent_for"] = (sent, sent_for) if error is not None else (None, None)
    return _sectioned(
        request,
        viewer,
        "diplomacy/agreement.html",
        "diplomacy/agreement_sections.html",
        error=error,
        status_code=status_code,
        **context,
    )


@router.get("/agreements/{agreement_id}")
def agreement(
    request: Request, agreement_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> Response:
    return agreement_page(request, viewer, db, clock.now(), agreement_id)


def _step(
    show: Callable[..., Response],
    action: Callable[[], Any],
    target: str,
) -> Response:
    try:
        action()
    except FusioncellError as problem:
        if _refused(problem):
            raise
        return show(error=problem.detail, status_code=problem.status)
    return RedirectResponse(target, status_code=303)


def _milestone_of(
    db: Session, viewer: Viewer, agreement_id: uuid.UUID, milestone_id: uuid.UUID
) -> Milestone:
    milestone = q.get_milestone(db, viewer, milestone_id)
    if milestone.agreement_id != agreement_id:
        raise NotFound(f"no milestone {milestone_id}")
    return milestone


MilestoneStep = Callable[[Session, Viewer, uuid.UUID, FormData, datetime], Any]


def _request(db: Session, viewer: Viewer, m: uuid.UUID, d: FormData, now: datetime) -> Any:
    return do_request_verification(db, viewer, m, step_id=_form_id(d), now=now)


def _comment(db: Session, viewer: Viewer, m: uuid.UUID, d: FormData, now: datetime) -> Any:
    return do_comment_on_milestone(
        db, viewer, m, comment_id=_form_id(d), comment=_text(d, "comment"), now=now
    )


def _assess(db: Session, viewer: Viewer, m: uuid.UUID, d: FormData, now: datetime) -> Any:
    return do_assess_milestone(
        db,
        viewer,
        m,
        step_id=_form_id(d),
        outcome=_text(d, "outcome"),
        reasons=_text(d, "reasons"),
        evidence=_pairs(_text(d, "evidence"), "evidence", "kind", "id"),
        now=now,
    )


MILESTONE_STEPS: dict[str, MilestoneStep] = {
    "verification": _request,
    "comments": _comment,
    "assessment": _assess,
}


def _milestone_route(name: str) -> None:
    act = MILESTONE_STEPS[name]

    async def post(
        request: Request,
        agreement_id: uuid.UUID,
        milestone: uuid.UUID,
        viewer: CurrentViewer,
        db: Db,
        clock: AppClock,
    ) -> Response:
        require(viewer, may_read(viewer), _READ)
        data = await request.form()
        now = clock.now()

        def run() -> Response:
            _milestone_of(db, viewer, agreement_id, milestone)
            return _step(
                lambda **shown: agreement_page(
                    request,
                    viewer,
                    db,
                    now,
                    agreement_id,
                    sent=data,
                    sent_for=str(milestone),
                    **shown,
                ),
                lambda: act(db, viewer, milestone, data, now),
                f"/agreements/{agreement_id}#milestone-{milestone}",
            )

        return await run_in_threadpool(run)

    post.__name__ = f"post_milestone_{name}"
    router.add_api_route(
        f"/agreements/{{agreement_id}}/milestones/{{milestone}}/{name}", post, methods=["POST"]
    )


for _name in MILESTONE_STEPS:
    _milestone_route(_name)


@router.post("/agreements/{agreement_id}/versions/{number}/signatures")
async def sign_version(
    request: Request,
    agreement_id: uuid.UUID,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
) -> Response:
    """Sign the hash the page showed: a version superseded meanwhile is refused."""
    require(viewer, may_read(viewer), _READ)
    data = await request.form()
    now = clock.now()

    def run() -> Response:
        agreement = q.get_agreement(db, viewer, agreement_id)
        version = next((v for v in q.versions_of(db, [agreement.id]) if v.number == number), None)
        if version is None:
            raise NotFound(f"no version {number} of agreement {agreement_id}")
        return _step(
            lambda **shown: agreement_page(request, viewer, db, now, agreement_id, **shown),
            lambda: do_sign_version(
                db, viewer, version.id, content_hash=_text(data, "content_hash"), now=now
            ),
            f"/agreements/{agreement_id}#version-{version.id}",
        )

    return await run_in_threadpool(run)


# -- meetings --------------------------------------------------------------------------------


@router.get("/meetings")
def meetings(request: Request, viewer: CurrentViewer, db: Db) -> Response:
    require(viewer, may_read(viewer), _READ)
    return _sectioned(
        request,
        viewer,
        "diplomacy/meetings.html",
        "diplomacy/meetings_sections.html",
        **page_data.meetings_context(db, viewer),
    )


def meeting_page(
    request: Request,
    viewer: Viewer,
    db: Session,
    meeting_id: uuid.UUID,
    *,
    error: Any = None,
    status_code: int = 200,
    sent: FormData | None = None,
) -> Response:
    require(viewer, may_read(viewer), _READ)
    db.rollback()
    found = mq.get_meeting(db, viewer, meeting_id)
    return _sectioned(
        request,
        viewer,
        "diplomacy/meeting.html",
        "diplomacy/meeting_sections.html",
        m=page_data.meeting_view(db, viewer, found),
        new_id=uuid.uuid4,
        sent=sent if error is not None else None,
        error=error,
        status_code=status_code,
    )


@router.get("/meetings/{meeting_id}")
def meeting(request: Request, meeting_id: uuid.UUID, viewer: CurrentViewer, db: Db) -> Response:
    return meeting_page(request, viewer, db, meeting_id)


MeetingStep = Callable[[Session, Viewer, uuid.UUID, FormData, datetime], Any]


def _draft(db: Session, viewer: Viewer, m: uuid.UUID, d: FormData, now: datetime) -> Any:
    decisions = [
        {"key": x["key"], "text": x["text"], "commitment": None}
        for x in _pairs(_text(d, "decisions"), "decisions", "key", "text")
    ]
    return do_draft_minutes(
        db, viewer, m, step_id=_form_id(d), text=_text(d, "text"), decisions=decisions, now=now
    )


def _minutes_comment(db: Session, viewer: Viewer, m: uuid.UUID, d: FormData, now: datetime) -> Any:
    return do_comment_on_minutes(
        db, viewer, m, comment_id=_form_id(d), comment=_text(d, "comment"), now=now
    )


def _sign_minutes(db: Session, viewer: Viewer, m: uuid.UUID, d: FormData, now: datetime) -> Any:
    return do_sign_minutes(db, viewer, m, minutes_hash=_text(d, "minutes_hash"), now=now)


def _adopt(db: Session, viewer: Viewer, m: uuid.UUID, d: FormData, now: datetime) -> Any:
    return do_adopt_decision(db, viewer, m, _text(d, "decision"), amendment_id=_form_id(d), now=now)


MEETING_STEPS: dict[str, tuple[MeetingStep, str]] = {
    "minutes": (_draft, "minutes"),
    "comments": (_minutes_comment, "comments"),
    "signatures": (_sign_minutes, "signatures"),
    "decisions": (_adopt, "minutes"),
}


def _meeting_route(name: str) -> None:
    act, anchor = MEETING_STEPS[name]

    async def post(
        request: Request, meeting_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
    ) -> Response:
        require(viewer, may_read(viewer), _READ)
        data = await request.form()
        now = clock.now()
        return await run_in_threadpool(
            _step,
            lambda **shown: meeting_page(request, viewer, db, meeting_id, sent=data, **shown),
            lambda: act(db, viewer, meeting_id, data, now),
            f"/meetings/{meeting_id}#{anchor}",
        )

    post.__name__ = f"post_meeting_{name}"
    router.add_api_route(f"/meetings/{{meeting_id}}/{name}", post, methods=["POST"])


for _name in MEETING_STEPS:
    _meeting_route(_name)
