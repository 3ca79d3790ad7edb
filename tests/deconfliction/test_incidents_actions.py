"""Incidents and early warning through their actions: the rows, the entries and their
audiences, the events, the hotline messages that carry an alert, and refusals that write
nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.deconfliction.factories import notify
from tests.deconfliction.protection_factories import (
    FAR_FROM_SUWAYDA,
    NEAR_SUWAYDA,
    agree,
    agreed_community,
    community,
    log_size,
    point,
    polygon,
)

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.deconfliction.actions.early_warning import (
    carry_alerts,
    do_acknowledge_alert,
    do_scan_early_warning,
)
from fusioncell.deconfliction.actions.incidents import Reported, do_report_incident
from fusioncell.deconfliction.actions.registry import do_propose_place
from fusioncell.deconfliction.entries import ProtectionEntry
from fusioncell.deconfliction.models.incidents import Alert, AlertAck, Incident
from fusioncell.deconfliction.models.registry import ProtectedPlace
from fusioncell.deconfliction.queries.incidents import list_alerts, list_incidents
from fusioncell.deescalation.actions.observations import do_record_observations
from fusioncell.errors import Forbidden, IdempotencyConflict, InvalidInput, NotFound
from fusioncell.hotline import forms
from fusioncell.hotline.actions.channels import bilateral_channel_id
from fusioncell.hotline.models import Message
from fusioncell.ledger.models import EntryBody, LogAudience, LogEntry
from fusioncell.live.models import Event
from fusioncell.scenario.demo import ORGANISATIONS, stable_id

EVERYONE = {str(stable_id("organisation", o.slug)) for o in ORGANISATIONS}
ALPHA = stable_id("organisation", "ALPHA")
BRAVO = stable_id("organisation", "BRAVO")
EVIDENCE = [{"sha256": "ab" * 32, "name": "photo-1.jpg", "size": 123456}]
# A community beside the line (around Hader), and a point about 2.2 km east of it.
HADER = [[35.82, 33.27], [35.84, 33.27], [35.84, 33.29], [35.82, 33.29], [35.82, 33.27]]
EAST_OF_HADER = (35.864, 33.28)


def _audience(db: Session, index: int) -> set[str]:
    return set(db.scalars(select(LogAudience.value).where(LogAudience.entry_index == index)))


def report(
    db: Session,
    actor: Viewer,
    *,
    now: datetime,
    target: ProtectedPlace | str,
    affects: str = "community",
    kind: str = "threat",
    incident_id: uuid.UUID | None = None,
    **more: Any,
) -> Reported:
    return do_report_incident(
        db,
        actor,
        incident_id=incident_id or uuid.uuid4(),
        kind=kind,
        affects=affects,
        target=str(target.id) if isinstance(target, ProtectedPlace) else target,
        occurred_at=more.pop("occurred_at", now - timedelta(hours=1)),
        description=more.pop("description", "Armed men at the northern entrance"),
        evidence=more.pop("evidence", EVIDENCE),
        now=now,
        **more,
    )


def test_a_convoy_denied_access_is_an_incident_attributed_to_the_party_that_denied_it(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    hum = member("hum1.coordinator")
    convoy = notify(db, hum, now=clock.now(), kind="movement", ahead=timedelta(hours=50))
    db.commit()
    reported = report(
        db,
        hum,
        now=clock.now() + timedelta(hours=51),
        target=str(convoy.id),
        affects="movement",
        kind="access_denied",
        denied="convoy",
        attributed_to="BRAVO",
        occurred_at=clock.now() + timedelta(hours=50, minutes=30),
    )
    incident = db.get(Incident, reported.incident.id)
    assert incident is not None
    assert (incident.kind, incident.affects, incident.denied, incident.attributed_to) == (
        "access_denied",
        "movement",
        "convoy",
        BRAVO,
    )
    assert incident.target_id == str(convoy.id) and incident.evidence[0]["sha256"] == "ab" * 32
    entry = db.get(LogEntry, incident.log_index)
    assert entry is not None and entry.entry_type == ProtectionEntry.INCIDENT_REPORTED
    assert _audience(db, incident.log_index) == EVERYONE
    [event] = db.scalars(select(Event).where(Event.kind == "deconfliction-incident")).all()
    assert (event.subject, event.log_index) == (str(incident.id), incident.log_index)
    # The route's own place: no community in force, so no alert.
    assert reported.alerts == []
    assert [i.id for i in list_incidents(db, member("alpha.liaison"), attributed_to=BRAVO)] == [
        incident.id
    ]


def test_the_verifier_reports_a_denial_of_its_own_access_at_a_site_of_the_geometry(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    reported = report(
        db,
        member("verifier.lead"),
        now=clock.now(),
        target="quneitra-crossing",
        affects="site",
        kind="access_denied",
        denied="verifier",
        attributed_to="ALPHA",
    )
    assert reported.incident.attributed_to == ALPHA
    assert reported.incident.target_name == "Quneitra crossing"
    assert (round(reported.incident.lat, 4), round(reported.incident.lon, 4)) == (
        33.1256,
        35.8239,
    )


@pytest.mark.parametrize(
    ("more", "field"),
    [
        ({"kind": "access_denied", "denied": "verifier"}, "attributed_to"),
        ({"kind": "access_denied", "attributed_to": "ALPHA"}, "attributed_to"),
        ({"kind": "access_denied", "attributed_to": "ALPHA", "denied": "convoy"}, "affects"),
        (
            {"kind": "access_denied", "attributed_to": "HUM-1", "denied": "verifier"},
            "attributed_to",
        ),
        ({"kind": "threat", "denied": "verifier"}, "denied"),
        ({"kind": "looting"}, "kind"),
        ({"affects": "region"}, "affects"),
        ({"target": "site-nowhere"}, "target"),
        ({"affects": "site", "target": None}, "target"),  # the community is not a site
        ({"description": "  "}, "description"),
        ({"description": "d" * 2001}, "description"),
        ({"evidence": [{"sha256": "AB" * 32}]}, "evidence"),
        ({"evidence": [{"sha256": "ab" * 32, "size": -1}]}, "evidence"),
        ({"evidence": [{"sha256": "ab" * 32, "colour": "red"}]}, "evidence"),
        ({"evidence": [{"sha256": "ab" * 32}] * 21}, "evidence"),
        ({"location": point((200.0, 32.0))}, "location"),
        ({"location": {"type": "LineString", "coordinates": [[36, 32], [36.1, 32]]}}, "location"),
        ({"occurred_at": "future"}, "occurred_at"),
        ({"occurred_at": "naive"}, "occurred_at"),
        ({"occurred_at": "ancient"}, "occurred_at"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    more: dict[str, Any],
    field: str,
) -> None:
    place = community(db, member("hum1.coordinator"), now=clock.now())
    db.commit()
    now = clock.now()
    times = {
        "future": now + timedelta(hours=1),
        "naive": now.replace(tzinfo=None),
        "ancient": now - timedelta(days=400),
    }
    if "occurred_at" in more:
        more["occurred_at"] = times[more["occurred_at"]]
    target = more.pop("target", place)
    size = log_size(db)
    with pytest.raises(InvalidInput) as raised:
        report(db, member("hum1.coordinator"), now=now, target=target or place, **more)
    assert raised.value.extensions["field"] == field
    db.rollback()
    assert log_size(db) == size and db.scalars(select(Incident)).all() == []


@pytest.mark.parametrize(
    "username", ["alpha.analyst", "alpha.duty", "host.observer", "supervisor.chair", "cell.admin"]
)
def test_only_humanitarians_the_verifier_and_party_liaisons_report(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock, username: str
) -> None:
    place = community(db, member("hum1.coordinator"), now=clock.now())
    db.commit()
    size = log_size(db)
    with pytest.raises(Forbidden):
        report(db, member(username), now=clock.now(), target=place)
    db.rollback()
    assert log_size(db) == size


def test_a_retry_returns_the_first_report_and_a_different_one_is_a_conflict(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    place = community(db, member("hum1.coordinator"), now=clock.now())
    alpha = member("alpha.liaison")
    incident_id = uuid.uuid4()
    first = report(db, alpha, now=clock.now(), target=place, incident_id=incident_id)
    size = log_size(db)
    again = report(db, alpha, now=clock.now(), target=place, incident_id=incident_id)
    assert again.incident.id == first.incident.id and log_size(db) == size
    with pytest.raises(IdempotencyConflict):
        report(db, alpha, now=clock.now(), target=place, incident_id=incident_id, kind="attack")
    db.rollback()
    assert log_size(db) == size


# -- early warning --------------------------------------------------------------------------


def test_an_incident_near_a_community_in_force_raises_an_alert_to_those_concerned(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    place = agreed_community(db, member, now=clock.now())
    reported = report(
        db,
        member("hum1.coordinator"),
        now=clock.now(),
        target=place,
        kind="attack",
        attributed_to="BRAVO",
        location=point(NEAR_SUWAYDA),
    )
    [alert] = reported.alerts
    row = db.get(Alert, alert.id)
    assert row is not None
    assert (row.trigger, row.source_id, row.community_id) == (
        "incident",
        str(reported.incident.id),
        place.id,
    )
    assert 2500 < row.distance_m < 3000 and row.precedence == "IMMEDIATE"
    assert row.ack_deadline == row.raised_at + timedelta(minutes=10)
    entry = db.get(LogEntry, row.log_index)
    assert entry is not None and entry.entry_type == ProtectionEntry.ALERT_RAISED
    # The cell's own statement (the log's key), right after the report.
    assert row.log_index == reported.incident.log_index + 1 and not entry.custodial
    recipients = {str(stable_id("organisation", s)) for s in ("SUPERVISOR", "HUM-1", "BRAVO")}
    assert _audience(db, row.log_index) == recipients
    # Only its recipients read it.
    assert [a.id for a in list_alerts(db, member("bravo.duty"))] == [row.id]
    assert list_alerts(db, member("alpha.liaison")) == []
    assert list_alerts(db, member("verifier.lead")) == []
    events = db.scalars(select(Event).where(Event.kind == "deconfliction-alert")).all()
    assert [(e.subject, e.payload["step"]) for e in events] == [(str(row.id), "raised")]


def test_no_alert_far_from_a_community_or_near_one_not_yet_in_force(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    hum = member("hum1.coordinator")
    proposed = community(db, hum, now=clock.now())
    near = report(db, hum, now=clock.now(), target=proposed, location=point(NEAR_SUWAYDA))
    assert near.alerts == []
    agreed = agreed_community(db, member, now=clock.now(), name="Suwayda too")
    far = report(db, hum, now=clock.now(), target=agreed, location=point(FAR_FROM_SUWAYDA))
    assert far.alerts == []


def test_the_hotline_carries_an_alert_to_each_party_concerned_once(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    place = agreed_community(db, member, now=clock.now())
    reported = report(db, member("verifier.lead"), now=clock.now(), target=place)
    [alert] = reported.alerts
    # No party named: every party is concerned.
    assert carry_alerts(db, reported.alerts, now=clock.now()) == 2
    messages = db.scalars(select(Message).where(Message.form == "early_warning_incident")).all()
    assert sorted(m.channel_id for m in messages) == sorted(
        [bilateral_channel_id(ALPHA), bilateral_channel_id(BRAVO)]
    )
    for message in messages:
        assert message.precedence == "IMMEDIATE" and message.sender_id is None
        assert message.fields is not None and message.fields["alert"] == str(alert.id)
        entry = db.get(LogEntry, message.log_index)
        assert entry is not None and not entry.custodial  # the log's key, not a member's
    carry_alerts(db, reported.alerts, now=clock.now())
    assert len(db.scalars(select(Message).where(Message.form.like("early_warning%"))).all()) == 2
    text = {
        language: forms.render(messages[0].form, messages[0].fields, None, language)
        for language in ("en", "ar", "he")
    }
    assert "Suwayda" in text["en"] and "Early warning" in text["en"]
    assert "Suwayda" in text["ar"] and "إنذار مبكر" in text["ar"]
    assert "Suwayda" in text["he"] and "התרעה מוקדמת" in text["he"]


def test_each_recipient_acknowledges_receipt_once_and_others_are_refused(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    place = agreed_community(db, member, now=clock.now())
    [alert] = report(
        db, member("hum1.coordinator"), now=clock.now(), target=place, attributed_to="ALPHA"
    ).alerts
    db.commit()
    for username, error in (
        ("bravo.liaison", NotFound),  # BRAVO is not concerned
        ("verifier.lead", Forbidden),
        ("host.observer", Forbidden),
        ("alpha.analyst", Forbidden),
    ):
        with pytest.raises(error):
            do_acknowledge_alert(db, member(username), alert_id=alert.id, now=clock.now())
        db.rollback()
    acks = [
        do_acknowledge_alert(db, member(u), alert_id=alert.id, now=clock.now())
        for u in ("hum1.coordinator", "supervisor.duty", "alpha.duty")
    ]
    assert {a.organisation_id for a in acks} == {
        stable_id("organisation", s) for s in ("HUM-1", "SUPERVISOR", "ALPHA")
    }
    entry = db.get(LogEntry, acks[0].log_index)
    assert entry is not None and entry.entry_type == ProtectionEntry.ALERT_ACKNOWLEDGED
    size = log_size(db)
    again = do_acknowledge_alert(db, member("alpha.liaison"), alert_id=alert.id, now=clock.now())
    assert again.log_index == acks[2].log_index and log_size(db) == size
    assert len(db.scalars(select(AlertAck)).all()) == 3


def test_an_observation_of_holdings_near_a_community_raises_an_alert_for_the_party_observed(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    hader = agree(
        db,
        member,
        do_propose_place(
            db,
            member("hum1.coordinator"),
            place_id=uuid.uuid4(),
            kind="community",
            name="Hader",
            geometry=polygon(HADER),
            population="Druze residents of Hader",
            now=clock.now(),
        ),
        now=clock.now(),
    )
    do_record_observations(
        db,
        member("verifier.lead"),
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": "t-1",
                    "geometry": point(EAST_OF_HADER),
                    "properties": {
                        "unit": "3rd armoured",
                        "party": "BRAVO",
                        "category": "tank",
                        "count": 12,
                        "observed_at": "2026-01-06T07:00:00Z",
                        "source": "inspection",
                    },
                }
            ],
        },
        now=clock.now(),
    )
    scan = do_scan_early_warning(db, after=0, now=clock.now())
    [alert] = scan.alerts
    assert (alert.trigger, alert.community_id) == ("observation", hader.id)
    assert 1500 < alert.distance_m < 3000
    recipients = {str(stable_id("organisation", s)) for s in ("SUPERVISOR", "HUM-1", "BRAVO")}
    assert _audience(db, alert.log_index) == recipients
    # The alert says how near, never what was held.
    body = db.scalar(select(EntryBody.body).where(EntryBody.entry_index == alert.log_index))
    assert body is not None and "Hader" in body
    assert "tank" not in body and "armoured" not in body and '"count"' not in body
    # Looking again from the start raises nothing twice.
    again = do_scan_early_warning(db, after=0, now=clock.now())
    assert again.alerts == [] and again.cursor >= scan.cursor


def test_a_notified_military_activity_near_a_community_raises_an_alert_for_its_party(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    hader = agree(
        db,
        member,
        do_propose_place(
            db,
            member("hum1.coordinator"),
            place_id=uuid.uuid4(),
            kind="community",
            name="Hader",
            geometry=polygon(HADER),
            population="Druze residents of Hader",
            now=clock.now(),
        ),
        now=clock.now(),
    )
    activity = notify(db, member("bravo.liaison"), now=clock.now(), geometry=point(EAST_OF_HADER))
    # A humanitarian movement nearby is no military activity: no alert for it.
    notify(
        db,
        member("hum1.coordinator"),
        now=clock.now(),
        kind="movement",
        geometry={"type": "LineString", "coordinates": [[35.85, 33.27], [35.87, 33.29]]},
        ahead=timedelta(hours=50),
    )
    [alert] = do_scan_early_warning(db, after=0, now=clock.now()).alerts
    assert (alert.trigger, alert.source_id, alert.community_id) == (
        "notification",
        str(activity.id),
        hader.id,
    )
    assert alert.occurred_at == activity.starts_at
    recipients = {str(stable_id("organisation", s)) for s in ("SUPERVISOR", "HUM-1", "BRAVO")}
    assert _audience(db, alert.log_index) == recipients


def test_a_partys_receipt_of_an_alert_acknowledges_the_hotline_message_that_carried_it(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    from fusioncell.deconfliction.actions.early_warning import (
        acknowledge_alert_and_its_hotline_message,
    )
    from fusioncell.hotline.models import Ack

    place = agreed_community(db, member, now=clock.now())
    [alert] = report(
        db, member("hum1.coordinator"), now=clock.now(), target=place, attributed_to="BRAVO"
    ).alerts
    carry_alerts(db, [alert], now=clock.now())
    [message] = db.scalars(select(Message).where(Message.form == "early_warning_incident")).all()
    duty = member("bravo.duty")
    acknowledge_alert_and_its_hotline_message(db, duty, alert_id=alert.id, now=clock.now())
    [ack] = db.scalars(select(Ack).where(Ack.message_id == message.id)).all()
    assert ack.organisation_id == BRAVO and ack.member_id == duty.member_id
    # Again: the alert's receipt is returned, the hotline's is not made twice.
    acknowledge_alert_and_its_hotline_message(db, duty, alert_id=alert.id, now=clock.now())
    assert len(db.scalars(select(Ack).where(Ack.message_id == message.id)).all()) == 1
    # HUM-1 has no hotline message to acknowledge: its receipt is the alert's alone.
    acknowledge_alert_and_its_hotline_message(
        db, member("hum1.coordinator"), alert_id=alert.id, now=clock.now()
    )
    assert len(db.scalars(select(AlertAck)).all()) == 2
