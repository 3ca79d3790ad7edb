"""The disputes pages through a logged-in browser session without script: what each member
sees (the forms their role and the case's state allow, never another party's sealed
comment), the forms that post to the actions and write the right steps, refusals shown on
the form in the member's language with nothing written, the sections the live script
fetches again, and the statistics with the API's figures."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.helpers.pages import HTML
from tests.verification.factories import HOUR, file, to_draft, to_investigation

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.verification.actions.findings import do_reveal_due_comments
from fusioncell.verification.actions.investigation import do_request_access
from fusioncell.verification.models import Case, CaseStep, Comment

Member = Callable[[str], Viewer]
LogIn = Callable[..., str]
# The smallest PNG: a 1x1 transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
FORMS = ("triage", "task", "visit", "access", "draft", "comment", "finding", "remedy", "close")


def _language(client: TestClient, csrf: str, language: str) -> None:
    response = client.post(
        "/language",
        data={"language": language, "next": "/", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303


def _forms(html: str) -> set[str]:
    return set(re.findall(r'data-form="(\w+)"', html))


def _page(client: TestClient, path: str) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == 200, response.text
    return response.text


def _post(client: TestClient, path: str, csrf: str, **fields: Any) -> Any:
    return client.post(
        path, data={"csrf_token": csrf, **fields}, headers=HTML, follow_redirects=False
    )


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "Only the supervisor and the verifier issue findings"),
        ("ar", "المشرف والمتحقق وحدهما"),
        ("he", "רק המפקח והמאמת"),
    ],
)
def test_the_three_pages_speak_the_members_language_and_the_nav_offers_them(
    client: TestClient,
    db: Session,
    member: Member,
    clock: ManualClock,
    log_in: LogIn,
    language: str,
    words: str,
) -> None:
    case = file(db, member("alpha.liaison"), now=clock.now())
    db.commit()
    csrf = log_in("supervisor.chair")
    _language(client, csrf, language)
    for path in ("/verification", f"/verification/cases/{case.id}", "/verification/stats"):
        html = _page(client, path)
        assert words in html, path
        assert ('dir="rtl"' in html) == (language != "en")
        assert 'href="/verification"' in html  # the navigation's "Disputes"


def test_the_operator_has_no_disputes_link_and_no_page(client: TestClient, log_in: LogIn) -> None:
    log_in("cell.admin")
    assert 'href="/verification"' not in _page(client, "/")
    assert client.get("/verification", headers=HTML).status_code == 403


def test_the_list_groups_cases_by_state_with_the_supervisors_queue_and_overdue_in_red(
    client: TestClient,
    new_client: Callable[[], TestClient],
    db: Session,
    member: Member,
    clock: ManualClock,
    log_in: LogIn,
) -> None:
    alpha = member("alpha.liaison")
    late = file(db, alpha, now=clock.now(), allegation="Earthworks north of the road")
    clock.advance(20 * HOUR)
    fresh = file(db, alpha, now=clock.now(), allegation="A UAV over the crossing")
    investigating = file(db, alpha, now=clock.now(), allegation="Armed personnel at post 12")
    to_investigation(db, member, investigating, now=clock.now())
    db.commit()
    clock.advance(5 * HOUR)  # the first complaint's triage is overdue, the second's is not
    log_in("supervisor.chair")
    html = _page(client, "/verification")
    queue = html[html.index('id="triage-queue"') : html.index('id="state-filed"')]
    assert queue.index(f"queue-{late.id}") < queue.index(f"queue-{fresh.id}")
    filed = html[html.index('id="state-filed"') : html.index('id="state-triaged"')]
    assert f"case-{late.id}" in filed and f"case-{fresh.id}" in filed
    assert re.search(rf'class="vf-row overdue" id="case-{late.id}"', html)
    assert re.search(rf'class="vf-row" id="case-{fresh.id}"', html)
    section = html[html.index('id="state-investigating"') : html.index('id="state-drafted"')]
    assert f"case-{investigating.id}" in section and 'data-duty="site_visit"' in section
    # A party reads the same lists, without a queue; it may file.
    bravo = new_client()
    log_in("bravo.liaison", on=bravo)
    html = _page(bravo, "/verification")
    assert 'id="triage-queue"' not in html and f"case-{late.id}" in html
    assert 'id="complaint-form"' in html
    # The live script's request: the sections only.
    part = bravo.get("/verification", headers={**HTML, "HX-Target": "verification-sections"})
    assert part.text.lstrip().startswith('<div id="verification-sections"')
    assert "complaint-form" not in part.text


def test_each_member_sees_only_the_forms_they_may_use_now(
    client: TestClient,
    db: Session,
    member: Member,
    clock: ManualClock,
    log_in: LogIn,
    new_client: Callable[[], TestClient],
) -> None:
    case = file(db, member("alpha.liaison"), now=clock.now())
    db.commit()
    path = f"/verification/cases/{case.id}"
    seen: dict[str, set[str]] = {}
    for who in ("supervisor.chair", "verifier.lead", "alpha.liaison", "bravo.analyst"):
        browser = new_client()
        log_in(who, on=browser)
        seen[who] = _forms(_page(browser, path))
    assert seen == {
        "supervisor.chair": {"triage"},
        "verifier.lead": set(),
        "alpha.liaison": set(),
        "bravo.analyst": set(),
    }
    to_investigation(db, member, case, now=clock.now())
    do_request_access(
        db,
        member("verifier.lead"),
        case.id,
        step_id=uuid.uuid4(),
        party="BRAVO",
        place="The ridge",
        now=clock.now(),
    )
    db.commit()
    for who, expected in (
        ("supervisor.chair", {"draft"}),
        ("verifier.lead", {"visit", "access", "draft"}),
        ("alpha.liaison", set()),
        ("bravo.liaison", {"answer"}),
        ("bravo.analyst", set()),  # not the party's liaison officer
    ):
        browser = new_client()
        log_in(who, on=browser)
        assert _forms(_page(browser, path)) == expected, who


def test_a_party_never_reads_another_partys_sealed_comment_on_the_page(
    client: TestClient,
    new_client: Callable[[], TestClient],
    db: Session,
    member: Member,
    clock: ManualClock,
    log_in: LogIn,
) -> None:
    case = to_draft(db, member, file(db, member("alpha.liaison"), now=clock.now()), now=clock.now())
    db.commit()
    path = f"/verification/cases/{case.id}"
    alpha, bravo, chair = new_client(), new_client(), new_client()
    alpha_csrf = log_in("alpha.liaison", on=alpha)
    bravo_csrf = log_in("bravo.liaison", on=bravo)
    log_in("supervisor.chair", on=chair)
    assert "comment" in _forms(_page(alpha, path))
    said = {"alpha": "ALPHA saw the sections withdraw", "bravo": "BRAVO disputes the count"}
    for browser, csrf, text in (
        (alpha, alpha_csrf, said["alpha"]),
        (bravo, bravo_csrf, said["bravo"]),
    ):
        sent = _post(browser, f"{path}/comments", csrf, id=str(uuid.uuid4()), comment=text)
        assert sent.status_code == 303 and sent.headers["location"] == f"{path}#comments"
    db.rollback()
    sealed = {c.organisation_id: c for c in db.scalars(select(Comment))}
    assert len(sealed) == 2
    alpha_page, bravo_page, chair_page = (_page(b, path) for b in (alpha, bravo, chair))
    # Each party reads its own, and the other's hash only; the chair reads neither text.
    assert said["alpha"] in alpha_page and said["bravo"] not in alpha_page
    assert said["bravo"] in bravo_page and said["alpha"] not in bravo_page
    assert said["alpha"] not in chair_page and said["bravo"] not in chair_page
    for comment in sealed.values():
        assert comment.commitment in chair_page
    assert alpha_page.count('data-sealed="yes"') == 2
    assert "comment" not in _forms(alpha_page)  # once
    # Nor through the live sections.
    part = bravo.get(path, headers={**HTML, "HX-Target": "verification-case-sections"}).text
    assert said["alpha"] not in part and "verification-case-sections" in part
    # The window closes: the log reveals both, and every reader sees both side by side.
    clock.advance(73 * HOUR)
    do_reveal_due_comments(db, now=clock.now())
    db.commit()
    for browser, who in (
        (alpha, "alpha.liaison"),
        (bravo, "bravo.liaison"),
        (chair, "supervisor.chair"),
    ):
        log_in(who, on=browser)  # the sessions have expired meanwhile
        html = _page(browser, path)
        assert said["alpha"] in html and said["bravo"] in html
        assert html.count('data-sealed="no"') == 2


def test_the_forms_take_a_complaint_from_filing_to_a_closed_case(
    client: TestClient,
    new_client: Callable[[], TestClient],
    db: Session,
    clock: ManualClock,
    log_in: LogIn,
) -> None:
    alpha, chair, verifier, bravo = (new_client() for _ in range(4))
    csrf = {
        "alpha": log_in("alpha.liaison", on=alpha),
        "chair": log_in("supervisor.chair", on=chair),
        "verifier": log_in("verifier.lead", on=verifier),
        "bravo": log_in("bravo.liaison", on=bravo),
    }
    form = _page(alpha, "/verification")
    assert 'enctype="multipart/form-data"' in form
    # Every form carries the session's token (a browser posts only what the page holds).
    assert form.count(f'name="csrf_token" value="{csrf["alpha"]}"') == form.count("csrf_token")
    filed = alpha.post(
        "/verification/complaints",
        data={
            "csrf_token": csrf["alpha"],
            "id": str(uuid.uuid4()),
            "allegation": "New earthworks in the area of separation",
            "against": "BRAVO",
            "rule": "R1",
            "lon": "35.84",
            "lat": "33.15",
            "occurred_at": (clock.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        },
        files={"file": ("berm.png", PNG, "image/png")},
        headers=HTML,
        follow_redirects=False,
    )
    assert filed.status_code == 303, filed.text
    path = filed.headers["location"]
    case_id = uuid.UUID(path.rsplit("/", 1)[1])
    html = _page(alpha, path)
    assert re.search(r'<img src="/api/v1/verification/evidence/[0-9a-f]{64}"', html)
    image = alpha.get(re.findall(r'<img src="([^"]+)"', html)[0])
    assert image.status_code == 200 and image.content == PNG

    def step(who: str, name: str, anchor: str, **fields: Any) -> None:
        browser = {"alpha": alpha, "chair": chair, "verifier": verifier, "bravo": bravo}[who]
        sent = _post(browser, f"{path}/{name}", csrf[who], id=str(uuid.uuid4()), **fields)
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"] == f"{path}#{anchor}"

    chair_page = _page(chair, path)
    assert 'data-form="triage"' in chair_page
    assert chair_page.count(f'value="{csrf["chair"]}"') == chair_page.count("csrf_token")
    step("chair", "triage", "timeline", triage="admissible", reasons="R1, placed and timed.")
    step("chair", "tasking", "timeline", verifier=_member_id(_page(chair, path)))
    step("verifier", "site-visits", "timeline", note="A berm 40 m long.")
    step("verifier", "access-requests", "access", party="BRAVO", place="The berm's far side")
    request = re.findall(r'id="request-([0-9a-f-]{36})"', _page(bravo, path))[0]
    answered = _post(
        bravo,
        f"{path}/access-requests/{request}/answer",
        csrf["bravo"],
        id=str(uuid.uuid4()),
        answer="granted",
    )
    assert answered.status_code == 303
    step("verifier", "draft-finding", "finding", outcome="substantiated_attributed",
         party="BRAVO", summary="BRAVO's berm is in the area.")  # fmt: skip
    step("alpha", "comments", "comments", comment="Agreed.")
    step("bravo", "comments", "comments", comment="The berm predates the freeze.")
    clock.advance(73 * HOUR)
    for who, username in (("alpha", "alpha.liaison"), ("chair", "supervisor.chair"),
                          ("verifier", "verifier.lead"), ("bravo", "bravo.liaison")):  # fmt: skip
        csrf[who] = log_in(username, on={"alpha": alpha, "chair": chair, "verifier": verifier,
                                         "bravo": bravo}[who])  # fmt: skip
    step("chair", "finding", "finding", outcome="substantiated_attributed", party="BRAVO",
         summary="BRAVO's berm is in the area.")  # fmt: skip
    due = (clock.now() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    step("chair", "remedy", "finding", remedy="Level the berm.", due_at=due, party="BRAVO")
    step("verifier", "remedy-verification", "finding", note="Levelled.")
    step("chair", "close", "timeline", note="Done.")
    db.rollback()
    kinds = [s.kind for s in db.scalars(select(CaseStep).where(CaseStep.case_id == case_id))]
    assert kinds == [
        "verification.complaint.filed",
        "verification.complaint.triaged",
        "verification.verifier.tasked",
        "verification.site.visited",
        "verification.access.requested",
        "verification.access.answered",
        "verification.finding.drafted",
        "verification.comment.sealed",
        "verification.comment.sealed",
        "verification.comment.revealed",
        "verification.comment.revealed",
        "verification.finding.issued",
        "verification.remedy.requested",
        "verification.remedy.verified",
        "verification.case.closed",
    ]
    html = _page(bravo, path)
    assert html.count("#entry-") >= len(kinds)  # each step links to its entry in the record
    assert "The berm predates the freeze." in html and "Agreed." in html


def _member_id(html: str) -> str:
    found = re.search(r'<select name="verifier"><option value="([0-9a-f-]{36})"', html)
    assert found is not None, "no verifier to task"
    return found.group(1)


@pytest.mark.parametrize(
    ("language", "fields", "expected", "status"),
    [
        ("ar", {"lon": "east", "lat": "33.15"}, "خط الطول", 422),
        ("he", {"against": "HOST"}, "נגד צד", 422),
        ("en", {"allegation": ""}, "Give the allegation", 422),
    ],
)
def test_a_refused_complaint_is_shown_on_the_form_translated_and_writes_nothing(
    client: TestClient,
    clock: ManualClock,
    log_in: LogIn,
    table_counts: Callable[[], dict[str, int]],
    language: str,
    fields: dict[str, str],
    expected: str,
    status: int,
) -> None:
    csrf = log_in("alpha.liaison")
    _language(client, csrf, language)
    before = table_counts()
    sent = client.post(
        "/verification/complaints",
        data={
            "csrf_token": csrf,
            "allegation": "Kept as typed",
            "against": "BRAVO",
            "rule": "R1",
            "lon": "35.84",
            "lat": "33.15",
            "occurred_at": clock.now().strftime("%Y-%m-%dT%H:%M"),
            **fields,
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert sent.status_code == status
    assert 'id="vf-error"' in sent.text and expected in sent.text
    assert ("Kept as typed" in sent.text) == ("allegation" not in fields)
    assert table_counts() == before


def test_a_refused_step_is_shown_on_the_case_and_the_wrong_member_is_refused(
    client: TestClient,
    new_client: Callable[[], TestClient],
    db: Session,
    member: Member,
    clock: ManualClock,
    log_in: LogIn,
    table_counts: Callable[[], dict[str, int]],
) -> None:
    case = to_draft(db, member, file(db, member("alpha.liaison"), now=clock.now()), now=clock.now())
    db.commit()
    path = f"/verification/cases/{case.id}"
    csrf = log_in("supervisor.chair")
    _language(client, csrf, "he")
    alpha = new_client()
    alpha_csrf = log_in("alpha.liaison", on=alpha)
    before = table_counts()
    # The finding before the window closes: a conflict, shown on the case in Hebrew.
    early = _post(client, f"{path}/finding", csrf, outcome="not_substantiated", summary="No.")
    assert early.status_code == 409
    assert 'id="vf-error"' in early.text and "חלון ההערות" in early.text
    # A party may not find: refused as the API refuses it.
    refused = _post(alpha, f"{path}/finding", alpha_csrf, outcome="not_substantiated", summary="")
    assert refused.status_code == 403
    assert table_counts() == before
    db.rollback()
    assert db.get(Case, case.id).state == "drafted"  # type: ignore[union-attr]


def test_a_violation_candidate_fills_the_form_and_becomes_a_complaint(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    log_in: LogIn,
    token_for: Callable[[str], dict[str, str]],
) -> None:
    where = [35.75, 33.12]  # ALPHA's 0-10 km band
    features = [
        {
            "type": "Feature",
            "id": f"t{n}",
            "geometry": {"type": "Point", "coordinates": where},
            "properties": {
                "unit": f"t{n}",
                "party": "ALPHA",
                "category": "tank",
                "count": 40,
                "observed_at": (clock.now() - timedelta(hours=1)).isoformat(),
                "source": "sensor",
            },
        }
        for n in (1, 2)
    ]
    posted = client.post(
        "/api/v1/deescalation/observations",
        json={"type": "FeatureCollection", "features": features},
        headers=token_for("verifier.lead"),
    )
    assert posted.status_code == 201, posted.text
    [c] = posted.json()["candidates"]
    key = "/".join(["verification", c["rule"], c["party"], c["zone"], c["category"], c["measure"]])
    client.cookies.clear()
    csrf = log_in("bravo.liaison")
    html = _page(client, f"/verification?candidate={key}")
    assert f'name="candidate" value="{key}"' in html and 'id="vf-candidate"' in html
    sent = _post(client, "/verification/complaints", csrf, id=str(uuid.uuid4()), candidate=key)
    assert sent.status_code == 303, sent.text
    db.rollback()
    case = db.scalar(select(Case).where(Case.rule == "R2"))
    assert case is not None and case.candidate is not None and case.candidate["key"] == key


def test_the_statistics_page_shows_the_apis_figures_on_one_scale(
    client: TestClient,
    db: Session,
    member: Member,
    clock: ManualClock,
    log_in: LogIn,
    token_for: Callable[[str], dict[str, str]],
) -> None:
    alpha, bravo = member("alpha.liaison"), member("bravo.liaison")
    for _ in range(3):
        file(db, alpha, now=clock.now())
    file(db, bravo, now=clock.now(), against="ALPHA")
    db.commit()
    api = client.get("/api/v1/verification/stats", headers=token_for("alpha.liaison")).json()
    client.headers.pop("Authorization", None)
    log_in("alpha.liaison")
    html = _page(client, "/verification/stats")
    for party in api["parties"]:
        for key in ("filed", "received", "open", "access_denials", "remedies_verified"):
            row = html[html.index(f'data-measure="{key}"') :]
            cell = re.search(rf'data-party="{party["party"]}" data-value="([^"]*)"', row)
            assert cell is not None and float(cell.group(1)) == party[key], (party["party"], key)
    # One scale for both parties: BRAVO received 3, ALPHA 1, so ALPHA's bar is a third.
    row = html[html.index('data-measure="received"') :]
    widths = dict(
        re.findall(
            r'data-party="(\w+)" data-value="[^"]*">\s*<div class="bar" data-width="([^"]+)"', row
        )[:2]
    )
    assert widths == {"ALPHA": "33.3%", "BRAVO": "100.0%"}


def test_the_place_picked_on_the_map_wins_over_the_degrees(
    client: TestClient, db: Session, clock: ManualClock, log_in: LogIn
) -> None:
    csrf = log_in("hum1.coordinator")
    html = _page(client, "/verification")
    assert 'data-input="complaint-location"' in html and "map-picker.js" in html
    sent = _post(
        client,
        "/verification/complaints",
        csrf,
        id=str(uuid.uuid4()),
        allegation="The convoy was held at the checkpoint",
        against="unknown",
        rule="R12",
        lon="",
        lat="",
        location='{"type": "Point", "coordinates": [36.10, 32.62]}',
        occurred_at=clock.now().strftime("%Y-%m-%dT%H:%M"),
    )
    assert sent.status_code == 303, sent.text
    db.rollback()
    case = db.scalar(select(Case).where(Case.rule == "R12"))
    assert case is not None and (case.lon, case.lat, case.against_id) == (36.10, 32.62, None)
