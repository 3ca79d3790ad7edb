"""The commercial pages through a logged-in browser session without script: who reads which
project (404 as the API answers), the forms each member's role allows, forms that post to
the actions and write the right steps, refusals shown on the form in the member's language
with nothing written, the sections the live script fetches again, and the statistics with
the API's figures."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.commercial.factories import (
    Member,
    activate,
    crossing,
    declare,
    project,
)
from tests.helpers.pages import HTML

from fusioncell.clock import ManualClock
from fusioncell.commercial.actions.milestones import do_add_milestone
from fusioncell.commercial.models import Milestone, Project, Shipment, Step

LogIn = Callable[..., str]
# The smallest PNG: a 1x1 transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
PROMISE = {
    "en": "Both parties read the same record",
    "ar": "يقرأ الطرفان السجل نفسه",
    "he": "שני הצדדים קוראים את אותה רשומה",
}


def _language(client: TestClient, csrf: str, language: str) -> None:
    response = client.post(
        "/language",
        data={"language": language, "next": "/", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303


def _forms(html: str) -> set[str]:
    return set(re.findall(r'data-form="(\w+)"', html))


def _page(client: TestClient, path: str, status: int = 200) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, response.text
    return response.text


def _post(client: TestClient, path: str, csrf: str, **fields: Any) -> Any:
    return client.post(
        path,
        data={"csrf_token": csrf, "id": str(uuid.uuid4()), **fields},
        headers=HTML,
        follow_redirects=False,
    )


def _story(db: Session, member: Member, clock: ManualClock) -> tuple[Project, Milestone, Shipment]:
    """ALPHA's active project with an open milestone and a declared shipment."""
    alpha = member("alpha.liaison")
    found = project(db, alpha, now=clock.now())
    activate(db, alpha, found, now=clock.now())
    milestone = do_add_milestone(
        db,
        alpha,
        found.id,
        milestone_id=uuid.uuid4(),
        title="Contracts signed",
        due_on=clock.now().date() + timedelta(days=3),
        now=clock.now(),
    )
    shipment = declare(db, alpha, found, crossing(db, member, now=clock.now()), now=clock.now())
    db.commit()
    return found, milestone, shipment


def test_the_three_pages_speak_the_members_language_and_the_nav_offers_them(
    client: TestClient, db: Session, member: Member, clock: ManualClock, log_in: LogIn
) -> None:
    found, _, _ = _story(db, member, clock)
    csrf = log_in("bravo.liaison")
    for language in ("en", "ar", "he"):
        _language(client, csrf, language)
        for path in ("/projects", f"/projects/{found.id}", "/projects/stats"):
            html = _page(client, path)
            assert PROMISE[language] in html, (language, path)
            assert ('dir="rtl"' in html) == (language != "en")
            assert 'href="/projects"' in html  # the navigation's "Projects"
    html = _page(client, f"/projects/{found.id}")
    assert "Southern power plant" in html and 'id="cm-map"' in html


def test_who_reads_a_project_is_who_the_api_lets_read_it(
    client: TestClient,
    new_client: Callable[[], TestClient],
    db: Session,
    member: Member,
    clock: ManualClock,
    log_in: LogIn,
    token_for: Callable[[str], dict[str, str]],
) -> None:
    found, _, _ = _story(db, member, clock)  # financed by HOST
    path = f"/projects/{found.id}"
    for who, status in (
        ("host.observer", 200),
        ("hum1.coordinator", 404),
        ("bravo.analyst", 200),
        ("verifier.lead", 200),
    ):
        browser = new_client()
        log_in(who, on=browser)
        _page(browser, path, status)
        api = client.get(f"/api/v1/projects/{found.id}", headers=token_for(who))
        assert api.status_code == status, who
        listed = _page(browser, "/projects")
        assert (f'id="project-{found.id}"' in listed) == (status == 200), who
    # The operator reads no project: no link, no page.
    log_in("cell.admin")
    assert 'href="/projects"' not in _page(client, "/")
    assert client.get("/projects", headers=HTML).status_code == 403
    assert client.get(path, headers=HTML).status_code == 403


def test_each_member_sees_only_the_forms_their_role_may_use(
    new_client: Callable[[], TestClient],
    db: Session,
    member: Member,
    clock: ManualClock,
    log_in: LogIn,
) -> None:
    found, _, _ = _story(db, member, clock)
    path = f"/projects/{found.id}"
    seen: dict[str, set[str]] = {}
    for who in ("alpha.liaison", "bravo.liaison", "supervisor.chair", "verifier.lead",
                "bravo.analyst", "host.observer"):  # fmt: skip
        browser = new_client()
        log_in(who, on=browser)
        seen[who] = _forms(_page(browser, path))
        assert ('id="proposal-form"' in _page(browser, "/projects")) == (
            who in ("alpha.liaison", "bravo.liaison", "supervisor.chair")
        ), who
    assert seen == {
        # ALPHA runs its own project; BRAVO may only declare its own party's shipments; a
        # party's liaison officer puts files before a milestone, the deciders cite theirs.
        "alpha.liaison": {"status", "milestone", "attach", "declare"},
        "bravo.liaison": {"attach", "declare"},
        "supervisor.chair": {"status", "milestone", "decide"},
        "verifier.lead": {"decide", "inspect", "refuse"},
        "bravo.analyst": set(),
        "host.observer": set(),
    }


def test_the_forms_take_a_project_from_its_proposal_to_shipments_passed_and_refused(
    new_client: Callable[[], TestClient],
    db: Session,
    member: Member,
    clock: ManualClock,
    log_in: LogIn,
) -> None:
    crossing_id = crossing(db, member, now=clock.now())
    db.commit()
    alpha, verifier = new_client(), new_client()
    alpha_csrf = log_in("alpha.liaison", on=alpha)
    verifier_csrf = log_in("verifier.lead", on=verifier)
    today = clock.now().date()
    proposed = _post(
        alpha,
        "/projects",
        alpha_csrf,
        name="Southern power plant",
        description="+800 MW (a placeholder figure)",
        sponsors="Regional power company\nA second sponsor",
        financing="HOST",
        location_name="Plant",
        lon="35.95",
        lat="32.95",
        starts_on=today.isoformat(),
        ends_on=(today + timedelta(days=30)).isoformat(),
    )
    assert proposed.status_code == 303, proposed.text
    path = proposed.headers["location"]
    db.rollback()
    found = db.scalars(select(Project)).one()
    assert path == f"/projects/{found.id}"
    assert (found.party_id, found.status) == (member("alpha.liaison").organisation_id, "proposed")
    assert found.sponsors == ["Regional power company", "A second sponsor"]
    assert found.financing == ["HOST"]
    assert found.locations == [
        {"name": "Plant", "geometry": {"type": "Point", "coordinates": [35.95, 32.95]}}
    ]

    def step(browser: TestClient, csrf: str, name: str, anchor: str, **fields: Any) -> None:
        sent = _post(browser, f"{path}/{name}", csrf, **fields)
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"] == f"{path}#{anchor}"

    step(alpha, alpha_csrf, "status", "status", status="active", reason="Financed.")
    due = today + timedelta(days=1)
    step(alpha, alpha_csrf, "milestones", "milestones", title="Contracts", due_on=due.isoformat())
    planned = clock.now() + timedelta(hours=50)
    for hours in (50, 20):  # the second is declared late
        step(alpha, alpha_csrf, "shipments", "shipments", cargo=f"Turbines {hours}",
             crossing=crossing_id,
             planned_at=(clock.now() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M"))  # fmt: skip
    db.rollback()
    shipments = {s.cargo: s for s in db.scalars(select(Shipment))}
    on_time, late = shipments["Turbines 50"], shipments["Turbines 20"]
    assert (on_time.lead_time, late.lead_time) == ("on_time", "late")
    assert on_time.planned_at == planned.replace(second=0, microsecond=0)
    html = _page(alpha, path)
    assert re.search(rf'id="shipment-{late.id}"[^>]*data-lead="late"', html)

    step(verifier, verifier_csrf, f"shipments/{on_time.id}/inspection", f"shipment-{on_time.id}",
         note="Seals intact.")  # fmt: skip
    step(verifier, verifier_csrf, f"shipments/{on_time.id}/passage", f"shipment-{on_time.id}")
    step(verifier, verifier_csrf, f"shipments/{late.id}/refusal", f"shipment-{late.id}",
         reason="The cargo is not what was declared.")  # fmt: skip
    milestone = db.scalars(select(Milestone)).one()
    contract = b"Contract no. 1, signed."
    attached = alpha.post(
        f"{path}/milestones/{milestone.id}/evidence",
        data={"csrf_token": alpha_csrf, "id": str(uuid.uuid4()), "note": "The contract."},
        files={"file": ("contract.txt", contract, "text/plain")},
        headers=HTML,
        follow_redirects=False,
    )
    assert attached.status_code == 303, attached.text
    assert attached.headers["location"] == f"{path}#milestone-{milestone.id}"
    decided = verifier.post(
        f"{path}/milestones/{milestone.id}/decision",
        data={
            "csrf_token": verifier_csrf,
            "id": str(uuid.uuid4()),
            "decision": "met",
            "reason": "The signed contract is before us.",
        },
        files={"file": ("contract.png", PNG, "image/png")},
        headers=HTML,
        follow_redirects=False,
    )
    assert decided.status_code == 303, decided.text
    db.rollback()
    kinds = [s.kind for s in db.scalars(select(Step).order_by(Step.log_index))]
    assert kinds == [
        "commercial.project.status_changed",
        "commercial.shipment.inspected",
        "commercial.shipment.passed",
        "commercial.shipment.refused",
        "commercial.milestone.evidence_attached",
        "commercial.milestone.decided",
    ]
    assert db.get(Milestone, milestone.id).status == "met"  # type: ignore[union-attr]
    # ALPHA reads the file, its hash and the refusal's reason on the project's page.
    html = _page(alpha, path)
    image = re.findall(r'<img src="(/api/v1/projects/evidence/([0-9a-f]{64}))"', html)
    assert len(image) == 1 and f"SHA-256 {image[0][1]}" in html
    assert alpha.get(image[0][0]).content == PNG
    text = re.findall(
        r'<a href="(/api/v1/projects/evidence/[0-9a-f]{64})" class="cm-file-link"', html
    )
    assert len(text) == 1 and alpha.get(text[0]).content == contract
    assert "The cargo is not what was declared." in html
    assert re.search(rf'id="shipment-{late.id}"[^>]*data-state="refused"', html)
    assert re.search(rf'id="shipment-{on_time.id}"[^>]*data-state="passed"', html)


def test_a_refused_proposal_is_shown_translated_as_typed_and_writes_nothing(
    client: TestClient,
    clock: ManualClock,
    log_in: LogIn,
    table_counts: Callable[[], dict[str, int]],
) -> None:
    csrf = log_in("alpha.liaison")
    _language(client, csrf, "ar")
    before = table_counts()
    today = clock.now().date()
    sent = _post(
        client,
        "/projects",
        csrf,
        name="Kept as typed",
        description="A plant.",
        sponsors="A sponsor",
        starts_on=today.isoformat(),
        ends_on=(today - timedelta(days=1)).isoformat(),
    )
    assert sent.status_code == 422
    assert 'id="cm-error"' in sent.text and "ينتهي المشروع" in sent.text
    assert 'value="Kept as typed"' in sent.text
    assert table_counts() == before


def test_a_refused_step_is_shown_on_the_project_and_the_wrong_role_is_refused(
    client: TestClient,
    new_client: Callable[[], TestClient],
    db: Session,
    member: Member,
    clock: ManualClock,
    log_in: LogIn,
    table_counts: Callable[[], dict[str, int]],
) -> None:
    found, milestone, shipment = _story(db, member, clock)
    path = f"/projects/{found.id}"
    csrf = log_in("supervisor.chair")
    _language(client, csrf, "he")
    alpha, bravo = new_client(), new_client()
    alpha_csrf = log_in("alpha.liaison", on=alpha)
    bravo_csrf = log_in("bravo.liaison", on=bravo)
    before = table_counts()
    # Missed before the due date: bad input, shown on the project in Hebrew.
    early = _post(client, f"{path}/milestones/{milestone.id}/decision", csrf, decision="missed",
                  reason="Not yet.")  # fmt: skip
    assert early.status_code == 422
    assert 'id="cm-error"' in early.text and "אבן דרך" in early.text
    # What was typed is back in the form sent, not in the status form beside it.
    assert early.text.count("Not yet.</textarea>") == 1
    # A party may not decide, nor refuse a shipment: refused as the API refuses it.
    for name, fields in (
        (f"milestones/{milestone.id}/decision", {"decision": "met", "reason": "Done."}),
        (f"shipments/{shipment.id}/refusal", {"reason": "No."}),
    ):
        assert _post(alpha, f"{path}/{name}", alpha_csrf, **fields).status_code == 403
    # A project not released to the member, or none: 404 on every step, as on the page.
    unknown = f"/projects/{uuid.uuid4()}"
    assert _post(bravo, f"{unknown}/shipments", bravo_csrf, cargo="x").status_code == 404
    assert table_counts() == before


def test_the_sections_and_the_statistics_are_the_apis(
    client: TestClient,
    db: Session,
    member: Member,
    clock: ManualClock,
    log_in: LogIn,
    token_for: Callable[[str], dict[str, str]],
) -> None:
    found, _, _ = _story(db, member, clock)
    bravo = member("bravo.liaison")
    declare(db, bravo, found, crossing(db, member, now=clock.now()), now=clock.now(),
            ahead=timedelta(hours=3))  # fmt: skip
    db.commit()
    log_in("host.observer")
    # The live script's request: the sections only.
    part = client.get(
        f"/projects/{found.id}", headers={**HTML, "HX-Target": "commercial-project-sections"}
    )
    assert part.text.lstrip().startswith('<div id="commercial-project-sections"')
    part = client.get("/projects", headers={**HTML, "HX-Target": "commercial-sections"})
    assert part.text.lstrip().startswith('<div id="commercial-sections"')
    assert f'id="project-{found.id}"' in part.text
    html = _page(client, "/projects/stats")
    api = client.get("/api/v1/projects/stats", headers=token_for("host.observer")).json()
    scale = max(v for p in api["parties"] for k, v in p.items() if k != "party")
    assert scale == 1 and f'data-scale="{scale}"' in html
    for figures in api["parties"]:
        for key, value in figures.items():
            if key == "party":
                continue
            cell = re.search(
                rf'data-measure="{key}">.*?data-party="{figures["party"]}" data-value="(\d+)">'
                rf'\s*<div class="bar" data-width="([\d.]+)%"',
                html,
                re.S,
            )
            assert cell is not None, key
            assert int(cell.group(1)) == value
            assert float(cell.group(2)) == value / scale * 100
