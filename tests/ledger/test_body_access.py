"""Who reads which entry's body: every entry type x every role x every read path.

A body is readable when the viewer is in the entry's audience *and* holds the read
permission of the track that owns the entry type. The expectation below restates that rule
from the roles' documented rights (README), independently of ``cell/policy.py``: the hotline's
bodies, and the de-escalation, deconfliction, verification and commercial tracks', go to the
roles that read messages, wherever the audience names their organisation; intelligence goes
to a party's liaisons and analysts, the supervisor, the verifier and observers (a party's duty officer
reads none); everything else goes by the audience alone.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.cell.factories import create_member, issue_token, start_session, totp_code
from tests.commercial.factories import tell_story as tell_commercial_story
from tests.conftest import DEMO_PASSWORD, add_member_at_console
from tests.cot.factories import tell_story as tell_cot_story
from tests.diplomacy.factories import tell_story as tell_diplomacy_story
from tests.hotline.factories import acknowledge, send
from tests.verification.factories import tell_story as tell_verification_story

from fusioncell.cell.actions.account import (
    do_begin_totp_enrolment,
    do_change_password,
    do_confirm_totp,
    do_disable_totp,
    do_set_language,
)
from fusioncell.cell.actions.auth import do_log_out, do_revoke_token
from fusioncell.cell.actions.keys import do_revoke_key
from fusioncell.cell.actions.members import (
    do_countersign_member,
    do_disable_member,
    do_grant_role,
    do_revoke_role,
)
from fusioncell.cell.models import Member, Organisation, Role
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import viewer_of
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.db.transaction import atomic
from fusioncell.deconfliction.actions.escalation import do_escalate_due_notifications
from fusioncell.deconfliction.actions.follow_up import (
    do_justify_notification,
    do_note_conflicts,
    do_withdraw_notification,
)
from fusioncell.deconfliction.actions.notifications import do_submit_notification
from fusioncell.deconfliction.actions.registry import (
    do_acknowledge_no_strike_list,
    do_send_no_strike_lists,
)
from fusioncell.errors import FusioncellError
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID, bilateral_channel_id
from fusioncell.hotline.actions.deadline_actions import do_note_deadline_action
from fusioncell.hotline.actions.escalation import do_escalate_due
from fusioncell.hotline.actions.messages import (
    do_mark_delivered,
)
from fusioncell.ledger.append import append
from fusioncell.ledger.context import ledger_context
from fusioncell.ledger.entries import LedgerEntry, SignedEntry, b64, key_id, known_entry_types
from fusioncell.ledger.key_entries import custodial_private_key
from fusioncell.ledger.models import LogAudience, LogEntry, LogKey
from fusioncell.ledger.signing import possession_claim, sign_entry
from fusioncell.scenario.deconfliction_story import load_deconfliction_story
from fusioncell.scenario.deescalation_story import load_deescalation_story
from fusioncell.scenario.demo import stable_id
from fusioncell.scenario.hotline_story import load_hotline_story
from fusioncell.scenario.intel_story import load_intel_story
from fusioncell.scenario.protection_story import load_protection_story

HOTLINE_READERS = frozenset(
    {
        Role.LIAISON,
        Role.ANALYST,
        Role.DUTY_OFFICER,
        Role.SUPERVISOR,
        Role.VERIFIER,
        Role.OBSERVER,
    }
)

INTEL_READERS = frozenset(
    {Role.LIAISON, Role.ANALYST, Role.SUPERVISOR, Role.VERIFIER, Role.OBSERVER}
)
# Agreements and meetings: the parties' staff, the supervisor and the verifier.
DIPLOMACY_READERS = frozenset(
    {Role.LIAISON, Role.ANALYST, Role.DUTY_OFFICER, Role.SUPERVISOR, Role.VERIFIER}
)

# One reader per role, plus an auditor inside a party: in the audience of the party's own
# entries by organisation, yet without the hotline's read permission.
READERS = {
    "alpha.liaison": Role.LIAISON,
    "alpha.analyst": Role.ANALYST,
    "bravo.duty": Role.DUTY_OFFICER,
    "supervisor.chair": Role.SUPERVISOR,
    "verifier.lead": Role.VERIFIER,
    "host.observer": Role.OBSERVER,
    "hum1.coordinator": Role.OBSERVER,
    "alpha.auditor": Role.AUDITOR,
    "cell.admin": Role.ADMIN,
}
_ROW = re.compile(r'<tr class="entry" id="entry-(\d+)"[^>]*?( data-salt="[^"]+")?>')


def _viewer(db: Session, username: str) -> Viewer:
    found = db.scalar(select(Member).where(Member.username == username))
    assert found is not None, username
    viewer = viewer_of(found)
    db.commit()
    return viewer


def _rotate_custodial_key(db: Session, member: Viewer, clock: ManualClock) -> None:
    """A rotation signed by the key it replaces, with the new key's proof of possession."""
    with atomic(db):
        old = custodial_private_key(db, member.member_id)
        old_id = key_id(old.public_key().public_bytes_raw())
        new = Ed25519PrivateKey.generate()
        public = new.public_key().public_bytes_raw()
        key = {
            "id": key_id(public),
            "member": str(member.member_id),
            "public": b64(public),
            "replaces": old_id,
        }
        key["possession"] = b64(new.sign(possession_claim(key)))
        body = {"member": str(member.member_id), "key": key["id"], "replaces": old_id}
        header, signature, salt = sign_entry(
            old,
            LedgerEntry.KEY_ROTATED.value,
            body,
            policy_hash=ledger_context(db).policy_hash,
            now=clock.now(),
            custodial=False,
            key=key,
        )
        append(
            db,
            SignedEntry(
                header=header,
                signature=signature,
                body=body,
                salt=salt,
                audience={"organisations": [str(member.organisation_id)], "roles": []},
            ),
            now=clock.now(),
            verify=True,
        )


def _fail_logins(db: Session, settings: Settings, clock: ManualClock, username: str) -> None:
    for _attempt in range(settings.login_backoff_threshold + 2):
        with contextlib.suppress(FusioncellError):
            issue_token(db, settings, clock, username, password="wrong password")
        clock.advance(settings.login_backoff_max_seconds + 61)


@pytest.fixture
def every_kind_of_entry(db: Session, clock: ManualClock, settings: Settings, demo: None) -> None:
    """The demo and its stories (the hotline's, de-escalation's, intelligence's, protection's
    and deconfliction's entries, as ``fusioncell demo`` tells them), then every other action
    once, so the log holds each entry type at least once."""
    start = clock.now()
    load_hotline_story(db, start=start)
    load_deescalation_story(db, start=start)
    load_intel_story(db, start=start + timedelta(minutes=31))
    load_protection_story(db, start=start + timedelta(minutes=31, seconds=5))
    load_deconfliction_story(db, start=start + timedelta(minutes=31, seconds=15))
    db.commit()
    clock.advance(32 * 60)
    _deconfliction_follow_ups(db, clock)
    add_member_at_console(db, clock, "alpha.auditor", organisation="ALPHA", roles=[Role.AUDITOR])
    admin, alpha, bravo = (_viewer(db, n) for n in ("cell.admin", "alpha.liaison", "bravo.duty"))
    proposed = create_member(db, admin, clock, username="alpha.proposed")
    do_countersign_member(db, alpha, member_id=proposed.id, roles=[Role.ANALYST], now=clock.now())
    do_grant_role(db, admin, member_id=proposed.id, role=Role.DUTY_OFFICER, now=clock.now())
    do_revoke_role(db, admin, member_id=proposed.id, role=Role.ANALYST, now=clock.now())
    do_disable_member(db, admin, username="alpha.proposed", now=clock.now())

    token = issue_token(db, settings, clock, "alpha.analyst")
    analyst = _viewer(db, "alpha.analyst")
    do_revoke_token(db, analyst, token_secret=token.secret, now=clock.now())
    session = start_session(db, settings, clock, "bravo.liaison")
    do_log_out(db, _viewer(db, "bravo.liaison"), session_secret=session.secret, now=clock.now())
    do_set_language(db, analyst, language="ar", now=clock.now())
    do_change_password(
        db,
        analyst,
        current_password=DEMO_PASSWORD,
        new_password="another-long-password",
        now=clock.now(),
        hash_profile="fast-insecure",
    )
    enrolment = do_begin_totp_enrolment(db, analyst, now=clock.now())
    do_confirm_totp(db, analyst, code=totp_code(enrolment.secret, clock.now()), now=clock.now())
    clock.advance(31)
    do_disable_totp(db, analyst, code=totp_code(enrolment.secret, clock.now()), now=clock.now())
    _rotate_custodial_key(db, _viewer(db, "bravo.analyst"), clock)
    hum = _viewer(db, "hum1.coordinator")
    hum_key = db.scalar(
        select(LogKey.key_id).where(LogKey.member_id == hum.member_id, LogKey.custodial)
    )
    db.commit()
    assert hum_key is not None
    do_revoke_key(db, admin, revoked_key_id=hum_key, now=clock.now())
    _fail_logins(db, settings, clock, "nobody.at.all")

    for channel in (CELL_CHANNEL_ID, bilateral_channel_id(stable_id("organisation", "ALPHA"))):
        sent = send(db, alpha, now=clock.now(), channel_id=channel)
        if channel == CELL_CHANNEL_ID:
            send(db, bravo, now=clock.now(), text="Nobody will acknowledge this one in time.")
            do_mark_delivered(db, bravo, message_ids=[sent.id], now=clock.now())
            acknowledge(db, bravo, sent.id, now=clock.now())
    clock.advance(600)
    do_escalate_due(db, now=clock.now())
    db.commit()
    do_note_deadline_action(
        db,
        _viewer(db, "supervisor.duty"),
        action_id=stable_id("deadline-action", "body-access"),
        message_id=stable_id("hotline-story", "alpha/unanswered"),
        organisation_id=stable_id("organisation", "BRAVO"),
        kind="call",
        note="Called BRAVO's duty officer.",
        now=clock.now(),
    )
    db.commit()
    # The verification track: a complaint from its evidence to a closed case, with a denial of
    # access, both parties' sealed comments revealed, an escalation (every entry type once).
    tell_verification_story(db, lambda username: _viewer(db, username), clock)
    # The commercial track: a project, its milestones decided on a file, shipments passed and
    # refused (every entry type).
    tell_commercial_story(db, lambda username: _viewer(db, username), clock)
    # The diplomatic track: an agreement and an amendment signed by every signatory, a
    # milestone assessed after both parties' sealed comments, agreed minutes (every entry type).
    tell_diplomacy_story(db, lambda username: _viewer(db, username), clock)
    # The CoT gateway: a TAK client's certificate issued, an event it sent kept as received,
    # the certificate revoked (every entry type).
    tell_cot_story(db, lambda username: _viewer(db, username), clock, key_dir=settings.key_dir)


def _deconfliction_follow_ups(db: Session, clock: ManualClock) -> None:
    """What the deconfliction story leaves unwritten: ALPHA's FLASH medevac justified, a
    notification flagged in conflict whose conflict ALPHA notes, a no-strike list sent on
    the supervisor's demand and acknowledged by its party's focal point, the noted
    notification's missing acknowledgement escalated, and the notification withdrawn."""
    alpha = _viewer(db, "alpha.liaison")
    do_justify_notification(
        db,
        alpha,
        stable_id("deconfliction-story", "medevac-ALPHA"),
        justification="A wounded civilian could not wait for the 24 hours' notice.",
        now=clock.now(),
    )
    starts = clock.now() + timedelta(hours=80)
    noted = do_submit_notification(
        db,
        alpha,
        notification_id=uuid.uuid4(),
        kind="activity",
        category="engineering",
        geometry={"type": "Point", "coordinates": [35.757, 33.259]},
        buffer_m=500,
        starts_at=starts,
        ends_at=starts + timedelta(hours=4),
        description="Clearing a culvert beside Majdal Shams",
        participants=["Engineer section"],
        now=clock.now(),
    )
    do_note_conflicts(db, alpha, noted.id, note="Works on the road only, by day.", now=clock.now())
    [sent, *_others] = do_send_no_strike_lists(
        db, _viewer(db, "supervisor.chair"), request_id=uuid.uuid4(), now=clock.now()
    )
    party = db.get(Organisation, sent.party_id)
    assert party is not None
    focal = _viewer(db, "alpha.liaison" if party.slug == "ALPHA" else "bravo.liaison")
    do_acknowledge_no_strike_list(db, focal, list_id=sent.id, now=clock.now())
    # BRAVO never acknowledges the noted notification: an hour on (PRIORITY), the engine
    # escalates it; then ALPHA withdraws it.
    clock.advance(3601)
    do_escalate_due_notifications(db, now=clock.now())
    do_withdraw_notification(db, alpha, noted.id, reason="Postponed.", now=clock.now())
    db.commit()


def _audiences(db: Session) -> dict[int, set[tuple[str, str]]]:
    found: dict[int, set[tuple[str, str]]] = {}
    for index, kind, value in db.execute(
        select(LogAudience.entry_index, LogAudience.kind, LogAudience.value)
    ):
        found.setdefault(index, set()).add((kind, value))
    db.commit()
    return found


def _expected(reader: Viewer, entry_type: str, audience: set[tuple[str, str]]) -> bool:
    in_audience = (
        ("all", "") in audience
        or ("organisation", str(reader.organisation_id)) in audience
        or ("member", str(reader.member_id)) in audience
        or any(("role", role.value) in audience for role in reader.roles)
    )
    if entry_type.startswith(
        (
            "hotline.",
            "deescalation.",
            "deconfliction.",
            "verification.",
            "commercial.",
            "cot.event.",
        )
    ):
        return in_audience and bool(reader.roles & HOTLINE_READERS)
    if entry_type.startswith("intel."):
        return in_audience and bool(reader.roles & INTEL_READERS)
    if entry_type.startswith("diplomacy."):
        return in_audience and bool(reader.roles & DIPLOMACY_READERS)
    return in_audience


ReadPath = Callable[[TestClient, dict[str, str], list[int]], set[int]]


def _via_api_list(client: TestClient, headers: dict[str, str], indexes: list[int]) -> set[int]:
    readable: set[int] = set()
    before: int | None = None
    while True:
        params = {"limit": 500, **({"before": before} if before is not None else {})}
        page = client.get("/api/v1/log/entries", params=params, headers=headers).json()
        readable |= {entry["index"] for entry in page if entry["body"] is not None}
        assert all(entry["body"] is not None for entry in page), "the list shows only bodies"
        if len(page) < 500:
            return readable
        before = page[-1]["index"]


def _via_api_entry(client: TestClient, headers: dict[str, str], indexes: list[int]) -> set[int]:
    readable = set()
    for index in indexes:
        entry = client.get(f"/api/v1/log/entries/{index}", headers=headers).json()
        if entry["body"] is not None:
            assert entry["salt"] is not None
            readable.add(index)
    return readable


def _via_record_page(client: TestClient, headers: dict[str, str], indexes: list[int]) -> set[int]:
    readable: set[int] = set()
    before: int | None = None
    while True:
        params = {"before": before} if before is not None else {}
        html = client.get("/record", params=params, headers=headers).text
        rows = _ROW.findall(html)
        if not rows:
            return readable
        for index, salt in rows:
            assert salt, f"the Record page listed entry {index} without its body"
            readable.add(int(index))
        before = int(rows[-1][0])


def _via_type_search(client: TestClient, headers: dict[str, str], indexes: list[int]) -> set[int]:
    """The Record page's search by type: the filter must not widen what is shown."""
    readable: set[int] = set()
    for entry_type in known_entry_types():
        before: int | None = None
        while True:
            params: dict[str, str | int] = {"type": entry_type}
            if before is not None:
                params["before"] = before
            html = client.get("/record", params=params, headers=headers).text
            rows = _ROW.findall(html)
            if not rows:
                break
            readable |= {int(index) for index, _salt in rows}
            before = int(rows[-1][0])
    return readable


READ_PATHS: dict[str, ReadPath] = {
    "api-list": _via_api_list,
    "api-entry": _via_api_entry,
    "record-page": _via_record_page,
    "record-search": _via_type_search,
}


def _credentials(client: TestClient, username: str) -> dict[str, str]:
    password = "another-long-password" if username == "alpha.analyst" else DEMO_PASSWORD
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}", "Accept": "text/html"}


# TAXII's own entries (an import at the console, a withdrawal through a collection) need a
# TAXII collection to come from; tests/intel/taxii checks who reads them, through intel's
# read permission, as these readers read intelligence. geo.feature.defined is in older logs
# only (zones defined one by one before geometry versions): nothing writes it any more, and
# its audience is everyone's, as the geometry versions' entries are.
ELSEWHERE = frozenset(
    {
        "intel.taxii.imported",
        "intel.taxii.withdrawn",
        "geo.feature.defined",
    }
)


@pytest.mark.long
def test_every_reader_sees_exactly_the_bodies_their_role_and_audience_allow(
    db: Session, client: TestClient, every_kind_of_entry: None
) -> None:
    """One log with every entry type (built once: it tells every track's story), then each
    reader on each read path; the problems of all readers are reported together."""
    present = set(db.scalars(select(LogEntry.entry_type).distinct()))
    assert sorted(set(known_entry_types()) - present - ELSEWHERE) == []
    assert set(known_entry_types()) >= ELSEWHERE

    types = {index: kind for index, kind in db.execute(select(LogEntry.index, LogEntry.entry_type))}
    db.commit()
    audiences = _audiences(db)
    # The single-entry path asks once per entry: it asks for one entry of each kind (its type
    # and audience: what the expectation depends on), the first and the last, not for all.
    kinds: dict[tuple[str, frozenset[tuple[str, str]]], list[int]] = {}
    for index, kind in sorted(types.items()):
        kinds.setdefault((kind, frozenset(audiences.get(index, set()))), []).append(index)
    each_kind = sorted({i for found in kinds.values() for i in (found[0], found[-1])})
    problems = []
    for username in sorted(READERS):
        reader = _viewer(db, username)
        assert READERS[username] in reader.roles
        headers = _credentials(client, username)
        every = {i for i, t in types.items() if _expected(reader, t, audiences.get(i, set()))}
        for path, read in READ_PATHS.items():
            asked = each_kind if path == "api-entry" else sorted(types)
            expected = every & set(asked)
            shown = read(client, headers, asked) & set(asked)
            for index in sorted(shown - expected):
                problems.append(
                    f"{path} shows {types[index]} at {index}, not released to {username}"
                )
            for index in sorted(expected - shown):
                problems.append(f"{path} hides {types[index]} at {index}, released to {username}")
    assert problems == []

    # The audit's finding: the operator's organisation is in every channel's audience, yet
    # the operator reads no hotline body on any path.
    operator = _credentials(client, "cell.admin")
    hotline = {i for i, t in types.items() if t.startswith("hotline.")}
    listed = client.get(
        "/api/v1/log/entries", params={"type": "hotline.message.sent"}, headers=operator
    ).json()
    assert hotline
    assert listed == []
    for path in READ_PATHS.values():
        assert path(client, operator, sorted(hotline)) & hotline == set()
