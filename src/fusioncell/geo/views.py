from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from fusioncell.cell.models import Organisation, OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.errors import FusioncellError
from fusioncell.geo import queries
from fusioncell.geo.actions import do_sign_geometry_version
from fusioncell.geo.models import GeometryVersion
from fusioncell.geo.policy import may_sign
from fusioncell.i18n import join_list, localize, moment_text, translate
from fusioncell.text import N_
from fusioncell.web.deps import AppClock, CurrentViewer, Db

router = APIRouter(include_in_schema=False)

MAP_LABELS = [
    N_("Basemap"),
    N_("Area of separation"),
    N_("Areas of limitation"),
    N_("Sectors"),
    N_("Protected sites"),
    N_("Not authoritative"),
    N_("Other zones"),
    N_("Area of limitation"),
    N_("Sector"),
    N_("Protected site"),
    N_("Side"),
    N_("Band"),
    N_("km"),
    N_("Legend"),
    N_("The map data could not be loaded."),
    N_("Natural Earth"),
    N_("Position under the pointer: latitude, longitude and MGRS"),
    N_("Shown from the message"),
    N_("Open"),
]
_IN_FORCE = N_("Geometry version %(number)s, signed by %(signatories)s on %(date)s.")
_PROPOSED = N_("Version %(number)s, proposed on %(date)s.")
_SIGNED_BY = N_("Signed by %(signatories)s.")
_AWAITING = N_("Awaiting %(signatories)s.")
_THE_SUPERVISOR = N_("the supervisor")
_NO_ONE = N_("no one yet")
_OPS_ROOM = N_("Operations room")
_ENTER_FULL = N_("Full screen")
_LEAVE_FULL = N_("Leave full screen")


@dataclass(frozen=True)
class PendingVersion:
    id: uuid.UUID
    number: int
    content_hash: str
    source: str
    proposed: str
    signed: str
    awaiting: str
    # Whether the viewer signs it for their organisation now.
    signable: bool


def _names(language: str, slugs: list[str], organisations: dict[str, Organisation]) -> str:
    """Parties by their short names, the supervisor as such, joined as the language joins a
    list ("ALPHA, BRAVO and the supervisor")."""
    named = [
        translate(language, _THE_SUPERVISOR)
        if (o := organisations.get(slug)) is not None and o.kind == OrganisationKind.SUPERVISOR
        else slug
        for slug in slugs
    ]
    return join_list(language, named) if named else translate(language, _NO_ONE)


def _version_texts(
    db: Session, viewer: Viewer
) -> tuple[GeometryVersion | None, str | None, list[PendingVersion]]:
    """The version in force and its sentence, and the versions awaiting signatures."""
    language = viewer.language
    current = queries.version_in_force(db, viewer)
    organisations = {o.slug: o for o in queries.signatory_organisations(db, viewer)}
    by_id = {o.id: o.slug for o in organisations.values()}
    waiting = [
        v
        for v in queries.list_versions(db, viewer)
        if v.in_force_log_index is None and (current is None or v.number > current.number)
    ]
    shown = [*waiting, *([current] if current is not None else [])]
    signatures = queries.signatures_of(db, viewer, [v.id for v in shown])
    in_force_text = None
    if current is not None and current.in_force_from is not None:
        signed = [by_id[s.organisation_id] for s in signatures[current.id]]
        in_force_text = translate(
            language,
            _IN_FORCE,
            number=current.number,
            signatories=_names(
                language, [s for s in current.signatories if s in signed], organisations
            ),
            date=moment_text(current.in_force_from, language),
        )
    own = next((o.slug for o in organisations.values() if o.id == viewer.organisation_id), None)
    pending = []
    for version in waiting:
        signed = [by_id[s.organisation_id] for s in signatures[version.id]]
        awaiting = [s for s in version.signatories if s not in signed]
        pending.append(
            PendingVersion(
                id=version.id,
                number=version.number,
                content_hash=version.content_hash,
                source=version.source,
                proposed=translate(
                    language,
                    _PROPOSED,
                    number=version.number,
                    date=moment_text(version.proposed_at, language),
                ),
                signed=translate(
                    language, _SIGNED_BY, signatories=_names(language, signed, organisations)
                ),
                awaiting=translate(
                    language, _AWAITING, signatories=_names(language, awaiting, organisations)
                ),
                signable=may_sign(viewer) and own is not None and own in awaiting,
            )
        )
    return current, in_force_text, pending


def _map_page(
    request: Request,
    viewer: Viewer,
    db: Session,
    *,
    status_code: int = 200,
    error: str | None = None,
    error_detail: str | None = None,
) -> Response:
    from fusioncell.bootstrap import MAP_LAYERS, TRACKS
    from fusioncell.web.pages import page

    layers = queries.map_layers(viewer)
    labels = {label: translate(viewer.language, label) for label in MAP_LABELS}
    # The tracks' layers (intelligence reports...), each for whoever may read it.
    extra = [
        {"url": layer.url, "label": translate(viewer.language, layer.label)}
        for layer in MAP_LAYERS
        if layer.shown_to(viewer)
    ]
    current, in_force_text, pending = _version_texts(db, viewer)
    # The operations room: which frames of the live stream redraw the map (those of a track
    # with a layer the viewer is shown), named by the track's page.
    live: dict[str, dict[str, str]] = {}
    for track in TRACKS:
        if not any(layer.shown_to(viewer) for layer in track.map_layers):
            continue
        link = next((item for item in track.nav if item.shown_to(viewer)), None)
        label = translate(viewer.language, link.label if link else _OPS_ROOM)
        for feed in track.feeds:
            for kind in sorted(feed.kinds):
                live[kind] = {"label": label, "url": link.path if link else "/map"}
    parties = [
        o.slug
        for o in queries.signatory_organisations(db, viewer)
        if o.kind == OrganisationKind.PARTY
    ]
    return page(
        request,
        viewer,
        "geo/map.html",
        status_code=status_code,
        parties=sorted(parties),
        ops_labels=json.dumps(
            {
                "enter": translate(viewer.language, _ENTER_FULL),
                "leave": translate(viewer.language, _LEAVE_FULL),
            },
            ensure_ascii=False,
        ),
        ops_tracks=json.dumps(live, ensure_ascii=False),
        layers=layers,
        map_labels=json.dumps(labels, ensure_ascii=False),
        track_layers=json.dumps(extra, ensure_ascii=False),
        version=current,
        in_force_text=in_force_text,
        pending=pending,
        error=error,
        error_detail=error_detail,
    )


@router.get("/map")
def map_page(request: Request, viewer: CurrentViewer, db: Db) -> Response:
    return _map_page(request, viewer, db)


@router.post("/map/versions/{version_id}/sign")
def sign_version(
    request: Request,
    version_id: uuid.UUID,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    content_hash: Annotated[str, Form(max_length=64)],
) -> Response:
    """A signatory signs the content hash the page showed them."""
    try:
        do_sign_geometry_version(
            db, viewer, version_id=version_id, content_hash=content_hash, now=clock.now()
        )
    except FusioncellError as error:
        return _map_page(
            request,
            viewer,
            db,
            status_code=error.status,
            error=translate(viewer.language, error.title),
            error_detail=localize(viewer.language, error.detail),
        )
    return RedirectResponse("/map", status_code=303)
