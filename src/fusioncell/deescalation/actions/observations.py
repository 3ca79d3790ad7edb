"""Recording observations: a FeatureCollection of holdings, one signed entry per batch.

Who may say what: a party declares only its own holdings and reports only the other party's;
inspections and sensor readings are the verifier's. Declarations and the verifier's counts
are released to both parties, the supervisor and the verifier; a report to its reporter and
the supervisor, and to whom else the reporter names (``release_to``).

Client-chosen feature ids make a retry harmless: a feature the author already recorded with
the same content is not written again, and the same id with other content is a conflict.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.db.transaction import atomic
from fusioncell.deescalation import engine
from fusioncell.deescalation.entries import DeescalationEntry
from fusioncell.deescalation.events import EventKind, emit_deescalation
from fusioncell.deescalation.features import ParsedCollection, ParsedFeature, parse_collection
from fusioncell.deescalation.models import (
    ObservationBatch,
    ObservationRelease,
    ObservationRow,
    Source,
)
from fusioncell.deescalation.policy import may_record, may_record_any, require
from fusioncell.deescalation.queries import (
    Directory,
    compliance,
    directory,
    find_own_observations,
    geometry_in_force,
    rules_in_force,
)
from fusioncell.errors import Forbidden, IdempotencyConflict, InvalidInput
from fusioncell.ledger.entries import audience, log_time
from fusioncell.ledger.record import ByLog, record
from fusioncell.text import N_

SOURCE_CLASS = {
    Source.DECLARATION: "declaration",
    Source.INSPECTION: "verification",
    Source.SENSOR: "verification",
    Source.REPORT: "report",
}
MAY_NOT_RECORD = N_(
    "Declarations and reports are a party liaison officer's; inspections and sensor readings "
    "the verifier's."
)
_OWN_ONLY = N_("A party declares only its own holdings.")
_OTHER_ONLY = N_("A party reports only the other party's holdings.")
_UNKNOWN_ORGANISATION = N_("release_to names an organisation the cell does not have.")


@dataclass(frozen=True)
class Recorded:
    batch_id: uuid.UUID | None
    log_index: int | None
    stored: int  # the request's features now stored
    new: int  # of which written by this request
    candidates: list[dict[str, Any]]


def _extent(geometry: engine.Geometry) -> tuple[float, float, float, float]:
    bounds = [zone.geometry.bounds for zone in geometry.zones]
    if not bounds:
        return (-180.0, -90.0, 180.0, 90.0)
    return (
        min(b[0] for b in bounds),
        min(b[1] for b in bounds),
        max(b[2] for b in bounds),
        max(b[3] for b in bounds),
    )


def _released_to(
    dir_: Directory, actor: Viewer, source: str, release_to: tuple[str, ...]
) -> list[str]:
    if source != Source.REPORT:
        return shared_release(dir_)
    unknown = [slug for slug in release_to if slug not in dir_.by_slug]
    if unknown:
        raise InvalidInput(_UNKNOWN_ORGANISATION, field="release_to", unknown=unknown)
    own = dir_.by_id[actor.organisation_id].slug
    return sorted({own, *(o.slug for o in dir_.supervisors()), *release_to})


def same_as_recorded(
    row: ObservationRow, feature: ParsedFeature, party_id: uuid.UUID, source: str
) -> bool:
    """Whether a retry's feature says what the row recorded."""
    return (
        row.unit,
        row.party_id,
        row.category,
        row.count,
        row.calibre_mm,
        row.range_km,
        row.lon,
        row.lat,
        row.observed_at,
        row.source,
    ) == (
        feature.unit,
        party_id,
        feature.category,
        feature.count,
        feature.calibre_mm,
        feature.range_km,
        feature.lon,
        feature.lat,
        feature.observed_at,
        source,
    )


def _raised(before: engine.Compliance, after: engine.Compliance) -> list[dict[str, Any]]:
    """The candidates the batch raised: new ones, and those whose value it changed."""
    earlier = {
        (c.rule, c.party, c.zone, c.category, c.measure): (c.value, c.exception)
        for c in before.candidates
    }
    return [
        c.as_dict()
        for c in after.candidates
        if earlier.get((c.rule, c.party, c.zone, c.category, c.measure)) != (c.value, c.exception)
    ]


def do_record_observations(db: Session, actor: Viewer, document: Any, *, now: datetime) -> Recorded:
    # Asked before the body is read: whoever records no source is refused whatever they sent.
    require(actor, may_record_any(actor), MAY_NOT_RECORD)
    dir_ = directory(db, actor)
    parsed = parse_observations(db, actor, dir_, document, now=now)
    require(actor, may_record(actor, parsed.source), MAY_NOT_RECORD)
    own = dir_.by_id[actor.organisation_id].slug
    for index, feature in enumerate(parsed.features):
        if parsed.source == Source.DECLARATION and feature.party != own:
            raise Forbidden(_OWN_ONLY, feature=index, field="party")
        if parsed.source == Source.REPORT and feature.party == own:
            raise Forbidden(_OTHER_ONLY, feature=index, field="party")
    released_to = _released_to(dir_, actor, parsed.source, parsed.release_to)
    before = compliance(db, actor, at=now, source=SOURCE_CLASS[Source(parsed.source)])
    with atomic(db):
        return write_observations(
            db, actor, dir_, parsed, released_to=released_to, before=before, now=now
        )


def parse_observations(
    db: Session, actor: Viewer, dir_: Directory, document: Any, *, now: datetime
) -> ParsedCollection:
    """The collection read and checked against the rules and the geometry in force."""
    rules = rules_in_force(db)
    return parse_collection(
        document,
        categories=rules.categories,
        parties=dir_.parties(),
        extent=_extent(geometry_in_force(db, actor)),
        now=now,
        freeze_at=rules.freeze_at,
    )


def shared_release(dir_: Directory) -> list[str]:
    """Who a declaration's or the verifier's observations are released to."""
    return [o.slug for o in dir_.shared()]


def write_observations(
    db: Session,
    actor: Viewer,
    dir_: Directory,
    parsed: ParsedCollection,
    *,
    released_to: list[str],
    before: engine.Compliance,
    now: datetime,
) -> Recorded:
    """The batch's rows, its signed entry, its live event and the cell's statement of the
    candidates it left, inside the calling action's transaction (not an action: recording
    observations and reporting an inspection share it). A feature the actor already
    recorded with the same content is not written again; the same id with other content is
    a conflict. ``before`` is the compliance the batch is compared with for the candidates
    it raised."""
    own = dir_.by_id[actor.organisation_id].slug
    source_class = SOURCE_CLASS[Source(parsed.source)]
    existing = find_own_observations(db, actor.member_id, [f.id for f in parsed.features])
    new: list[ParsedFeature] = []
    for index, feature in enumerate(parsed.features):
        earlier = existing.get(feature.id)
        if earlier is None:
            new.append(feature)
        elif not same_as_recorded(earlier, feature, dir_.by_slug[feature.party].id, parsed.source):
            raise IdempotencyConflict(feature=index, feature_id=feature.id)
    if not new:
        batches = {row.batch_id for row in existing.values()}
        first = next(iter(batches)) if len(batches) == 1 else None
        return Recorded(first, None, len(parsed.features), 0, [])
    batch_id = uuid.uuid4()
    ids = {feature.id: uuid.uuid4() for feature in new}
    grade = parsed.grade
    appended = record(
        db,
        author_of(actor),
        DeescalationEntry.OBSERVATIONS_RECORDED,
        {
            "batch": str(batch_id),
            "source": parsed.source,
            "grade": grade,
            "organisation": own,
            "member": str(actor.member_id),
            "released_to": released_to,
            "features": [f.as_feature(str(ids[f.id])) for f in new],
        },
        audience=audience(organisations=[dir_.by_slug[s].id for s in released_to]),
        now=now,
    )
    db.add(
        ObservationBatch(
            id=batch_id,
            author_id=actor.member_id,
            organisation_id=actor.organisation_id,
            source=parsed.source,
            reliability=grade[0] if grade else None,
            credibility=int(grade[1]) if grade else None,
            log_index=appended.index,
            recorded_at=appended.logged_at,
        )
    )
    db.flush()
    db.add_all(
        [
            ObservationRelease(batch_id=batch_id, organisation_id=dir_.by_slug[s].id)
            for s in released_to
        ]
    )
    db.add_all(
        [
            ObservationRow(
                id=ids[f.id],
                batch_id=batch_id,
                author_id=actor.member_id,
                feature_id=f.id,
                reporter_id=actor.organisation_id,
                party_id=dir_.by_slug[f.party].id,
                unit=f.unit,
                category=f.category,
                count=f.count,
                calibre_mm=f.calibre_mm,
                range_km=f.range_km,
                lon=f.lon,
                lat=f.lat,
                observed_at=f.observed_at,
                source=parsed.source,
            )
            for f in new
        ]
    )
    emit_deescalation(
        db,
        EventKind.OBSERVATIONS,
        subject=str(batch_id),
        log_index=appended.index,
        payload={"batch": str(batch_id), "source": parsed.source, "count": len(new)},
        now=now,
    )
    # What the batch left, at its log time and as the poster's organisation sees it.
    after = compliance(db, actor, at=appended.logged_at, source=source_class)
    record(
        db,
        ByLog(),
        DeescalationEntry.COMPLIANCE_COMPUTED,
        computed_body(
            batch=str(batch_id),
            batch_index=appended.index,
            organisation=own,
            at=appended.logged_at,
            source=source_class,
            result=after,
        ),
        audience=audience(organisations=[actor.organisation_id]),
        now=now,
    )
    return Recorded(
        batch_id, appended.index, len(parsed.features), len(new), _raised(before, after)
    )


def computed_body(
    *,
    batch: str,
    batch_index: int,
    organisation: str,
    at: datetime,
    source: str,
    result: engine.Compliance,
) -> dict[str, Any]:
    """The ``deescalation.compliance.computed`` body: the candidates without their evidence
    (the observations' ids are in the batches' bodies), released to the poster's
    organisation only, since they follow from what was released to it."""
    return {
        "batch": batch,
        "batch_index": batch_index,
        "organisation": organisation,
        "at": log_time(at),
        "source": source,
        "candidates": [
            {k: v for k, v in c.as_dict().items() if k != "observations"} for c in result.candidates
        ],
        "released_to": [organisation],
    }
