from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from fusioncell.geo.queries import list_sites, list_zones
from fusioncell.web.deps import CurrentViewer, Db

router = APIRouter(prefix="/api/v1/geo", tags=["geo"])
GEOJSON = "application/geo+json"


@router.get("/zones", response_class=JSONResponse)
def zones(viewer: CurrentViewer, db: Db) -> Any:
    """Zones as an RFC 7946 FeatureCollection."""
    return JSONResponse(list_zones(db, viewer), media_type=GEOJSON)


@router.get("/sites", response_class=JSONResponse)
def sites(viewer: CurrentViewer, db: Db) -> Any:
    """Protected sites as an RFC 7946 FeatureCollection."""
    return JSONResponse(list_sites(db, viewer), media_type=GEOJSON)
