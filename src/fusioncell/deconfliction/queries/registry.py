"""Reads of the registry of protected places and of the no-strike lists, viewer first.

The registry is shared with every organisation of the cell (the parties must know what they
are not to strike; the humanitarian organisation proposes most of it): whoever reads the
cell's traffic reads it, the operator and the auditor do not. ``agreed_protected_geometries``
is what the conflict check and early warning measure against.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell.models import Organisation, OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import console_of_cell, list_organisations
from fusioncell.deconfliction.models.registry import (
    NoStrikeList,
    PlaceKind,
    PlaceSignature,
    ProtectedPlace,
)
from fusioncell.deconfliction.protection import may_read
from fusioncell.errors import NotFound
from fusioncell.geo.queries import list_sites


@dataclass(frozen=True)
class Directory:
    """The cell's organisations, by slug and by id."""

    by_slug: dict[str, Organisation]
    by_id: dict[uuid.UUID, Organisation]

    def of_kind(self, kind: OrganisationKind) -> list[Organisation]:
        return sorted((o for o in self.by_id.values() if o.kind == kind), key=lambda o: o.slug)

    def parties(self) -> list[Organisation]:
        return self.of_kind(OrganisationKind.PARTY)

    def signatories(self) -> set[uuid.UUID]:
        """Whose signatures put a place in force: every party and the supervisor."""
        return {o.id for o in self.parties()} | {
            o.id for o in self.of_kind(OrganisationKind.SUPERVISOR)
        }

    def everyone(self) -> list[Organisation]:
        return sorted(self.by_id.values(), key=lambda o: o.slug)

    def slug(self, organisation_id: uuid.UUID | None) -> str | None:
        if organisation_id is None:
            return None
        found = self.by_id.get(organisation_id)
        return found.slug if found is not None else None


def supervising_organisation_id(db: Session) -> uuid.UUID | None:
    """The cell's supervising organisation (the cell's own watch reads as it does), None
    before the cell has one."""
    console = console_of_cell(db)
    if console is None:
        return None
    found = [o.id for o in list_organisations(db, console) if o.kind == OrganisationKind.SUPERVISOR]
    return found[0] if found else None


def directory(db: Session, viewer: Viewer) -> Directory:
    organisations = list_organisations(db, viewer)
    return Directory({o.slug: o for o in organisations}, {o.id: o for o in organisations})


# -- places ---------------------------------------------------------------------------------


def list_places(
    db: Session, viewer: Viewer, *, agreed: bool | None = None, kind: str | None = None
) -> Sequence[ProtectedPlace]:
    """Places in the order they were proposed; ``agreed`` keeps those in force (True) or
    awaiting signatures (False)."""
    if not may_read(viewer):
        return []
    query = select(ProtectedPlace)
    if agreed is True:
        query = query.where(ProtectedPlace.agreed_log_index.is_not(None))
    elif agreed is False:
        query = query.where(ProtectedPlace.agreed_log_index.is_(None))
    if kind == PlaceKind.COMMUNITY:
        query = query.where(ProtectedPlace.kind == PlaceKind.COMMUNITY.value)
    elif kind == "site":
        query = query.where(ProtectedPlace.kind != PlaceKind.COMMUNITY.value)
    return db.scalars(query.order_by(ProtectedPlace.log_index)).all()


def get_place(db: Session, viewer: Viewer, place_id: uuid.UUID) -> ProtectedPlace:
    place = db.get(ProtectedPlace, place_id) if may_read(viewer) else None
    if place is None:
        raise NotFound()
    return place


def find_own_place(
    db: Session, member_id: uuid.UUID, client_id: uuid.UUID
) -> ProtectedPlace | None:
    """A proposer's place by the id its client chose (a retry's first result)."""
    return db.scalar(
        select(ProtectedPlace).where(
            ProtectedPlace.proposed_by == member_id, ProtectedPlace.client_id == client_id
        )
    )


def place_id_taken(db: Session, place_id: uuid.UUID) -> bool:
    return db.get(ProtectedPlace, place_id) is not None


def signatures_of(
    db: Session, viewer: Viewer, place_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[PlaceSignature]]:
    """Each place's signatures, in the order they were logged."""
    signed: dict[uuid.UUID, list[PlaceSignature]] = {p: [] for p in place_ids}
    if not place_ids or not may_read(viewer):
        return signed
    for row in db.scalars(
        select(PlaceSignature)
        .where(PlaceSignature.place_id.in_(place_ids))
        .order_by(PlaceSignature.log_index)
    ):
        signed[row.place_id].append(row)
    return signed


def signed_by_organisation(
    db: Session, place_id: uuid.UUID, organisation_id: uuid.UUID
) -> PlaceSignature | None:
    """An organisation's signature of a place (a retry's first result), read afresh."""
    return db.scalar(
        select(PlaceSignature).where(
            PlaceSignature.place_id == place_id, PlaceSignature.organisation_id == organisation_id
        )
    )


# -- geometries for the conflict check and early warning ------------------------------------


@dataclass(frozen=True)
class ProtectedGeometry:
    """A protected place as the engines measure it: ``id`` is the registry place's UUID (as
    text) or the agreed geometry's site id; ``source`` says which."""

    id: str
    name: str
    kind: str  # a PlaceKind value, or "protected_site" for the agreed geometry's sites
    geometry: BaseGeometry
    population: str | None
    buffer_m: int | None
    source: str  # "registry" or "geometry"


def _protected(place: ProtectedPlace) -> ProtectedGeometry:
    return ProtectedGeometry(
        id=str(place.id),
        name=place.name,
        kind=place.kind,
        geometry=shape(place.geometry),
        population=place.population,
        buffer_m=place.buffer_m,
        source="registry",
    )


def agreed_protected_geometries(db: Session, viewer: Viewer) -> list[ProtectedGeometry]:
    """The registry's places in force (both parties and the supervisor have signed), as
    shapely geometries in WGS 84 lon/lat: what a notification is checked against besides the
    agreed geometry's protected sites."""
    return [_protected(place) for place in list_places(db, viewer, agreed=True)]


def agreed_places_for_engine(db: Session) -> list[ProtectedGeometry]:
    """The cell's own read for the conflict check (``queries.notifications
    .protected_for_engine``), never a viewer's: the registry's places in force."""
    return [
        _protected(place)
        for place in db.scalars(
            select(ProtectedPlace)
            .where(ProtectedPlace.agreed_log_index.is_not(None))
            .order_by(ProtectedPlace.log_index)
        )
    ]


def agreed_communities(db: Session, viewer: Viewer) -> list[ProtectedGeometry]:
    """The communities in force: what early warning measures against."""
    return [
        _protected(place)
        for place in list_places(db, viewer, agreed=True, kind=PlaceKind.COMMUNITY.value)
    ]


# -- the no-strike list -----------------------------------------------------------------------


def _feature(
    place_id: str,
    *,
    name: str,
    kind: str,
    geometry: dict[str, Any],
    population: str | None,
    source: str,
    agreed_log_index: int | None,
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": place_id,
        "geometry": geometry,
        "properties": {
            "id": place_id,
            "name": name,
            "kind": kind,
            "population": population,
            "source": source,
            "agreed_log_index": agreed_log_index,
        },
    }


def no_strike_places(db: Session, viewer: Viewer) -> dict[str, Any]:
    """Every place in force as a GeoJSON FeatureCollection: the agreed geometry's protected
    sites, then the registry's agreed sites and communities."""
    features = [
        _feature(
            str(site["id"]),
            name=str(site["properties"].get("name", "")),
            kind="protected_site",
            geometry=site["geometry"],
            population=None,
            source="geometry",
            agreed_log_index=None,
        )
        for site in list_sites(db, viewer)["features"]
    ]
    features += [
        _feature(
            str(place.id),
            name=place.name,
            kind=place.kind,
            geometry=place.geometry,
            population=place.population,
            source="registry",
            agreed_log_index=place.agreed_log_index,
        )
        for place in list_places(db, viewer, agreed=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def list_no_strike_lists(
    db: Session, viewer: Viewer, *, party_id: uuid.UUID | None = None, limit: int = 100
) -> Sequence[NoStrikeList]:
    """The lists sent, the latest first."""
    if not may_read(viewer):
        return []
    query = select(NoStrikeList)
    if party_id is not None:
        query = query.where(NoStrikeList.party_id == party_id)
    return db.scalars(query.order_by(NoStrikeList.log_index.desc()).limit(limit)).all()


def get_no_strike_list(db: Session, viewer: Viewer, list_id: uuid.UUID) -> NoStrikeList:
    found = db.get(NoStrikeList, list_id) if may_read(viewer) else None
    if found is None:
        raise NotFound()
    return found


def parties_sent(db: Session, period: str) -> set[uuid.UUID]:
    """The parties that have their list for ``period`` (the cell's sender asks, as the cell)."""
    return set(db.scalars(select(NoStrikeList.party_id).where(NoStrikeList.period == period)))
