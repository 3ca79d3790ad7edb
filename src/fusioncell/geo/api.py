from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from fusioncell.geo.queries import list_sites, list_zones
from fusioncell.web.deps import CurrentViewer, Db

router = APIRouter(prefix="/api/v1/geo", tags=["geo"])
GEOJSON = "application/geo+json"


class GeoJsonResponse(JSONResponse):
    """So that the OpenAPI document names the media type these routes answer with."""

    media_type = GEOJSON


@router.get("/zones", response_class=GeoJsonResponse)
def zones(viewer: CurrentViewer, db: Db) -> Any:
    """Zones as an RFC 7946 FeatureCollection."""
    return GeoJsonResponse(list_zones(db, viewer))


@router.get("/sites", response_class=GeoJsonResponse)
def sites(viewer: CurrentViewer, db: Db) -> Any:
    """Protected sites as an RFC 7946 FeatureCollection."""
    return GeoJsonResponse(list_sites(db, viewer))
