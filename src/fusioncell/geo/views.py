from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fusioncell.geo.queries import map_layers
from fusioncell.i18n import translate
from fusioncell.text import N_
from fusioncell.web.deps import CurrentViewer

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


@router.get("/map")
def map_page(request: Request, viewer: CurrentViewer) -> Response:
    from fusioncell.bootstrap import MAP_LAYERS
    from fusioncell.web.pages import page

    layers = map_layers(viewer)
    labels = {label: translate(viewer.language, label) for label in MAP_LABELS}
    # The tracks' layers (intelligence reports...), each for whoever may read it.
    extra = [
        {"url": layer.url, "label": translate(viewer.language, layer.label)}
        for layer in MAP_LAYERS
        if layer.shown_to(viewer)
    ]
    return page(
        request,
        viewer,
        "geo/map.html",
        layers=layers,
        map_labels=json.dumps(labels, ensure_ascii=False),
        track_layers=json.dumps(extra, ensure_ascii=False),
    )
