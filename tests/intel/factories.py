"""Small factories for intelligence tests: STIX bundles, and reports submitted, released and
answered through the actions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.intel import stix
from fusioncell.intel.actions.reports import (
    Observation,
    do_release_report,
    do_respond_to_report,
    do_submit_observation,
    do_submit_report,
)
from fusioncell.intel.models import Report

CREATED = "2026-01-06T08:00:00.000Z"
SOURCE = "identity--1d1b8a1e-3c54-4e39-8c1c-50a1c5d5b001"


def stix_id(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": stix_id("bundle"), "objects": list(objects)}


def identity(name: str = "Patrol 7", *, id_: str = SOURCE) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": id_,
        "created": CREATED,
        "modified": CREATED,
        "name": name,
        "identity_class": "group",
    }


def location(lat: float = 33.1234, lon: float = 35.8567, **extra: Any) -> dict[str, Any]:
    return {
        "type": "location",
        "spec_version": "2.1",
        "id": stix_id("location"),
        "created": CREATED,
        "modified": CREATED,
        "created_by_ref": SOURCE,
        "latitude": lat,
        "longitude": lon,
        **extra,
    }


def indicator(
    name: str = "Convoy staging", *, id_: str | None = None, modified: str = CREATED, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": id_ or stix_id("indicator"),
        "created": CREATED,
        "modified": modified,
        "created_by_ref": SOURCE,
        "name": name,
        "description": extra.pop("description", "Trucks gathering near the crossing"),
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": CREATED,
        **extra,
    }


def located_report(
    title: str = "Artillery moved forward", lat: float = 33.1234, lon: float = 35.8567
) -> dict[str, Any]:
    place = location(lat, lon, name="Hill 402")
    return bundle(
        identity(),
        place,
        {
            "type": "report",
            "spec_version": "2.1",
            "id": stix_id("report"),
            "created": CREATED,
            "modified": CREATED,
            "created_by_ref": SOURCE,
            "name": title,
            "description": "Two batteries seen moving towards the line at dawn",
            "published": CREATED,
            "report_types": ["observed-data"],
            "object_refs": [place["id"]],
        },
    )


def submit(
    db: Session,
    actor: Viewer,
    clock: ManualClock,
    data: dict[str, Any] | None = None,
    *,
    release_to: tuple[str, ...] = (),
    tlp: str = "amber",
    grade: str | None = "B2",
    report_id: uuid.UUID | None = None,
) -> Report:
    return do_submit_report(
        db,
        actor,
        report_id=report_id or uuid.uuid4(),
        bundle=data if data is not None else located_report(),
        release_to=list(release_to),
        tlp=tlp,
        grade=grade,
        now=clock.now(),
    )


def observe(
    db: Session, actor: Viewer, clock: ManualClock, *, release_to: tuple[str, ...] = ()
) -> Report:
    return do_submit_observation(
        db,
        actor,
        report_id=uuid.uuid4(),
        observation=Observation(
            title="Checkpoint moved",
            description="The checkpoint at the junction moved 300 m east overnight",
            latitude=33.2001,
            longitude=35.8102,
            observed_at=datetime(2026, 1, 6, 5, 30, tzinfo=UTC),
            place="Junction 12",
        ),
        release_to=list(release_to),
        grade="C3",
        now=clock.now(),
    )


def release(
    db: Session,
    actor: Viewer,
    clock: ManualClock,
    report: Report,
    *,
    release_to: tuple[str, ...] = ("BRAVO",),
    sanitisation: stix.Sanitisation | None = None,
) -> Report:
    return do_release_report(
        db,
        actor,
        release_id=uuid.uuid4(),
        report_id=report.id,
        release_to=list(release_to),
        sanitisation=sanitisation or stix.Sanitisation(),
        now=clock.now(),
    )


def dispute(
    db: Session,
    actor: Viewer,
    clock: ManualClock,
    report: Report,
    explanation: str = "No batteries there",
) -> Report:
    return do_respond_to_report(
        db,
        actor,
        response_id=uuid.uuid4(),
        report_id=report.id,
        opinion="strongly-disagree",
        explanation=explanation,
        now=clock.now(),
    )
