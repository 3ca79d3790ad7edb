"""The de-escalation actions as STYLE asks of every action: the rows, the entry (its audience),
the live event right after it, and a refused actor changing nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.deescalation.actions.baselines import do_declare_baseline
from fusioncell.deescalation.actions.observations import do_record_observations
from fusioncell.deescalation.entries import DeescalationEntry
from fusioncell.deescalation.feed import DeescalationFeed
from fusioncell.deescalation.models import ObservationBatch, ObservationRow
from fusioncell.errors import Forbidden
from fusioncell.ledger.models import LogAudience, LogEntry
from fusioncell.live.models import Event
from fusioncell.scenario.demo import stable_id

SHARED = {stable_id("organisation", s) for s in ("ALPHA", "BRAVO", "SUPERVISOR", "VERIFIER")}


def tanks(fid: str, count: int) -> dict[str, object]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": fid,
                "geometry": {"type": "Point", "coordinates": [35.75, 33.12]},
                "properties": {
                    "unit": fid,
                    "party": "ALPHA",
                    "category": "tank",
                    "count": count,
                    "observed_at": "2026-01-06T07:00:00Z",
                    "source": "inspection",
                },
            }
        ],
    }


def test_an_inspection_writes_its_rows_entry_audience_and_event(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    verifier = member("verifier.lead")
    recorded = do_record_observations(db, verifier, tanks("t", 80), now=clock.now())
    batch = db.get(ObservationBatch, recorded.batch_id)
    assert batch is not None and batch.log_index == recorded.log_index
    [row] = db.scalars(select(ObservationRow)).all()
    assert (row.count, row.source, row.batch_id) == (80, "inspection", batch.id)
    entry = db.get(LogEntry, batch.log_index)
    assert entry is not None and entry.entry_type == DeescalationEntry.OBSERVATIONS_RECORDED
    audience = set(
        db.scalars(select(LogAudience.value).where(LogAudience.entry_index == batch.log_index))
    )
    assert audience == {str(o) for o in SHARED}
    # The cell's statement of the candidates follows, for the verifier's organisation only.
    computed = db.get(LogEntry, batch.log_index + 1)
    assert computed is not None
    assert computed.entry_type == DeescalationEntry.COMPLIANCE_COMPUTED
    [event] = db.scalars(select(Event).where(Event.track == "deescalation")).all()
    assert (event.kind, event.subject, event.log_index) == (
        "deescalation-observations",
        str(batch.id),
        batch.log_index,
    )
    [frame] = DeescalationFeed().render(db, member("bravo.liaison"), [event])
    assert frame.data["batch"] == str(batch.id) and frame.data["count"] == 1


@pytest.mark.parametrize("username", ["alpha.liaison", "supervisor.chair", "host.observer"])
def test_only_the_verifier_records_an_inspection_and_a_refusal_writes_nothing(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock, username: str
) -> None:
    actor = member(username)
    before = db.scalar(select(LogEntry.index).order_by(LogEntry.index.desc()).limit(1))
    with pytest.raises(Forbidden):
        do_record_observations(db, actor, tanks("t", 3), now=clock.now())
    with pytest.raises(Forbidden):
        do_declare_baseline(
            db,
            member("verifier.lead"),
            baseline_id=uuid.uuid4(),
            party="ALPHA",
            holdings=[],
            now=clock.now(),
        )
    db.rollback()
    after = db.scalar(select(LogEntry.index).order_by(LogEntry.index.desc()).limit(1))
    assert after == before
    assert db.scalars(select(ObservationRow)).all() == []
    assert db.scalars(select(Event).where(Event.track == "deescalation")).all() == []
