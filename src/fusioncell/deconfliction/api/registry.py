"""REST routes of the registry of protected places and of the no-strike lists. Every read
goes through ``deconfliction.queries.registry``; every change is an action."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Body, Header, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deconfliction import exports
from fusioncell.deconfliction.actions.registry import (
    do_acknowledge_no_strike_list,
    do_propose_place,
    do_send_no_strike_lists,
    do_sign_place,
)
from fusioncell.deconfliction.models.registry import NoStrikeList, ProtectedPlace
from fusioncell.deconfliction.protection import may_read, require
from fusioncell.deconfliction.protection_schemas import (
    NoStrikeListOut,
    PlaceOut,
    ProposePlaceIn,
    SendListsIn,
    SignatureOut,
)
from fusioncell.deconfliction.queries import registry as queries
from fusioncell.errors import InvalidInput
from fusioncell.idempotency import resolve_id
from fusioncell.web.deps import AppClock, CurrentViewer, Db

router = APIRouter(prefix="/api/v1", tags=["deconfliction"])
IdempotencyKey = Annotated[str | None, Header(max_length=200)]
_READ = "this needs the permission to read the cell's traffic"


def places_out(db: Session, viewer: Viewer, places: Sequence[ProtectedPlace]) -> list[PlaceOut]:
    dir_ = queries.directory(db, viewer)
    signed = queries.signatures_of(db, viewer, [p.id for p in places])
    needed = dir_.signatories()
    out = []
    for place in places:
        signatures = signed.get(place.id, [])
        have = {s.organisation_id for s in signatures}
        out.append(
            PlaceOut(
                id=place.id,
                kind=place.kind,
                name=place.name,
                population=place.population,
                geometry=place.geometry,
                buffer_m=place.buffer_m,
                note=place.note,
                proposed_by=dir_.slug(place.organisation_id) or "",
                log_index=place.log_index,
                proposed_at=place.proposed_at,
                signatures=[
                    SignatureOut(
                        organisation=dir_.slug(s.organisation_id) or "",
                        log_index=s.log_index,
                        signed_at=s.signed_at,
                    )
                    for s in signatures
                ],
                awaiting=sorted(dir_.slug(o) or "" for o in needed - have),
                agreed=place.agreed_log_index is not None,
                agreed_log_index=place.agreed_log_index,
                agreed_at=place.agreed_at,
            )
        )
    return out


@router.get("/protected-places", response_model=list[PlaceOut])
def list_places(
    viewer: CurrentViewer,
    db: Db,
    agreed: Annotated[bool | None, Query()] = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
) -> list[PlaceOut]:
    """The registry: protected sites and communities, proposed and in force (``agreed``:
    signed by both parties and the supervisor)."""
    require(viewer, may_read(viewer), _READ)
    return places_out(db, viewer, queries.list_places(db, viewer, agreed=agreed, kind=kind))


@router.post("/protected-places", response_model=PlaceOut, status_code=201)
def propose_place(
    body: ProposePlaceIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> PlaceOut:
    """Propose a protected site (``kind`` hospital, school, place_of_worship, crossing,
    un_post or warehouse; an RFC 7946 Point) or community (``kind`` community; a Polygon or
    MultiPolygon and the ``population`` group it protects). It is in force once each party's
    liaison officer and the supervisor have signed it."""
    place = do_propose_place(
        db,
        viewer,
        place_id=resolve_id(viewer, body.id, idempotency_key, scope="deconfliction-place"),
        kind=body.kind,
        name=body.name,
        geometry=body.geometry,
        population=body.population,
        buffer_m=body.buffer_m,
        note=body.note,
        now=clock.now(),
    )
    return places_out(db, viewer, [place])[0]


@router.get("/protected-places/{place_id}", response_model=PlaceOut)
def get_place(place_id: uuid.UUID, viewer: CurrentViewer, db: Db) -> PlaceOut:
    return places_out(db, viewer, [queries.get_place(db, viewer, place_id)])[0]


@router.post("/protected-places/{place_id}/signatures", response_model=PlaceOut, status_code=201)
def sign_place(place_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock) -> PlaceOut:
    """Sign for the caller's organisation (a party's liaison officer, the supervisor); a
    second signature of one organisation returns the first."""
    do_sign_place(db, viewer, place_id=place_id, now=clock.now())
    return places_out(db, viewer, [queries.get_place(db, viewer, place_id)])[0]


# -- the no-strike lists --------------------------------------------------------------------


def lists_out(db: Session, viewer: Viewer, lists: Sequence[NoStrikeList]) -> list[NoStrikeListOut]:
    dir_ = queries.directory(db, viewer)
    out = []
    for sent in lists:
        base = f"/api/v1/no-strike-lists/{sent.id}/export"
        out.append(
            NoStrikeListOut(
                id=sent.id,
                party=dir_.slug(sent.party_id) or "",
                period=sent.period,
                places=sent.places,
                sha256=sent.digest,
                log_index=sent.log_index,
                sent_at=sent.sent_at,
                ack_due_at=sent.ack_due_at,
                acknowledged=sent.ack_log_index is not None,
                acknowledged_by=str(sent.acknowledged_by) if sent.acknowledged_by else None,
                ack_log_index=sent.ack_log_index,
                acknowledged_at=sent.acknowledged_at,
                exports={f: f"{base}?format={f}" for f in exports.FORMATS},
            )
        )
    return out


def _party_id(db: Session, viewer: Viewer, party: str | None) -> uuid.UUID | None:
    if not party:
        return None
    found = queries.directory(db, viewer).by_slug.get(party)
    if found is None:
        raise InvalidInput("no such party", field="party")
    return found.id


@router.get("/no-strike-lists", response_model=list[NoStrikeListOut])
def list_lists(
    viewer: CurrentViewer,
    db: Db,
    party: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[NoStrikeListOut]:
    """Each party's no-strike lists as sent, the latest first, with their acknowledgements
    of receipt."""
    require(viewer, may_read(viewer), _READ)
    party_id = _party_id(db, viewer, party)
    return lists_out(
        db, viewer, queries.list_no_strike_lists(db, viewer, party_id=party_id, limit=limit)
    )


@router.post("/no-strike-lists", response_model=list[NoStrikeListOut], status_code=201)
def send_lists(
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    body: Annotated[SendListsIn | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> list[NoStrikeListOut]:
    """The supervisor sends every party its no-strike list now (besides the weekly send)."""
    given = body.id if body is not None else None
    request_id = resolve_id(viewer, given, idempotency_key, scope="deconfliction-no-strike")
    sent = do_send_no_strike_lists(db, viewer, request_id=request_id, now=clock.now())
    return lists_out(db, viewer, sent)


@router.get("/no-strike-lists/{list_id}", response_model=NoStrikeListOut)
def get_list(list_id: uuid.UUID, viewer: CurrentViewer, db: Db) -> NoStrikeListOut:
    return lists_out(db, viewer, [queries.get_no_strike_list(db, viewer, list_id)])[0]


@router.post("/no-strike-lists/{list_id}/acknowledge", response_model=NoStrikeListOut)
def acknowledge_list(
    list_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> NoStrikeListOut:
    """The party's focal point (its liaison officer) acknowledges receipt of its list.
    An acknowledgement is receipt, never approval."""
    sent = do_acknowledge_no_strike_list(db, viewer, list_id=list_id, now=clock.now())
    return lists_out(db, viewer, [sent])[0]


def _download(listing: exports.Listing, format_: str) -> Response:
    return Response(
        exports.render(listing, format_),
        media_type=exports.MEDIA_TYPES[format_],
        headers={
            "Content-Disposition": f'attachment; filename="{exports.filename(listing, format_)}"'
        },
    )


@router.get(
    "/no-strike-lists/{list_id}/export",
    response_class=Response,
    responses={200: {"content": {t: {} for t in exports.MEDIA_TYPES.values()}}},
)
def export_list(
    list_id: uuid.UUID,
    viewer: CurrentViewer,
    db: Db,
    format_: Annotated[str, Query(alias="format", max_length=10)] = "geojson",
) -> Response:
    """A list as sent, as GeoJSON, KML or CSV; its ``sha256`` is what the entry binds."""
    format_ = exports.checked_format(format_)
    sent = queries.get_no_strike_list(db, viewer, list_id)
    party = queries.directory(db, viewer).slug(sent.party_id)
    listing = exports.Listing(
        title=f"No-strike list for {party}, {sent.period}",
        party=party,
        period=sent.period,
        digest=sent.digest,
        sent_at=sent.sent_at,
        content=sent.content,
    )
    return _download(listing, format_)


@router.get(
    "/no-strike-list",
    response_class=Response,
    responses={200: {"content": {t: {} for t in exports.MEDIA_TYPES.values()}}},
)
def export_current(
    viewer: CurrentViewer,
    db: Db,
    format_: Annotated[str, Query(alias="format", max_length=10)] = "geojson",
) -> Response:
    """The places in force now, as the next list would carry them (not a list sent)."""
    require(viewer, may_read(viewer), _READ)
    format_ = exports.checked_format(format_)
    content = queries.no_strike_places(db, viewer)
    listing = exports.Listing(
        title="Protected places in force",
        party=None,
        period=None,
        digest=None,
        sent_at=None,
        content=content,
    )
    return _download(listing, format_)
