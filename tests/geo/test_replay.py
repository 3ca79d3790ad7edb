"""``fusioncell verify`` recomputes compliance with the geometry version that was in force
when the cell computed it: a version that moves sector S turns BRAVO's tanks east of the old
sector into a C3 candidate, live and in the replay alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.helpers.verifying import verify_database, verify_state

from fusioncell import bootstrap
from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.deescalation import queries as deescalation
from fusioncell.deescalation.actions.observations import do_record_observations
from fusioncell.geo.derive import demo_geometry_proposal
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext

from .versions import feature, propose, sign

Lookup = Callable[[str], Viewer]
# East of the demo's sector S (35.87-36.30 E) and inside the moved one.
EAST = [36.4, 32.85]


def _tanks(fid: str) -> dict[str, object]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": fid,
                "geometry": {"type": "Point", "coordinates": EAST},
                "properties": {
                    "unit": "bravo-armour-east",
                    "party": "BRAVO",
                    "category": "tank",
                    "count": 12,
                    "observed_at": "2026-01-06T07:00:00Z",
                    "source": "declaration",
                },
            }
        ],
    }


def _c3(db: Session, viewer: Viewer, clock: ManualClock) -> set[tuple[str, str, float]]:
    result = deescalation.compliance(db, viewer, at=clock.now(), source="declaration")
    return {(c.rule, c.zone, c.value) for c in result.candidates if c.rule == "C3"}


def test_compliance_is_replayed_with_the_version_in_force_when_it_was_computed(
    db: Session, engine: Engine, ledger: LedgerContext, clock: ManualClock, member: Lookup
) -> None:
    bravo = member("bravo.liaison")
    do_record_observations(db, bravo, _tanks("before"), now=clock.now())
    assert _c3(db, bravo, clock) == set()

    moved = demo_geometry_proposal()
    feature(moved, "sector-s")["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[36.3, 32.7], [36.5, 32.7], [36.5, 33.0], [36.3, 33.0], [36.3, 32.7]]],
    }
    sign(db, member, clock, propose(db, member("supervisor.chair"), clock, moved))
    clock.advance(60)
    do_record_observations(db, member("bravo.liaison"), _tanks("after"), now=clock.now())

    assert _c3(db, bravo, clock) == {("C3", "sector-s", 12)}
    do_sign_checkpoint(db, now=clock.now() + timedelta(seconds=1))
    db.commit()
    assert verify_state(engine, ledger).ok
    replayed = verify_database(engine, ledger, replays=bootstrap.REPLAYS)
    assert replayed.ok, replayed.reason
