"""The ASGI application: routes, error rendering, static files, body limit."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from fusioncell import __version__
from fusioncell.cell import api as cell_api
from fusioncell.cell import views as cell_views
from fusioncell.clock import Clock, SystemClock
from fusioncell.config import Settings
from fusioncell.db.engine import create_db_engine, make_sessionmaker
from fusioncell.geo import api as geo_api
from fusioncell.geo import views as geo_views
from fusioncell.web import problems
from fusioncell.web import views as web_views
from fusioncell.web.middleware import BodyLimit

STATIC_DIR = Path(__file__).parent / "web" / "static"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="fusioncell",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        # The interactive docs pages load scripts from a CDN; the cell runs air-gapped.
        docs_url=None,
        redoc_url=None,
    )
    engine = create_db_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    app.state.clock = clock or SystemClock()

    problems.install(app)
    for router in (
        cell_api.router,
        geo_api.router,
        web_views.router,
        cell_views.router,
        geo_views.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
