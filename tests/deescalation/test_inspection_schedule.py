"""R7's schedule as a pure function, against due times worked out by hand: every zone and
side is due 15 days after its last completed inspection, or after the freeze while it has
none; a request is due 48 hours after it was logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shapely.geometry import box

from fusioncell.deescalation import engine
from fusioncell.deescalation.inspections import (
    Done,
    Item,
    find_item,
    items_of,
    request_state,
    schedule,
)

T0 = datetime(2026, 1, 6, tzinfo=UTC)
FIFTEEN_DAYS = timedelta(days=15)
SEPARATION = Item("area-of-separation", "ALPHA", "separation", None)
ALPHA_0_10 = Item("limitation-alpha-0-10", "ALPHA", "limitation", "0-10")


def _zone(zone_id: str, kind: str, side: str | None, band: str | None, x: float) -> engine.Zone:
    return engine.Zone(zone_id, kind, side, band, box(x, 0, x + 1, 1))


def _geometry() -> engine.Geometry:
    # Out of order on purpose, with a sector (not inspected on the schedule).
    return engine.Geometry.of(
        [
            _zone("limitation-bravo-10-20", "limitation", "BRAVO", "10-20", 4),
            _zone("sector-s", "sector", "BRAVO", None, 6),
            _zone("limitation-alpha-0-10", "limitation", "ALPHA", "0-10", -2),
            _zone("area-of-separation", "separation", None, None, 0),
            _zone("limitation-bravo-0-10", "limitation", "BRAVO", "0-10", 2),
            _zone("limitation-alpha-10-20", "limitation", "ALPHA", "10-20", -4),
        ]
    )


def test_each_side_inspects_its_bands_and_its_side_of_the_area_of_separation() -> None:
    assert [(i.side, i.zone) for i in items_of(_geometry())] == [
        ("ALPHA", "area-of-separation"),
        ("ALPHA", "limitation-alpha-0-10"),
        ("ALPHA", "limitation-alpha-10-20"),
        ("BRAVO", "area-of-separation"),
        ("BRAVO", "limitation-bravo-0-10"),
        ("BRAVO", "limitation-bravo-10-20"),
    ]


def test_a_zone_is_named_with_its_own_side_and_the_area_of_separation_with_a_side() -> None:
    geometry = _geometry()
    assert find_item(geometry, "limitation-alpha-0-10", None) == ALPHA_0_10
    assert find_item(geometry, "limitation-alpha-0-10", "ALPHA") == ALPHA_0_10
    assert find_item(geometry, "limitation-alpha-0-10", "BRAVO") is None
    assert find_item(geometry, "area-of-separation", "ALPHA") == SEPARATION
    assert find_item(geometry, "area-of-separation", None) is None
    assert find_item(geometry, "sector-s", None) is None
    assert find_item(geometry, "nowhere", "ALPHA") is None


def test_a_zone_never_inspected_is_due_fifteen_days_after_the_freeze() -> None:
    at = datetime(2026, 1, 20, 23, 59, tzinfo=UTC)
    [due] = schedule([SEPARATION], [], since=T0, interval=FIFTEEN_DAYS, now=at)
    assert due.last_inspected is None
    assert due.due_by == datetime(2026, 1, 21, tzinfo=UTC)
    assert (due.overdue, due.due_soon, due.state) == (False, True, "due-soon")
    [late] = schedule(
        [SEPARATION],
        [],
        since=T0,
        interval=FIFTEEN_DAYS,
        now=datetime(2026, 1, 21, 0, 1, tzinfo=UTC),
    )
    assert (late.overdue, late.due_soon, late.state) == (True, False, "overdue")


def test_the_last_inspection_of_the_zone_and_side_counts_and_not_one_after_now() -> None:
    done = [
        Done("limitation-alpha-0-10", "ALPHA", datetime(2026, 2, 1, 9, tzinfo=UTC)),
        Done("limitation-alpha-0-10", "ALPHA", datetime(2026, 2, 10, 12, tzinfo=UTC)),
        Done("limitation-alpha-0-10", "ALPHA", datetime(2026, 1, 20, tzinfo=UTC)),
        # Another side of the same zone id, and an inspection after the time asked about.
        Done("area-of-separation", "BRAVO", datetime(2026, 2, 12, tzinfo=UTC)),
        Done("area-of-separation", "ALPHA", datetime(2026, 3, 1, tzinfo=UTC)),
    ]
    at = datetime(2026, 2, 20, tzinfo=UTC)
    band, separation = schedule(
        [ALPHA_0_10, SEPARATION], done, since=T0, interval=FIFTEEN_DAYS, now=at
    )
    assert band.last_inspected == datetime(2026, 2, 10, 12, tzinfo=UTC)
    assert band.due_by == datetime(2026, 2, 25, 12, tzinfo=UTC)
    assert (band.overdue, band.due_soon) == (False, False)
    assert separation.last_inspected is None
    assert separation.due_by == datetime(2026, 1, 21, tzinfo=UTC)
    assert separation.overdue


def test_a_request_is_due_within_48_hours_and_late_if_carried_out_after() -> None:
    requested = datetime(2026, 2, 1, 10, tzinfo=UTC)
    due = requested + timedelta(hours=48)
    state = request_state(due, outcome=None, inspected_at=None, now=requested + timedelta(hours=47))
    assert (state.status, state.overdue, state.carried_out_at) == ("open", False, None)
    state = request_state(due, outcome=None, inspected_at=None, now=requested + timedelta(hours=49))
    assert (state.status, state.overdue) == ("open", True)
    on_time = requested + timedelta(hours=30)
    state = request_state(due, outcome="completed", inspected_at=on_time, now=due + FIFTEEN_DAYS)
    assert (state.status, state.overdue, state.carried_out_at) == ("completed", False, on_time)
    late = requested + timedelta(hours=50)
    state = request_state(due, outcome="access_denied", inspected_at=late, now=late)
    assert (state.status, state.overdue) == ("access_denied", True)
