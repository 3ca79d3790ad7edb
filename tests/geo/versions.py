"""Small factories for geometry versions: the demo's proposal with a change, proposed and
signed through the actions."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.geo.actions import do_propose_geometry_version, do_sign_geometry_version
from fusioncell.geo.derive import demo_geometry_proposal
from fusioncell.geo.models import GeometryVersion

Lookup = Callable[[str], Viewer]
SIGNATORIES = ("alpha.liaison", "bravo.liaison", "supervisor.chair")
SOURCE = "Test annex: a map sheet, 1:50,000"


def demo_with(*, sites: Iterable[tuple[str, float, float]] = ()) -> dict[str, Any]:
    """The demo geometry with more protected sites (id, lon, lat)."""
    collection = copy.deepcopy(demo_geometry_proposal())
    for site_id, lon, lat in sites:
        collection["features"].append(
            {
                "type": "Feature",
                "id": site_id,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"kind": "protected_site", "name": f"Site {site_id}"},
            }
        )
    return collection


def feature(collection: dict[str, Any], feature_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in collection["features"] if f["id"] == feature_id)
    return found


def propose(
    db: Session,
    actor: Viewer,
    clock: ManualClock,
    collection: Any = None,
    *,
    version_id: uuid.UUID | None = None,
    authoritative: bool = False,
    source: str = SOURCE,
) -> GeometryVersion:
    return do_propose_geometry_version(
        db,
        actor,
        version_id=version_id or uuid.uuid4(),
        collection=demo_with(sites=[("new-site", 35.95, 33.0)])
        if collection is None
        else collection,
        authoritative=authoritative,
        source=source,
        now=clock.now(),
    )


def sign(
    db: Session,
    member: Lookup,
    clock: ManualClock,
    version: GeometryVersion,
    signers: Iterable[str] = SIGNATORIES,
) -> None:
    for username in signers:
        clock.advance(60)
        do_sign_geometry_version(
            db,
            member(username),
            version_id=version.id,
            content_hash=version.content_hash,
            now=clock.now(),
        )
