"""Protected places, incidents and alerts made through the real actions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deconfliction.actions.registry import do_propose_place, do_sign_place
from fusioncell.deconfliction.models.registry import ProtectedPlace
from fusioncell.ledger.models import LogEntry

# Around Suwayda (lon, lat): a community about 5.6 km by 5.5 km.
SUWAYDA = [[36.54, 32.69], [36.60, 32.69], [36.60, 32.74], [36.54, 32.74], [36.54, 32.69]]
SUWAYDA_CENTRE = (36.57, 32.715)
# A point about 2.7 km east of the community's eastern edge, and one about 40 km away.
NEAR_SUWAYDA = (36.629, 32.715)
FAR_FROM_SUWAYDA = (36.10, 32.617)
SIGNATORIES = ("alpha.liaison", "bravo.liaison", "supervisor.chair")


def polygon(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


def point(lon_lat: tuple[float, float]) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(lon_lat)}


def community(
    db: Session,
    actor: Viewer,
    *,
    now: datetime,
    name: str = "Suwayda",
    ring: list[list[float]] | None = None,
    population: str = "Druze residents of Suwayda",
    place_id: uuid.UUID | None = None,
    **more: Any,
) -> ProtectedPlace:
    return do_propose_place(
        db,
        actor,
        place_id=place_id or uuid.uuid4(),
        kind="community",
        name=name,
        geometry=polygon(ring or SUWAYDA),
        population=population,
        now=now,
        **more,
    )


def site(
    db: Session,
    actor: Viewer,
    *,
    now: datetime,
    kind: str = "hospital",
    name: str = "Suwayda national hospital",
    where: tuple[float, float] = (36.5667, 32.7125),
    place_id: uuid.UUID | None = None,
    **more: Any,
) -> ProtectedPlace:
    return do_propose_place(
        db,
        actor,
        place_id=place_id or uuid.uuid4(),
        kind=kind,
        name=name,
        geometry=point(where),
        now=now,
        **more,
    )


def agree(
    db: Session, member: Callable[[str], Viewer], place: ProtectedPlace, *, now: datetime
) -> ProtectedPlace:
    """Every signatory signs: the place is in force."""
    for username in SIGNATORIES:
        do_sign_place(db, member(username), place_id=place.id, now=now)
    db.refresh(place)
    assert place.agreed_log_index is not None
    return place


def agreed_community(
    db: Session, member: Callable[[str], Viewer], *, now: datetime, **more: Any
) -> ProtectedPlace:
    return agree(db, member, community(db, member("hum1.coordinator"), now=now, **more), now=now)


def log_size(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(LogEntry)) or 0)
