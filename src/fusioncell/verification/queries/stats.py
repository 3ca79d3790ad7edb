"""Statistics per party with one method for all (R13): the same figures, computed by the
same function, over the cases the viewer reads. Times are in hours, from the complaint's
filing to its triage, the verifier's first site visit and the finding issued, over the
cases against the party (received); a median and a 90th percentile (nearest rank)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deescalation.queries import directory
from fusioncell.verification.models import Case, Outcome
from fusioncell.verification.queries.cases import list_cases, list_incidents

LIMIT = 100_000


@dataclass(frozen=True)
class Times:
    count: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class PartyStatistics:
    party: str
    filed: int
    received: int
    outcomes: dict[str, int]
    to_triage: Times
    to_site_visit: Times
    to_finding: Times
    access_denials: int
    remedies_requested: int
    remedies_verified: int
    open: int = field(default=0)


def _percentile(values: Sequence[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return round(ordered[rank - 1], 3)


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return round(ordered[middle], 3)
    return round((ordered[middle - 1] + ordered[middle]) / 2, 3)


def _times(pairs: Sequence[tuple[datetime, datetime | None]]) -> Times:
    hours = [(end - start).total_seconds() / 3600 for start, end in pairs if end is not None]
    return Times(len(hours), _median(hours), _percentile(hours, 0.9))


def party_statistics(
    cases: Sequence[Case], party_id: uuid.UUID, slug: str, denials: int
) -> PartyStatistics:
    """The one method: every party's figures come from this function."""
    received = [c for c in cases if c.against_id == party_id]
    outcomes = {o.value: 0 for o in Outcome}
    for c in received:
        if c.outcome is not None:
            outcomes[c.outcome] += 1
    return PartyStatistics(
        party=slug,
        filed=sum(1 for c in cases if c.organisation_id == party_id),
        received=len(received),
        outcomes=outcomes,
        to_triage=_times([(c.filed_at, c.triaged_at) for c in received]),
        to_site_visit=_times([(c.filed_at, c.visited_at) for c in received]),
        to_finding=_times([(c.filed_at, c.issued_at) for c in received]),
        access_denials=denials,
        remedies_requested=sum(1 for c in cases if c.remedy_party_id == party_id),
        remedies_verified=sum(
            1 for c in cases if c.remedy_party_id == party_id and c.remedy_verified_at is not None
        ),
        open=sum(1 for c in received if c.closed_at is None and c.state != "dismissed"),
    )


def statistics(db: Session, viewer: Viewer) -> list[PartyStatistics]:
    """Every party's figures, by slug, over the cases the viewer reads."""
    cases = list_cases(db, viewer, limit=LIMIT)
    incidents = list_incidents(db, viewer)
    parties = [o for o in directory(db, viewer).by_slug.values() if o.kind == "party"]
    return [
        party_statistics(cases, p.id, p.slug, sum(1 for i in incidents if i.party_id == p.id))
        for p in sorted(parties, key=lambda o: o.slug)
    ]
