"""A small set of reports every read path is checked against: who sees which."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session
from tests.intel.factories import dispute, located_report, release, submit

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.intel import stix

# The word every report's text holds, so a search finds each one where it is visible.
WORD = "convoy"


@dataclass(frozen=True)
class Story:
    reports: dict[str, uuid.UUID]
    # Organisation slug -> the names of the reports released to it.
    visible: dict[str, set[str]]


def tell(db: Session, member: Callable[[str], Viewer], clock: ManualClock) -> Story:
    alpha, bravo, chair = (
        member("alpha.analyst"),
        member("bravo.liaison"),
        member("supervisor.chair"),
    )
    to_supervisor = submit(db, alpha, clock, located_report(f"{WORD} at dawn"))
    to_both = submit(
        db, alpha, clock, located_report(f"{WORD} at noon", 33.3, 35.9), release_to=("BRAVO",)
    )
    bravo_wide = submit(
        db,
        bravo,
        clock,
        located_report(f"{WORD} at dusk", 32.9, 36.0),
        release_to=("VERIFIER", "HOST"),
    )
    derived = release(db, chair, clock, to_supervisor, sanitisation=stix.Sanitisation(grid_km=10))
    disputed = dispute(db, bravo, clock, derived, explanation=f"no {WORD} there")
    db.commit()
    reports = {
        "to_supervisor": to_supervisor.id,
        "to_both": to_both.id,
        "bravo_wide": bravo_wide.id,
        "derived": derived.id,
        "disputed": disputed.id,
    }
    visible = {
        "ALPHA": {"to_supervisor", "to_both", "derived", "disputed"},
        "BRAVO": {"to_both", "bravo_wide", "derived", "disputed"},
        "SUPERVISOR": set(reports),
        "VERIFIER": {"bravo_wide"},
        "HOST": {"bravo_wide"},
        "HUM-1": set(),
    }
    return Story(reports, visible)
