"""R7, the verifier's inspection schedule, as a pure function of the geometry in force, the
inspections done and the time: nothing here reads the database or the clock.

What is inspected is each *zone and side*: each side's areas of limitation, and the area of
separation once from each side (the sides are those the areas of limitation name). Each is
due ``interval`` (the rules' ``inspection_interval_days``) after its last completed
inspection, or after ``since`` (the freeze, T0) while it has none. An inspection to which
access was denied is no inspection: the zone stays due, and the denial is an incident of its
own (R12).

A request from a party is due ``request_deadline`` (``inspection_request_hours``) after it
was logged, and carried out by the report that names it, whatever that report's outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fusioncell.deescalation import engine

# How long before its due time a zone and side is shown as due soon (presentation only).
DUE_SOON = timedelta(days=3)
INSPECTED_KINDS = ("separation", "limitation")


@dataclass(frozen=True)
class Item:
    """A zone and side the verifier inspects."""

    zone: str
    side: str
    kind: str  # separation | limitation
    band: str | None


@dataclass(frozen=True)
class Done:
    """A completed inspection of a zone and side."""

    zone: str
    side: str
    inspected_at: datetime


@dataclass(frozen=True)
class Due:
    item: Item
    last_inspected: datetime | None
    due_by: datetime
    overdue: bool
    due_soon: bool

    @property
    def state(self) -> str:
        return "overdue" if self.overdue else "due-soon" if self.due_soon else "ok"


def _band_start(band: str | None) -> float:
    try:
        return float((band or "").split("-")[0])
    except ValueError:
        return float("inf")


def items_of(geometry: engine.Geometry) -> list[Item]:
    """Every zone and side to inspect, from the geometry in force: by side, the area of
    separation first, then the bands outward."""
    sides = sorted({z.side for z in geometry.zones if z.kind == "limitation" and z.side})
    items: list[Item] = []
    for zone in geometry.zones:
        if zone.kind == "separation":
            items.extend(Item(zone.id, side, zone.kind, None) for side in sides)
        elif zone.kind == "limitation" and zone.side:
            items.append(Item(zone.id, zone.side, zone.kind, zone.band))
    return sorted(
        items,
        key=lambda i: (i.side, INSPECTED_KINDS.index(i.kind), _band_start(i.band), i.zone),
    )


def find_item(geometry: engine.Geometry, zone: str, side: str | None) -> Item | None:
    """The zone and side named, if the verifier inspects it; a zone with a side of its own
    needs no side (or its own)."""
    for item in items_of(geometry):
        if item.zone == zone and (side is None or side == item.side):
            if side is None and item.kind == "separation":
                return None  # the area of separation is inspected from a side: name it
            return item
    return None


def schedule(
    items: Sequence[Item],
    done: Iterable[Done],
    *,
    since: datetime,
    interval: timedelta,
    now: datetime,
) -> list[Due]:
    """Each zone and side with its last inspection at or before ``now`` and its due time."""
    last: dict[tuple[str, str], datetime] = {}
    for inspection in done:
        if inspection.inspected_at > now:
            continue
        key = (inspection.zone, inspection.side)
        if key not in last or inspection.inspected_at > last[key]:
            last[key] = inspection.inspected_at
    rows = []
    for item in items:
        latest = last.get((item.zone, item.side))
        due_by = (latest if latest is not None else since) + interval
        rows.append(
            Due(
                item=item,
                last_inspected=latest,
                due_by=due_by,
                overdue=now > due_by,
                due_soon=now <= due_by <= now + DUE_SOON,
            )
        )
    return rows


@dataclass(frozen=True)
class RequestState:
    """Where a request stands: open (due or overdue) or carried out by a report."""

    status: str  # open | completed | access_denied
    overdue: bool  # open past its due time, or carried out after it
    carried_out_at: datetime | None


def request_state(
    due_at: datetime, *, outcome: str | None, inspected_at: datetime | None, now: datetime
) -> RequestState:
    if outcome is None or inspected_at is None:
        return RequestState("open", now > due_at, None)
    return RequestState(outcome, inspected_at > due_at, inspected_at)
