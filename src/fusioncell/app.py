"""The ASGI application: routes, error rendering, static files, body limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from fusioncell import (
    __version__,
    bootstrap,
)
from fusioncell.clock import Clock, SystemClock
from fusioncell.config import Settings
from fusioncell.db.engine import create_db_engine, make_sessionmaker
from fusioncell.ledger.checkpointer import ON_APPEND, Checkpointer
from fusioncell.ledger.context import build_ledger_context
from fusioncell.ledger.witnesses import parse_witnesses
from fusioncell.live import stream as live_stream
from fusioncell.live.emit import ON_EVENT
from fusioncell.live.hub import StreamHub
from fusioncell.live.notify import EventListener
from fusioncell.web import problems
from fusioncell.web import views as web_views
from fusioncell.web.deps import refuse_unsafe_text
from fusioncell.web.middleware import BodyLimit

STATIC_DIR = Path(__file__).parent / "web" / "static"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.background_checkpoints:
            checkpointer.start()
            for worker in workers.values():
                worker.start()
        listener.start()
        try:
            yield
        finally:
            listener.stop()
            for worker in workers.values():
                worker.stop()
            checkpointer.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="fusioncell",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        # The interactive docs pages load scripts from a CDN; the cell runs air-gapped.
        docs_url=None,
        redoc_url=None,
        # Before any route: no lone surrogate or NUL reaches a schema, an action or a database.
        dependencies=[Depends(refuse_unsafe_text)],
    )
    engine = create_db_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    ledger = build_ledger_context(settings)
    app.state.ledger = ledger
    app.state.sessions = sessions = make_sessionmaker(engine, ledger=ledger)
    app.state.clock = clock = clock or SystemClock()
    app.state.checkpointer = checkpointer = Checkpointer(
        sessions, clock, parse_witnesses(settings.witnesses)
    )
    # One live-event bus for every track's feed, one stream per member.
    app.state.streams = streams = StreamHub(sessions, clock, bootstrap.FEEDS)
    sessions.configure(
        info={**sessions.kw["info"], ON_APPEND: checkpointer.wake, ON_EVENT: streams.wake}
    )
    app.state.event_listener = listener = EventListener(engine, streams.wake)
    # Every track's background workers, by name, each also as ``app.state.<name>`` (tests and
    # tools reach the hotline's engine as ``app.state.hotline_engine``). The checkpointer is
    # not one of them: it belongs to the log, not a track, the session factory wakes it on
    # every append, and it takes the witnesses from the settings.
    app.state.workers = workers = {
        w.name: w.make(sessions, clock)
        for w in bootstrap.WORKERS
        if settings.warm_up or not w.warm_up
    }
    for name, worker in workers.items():
        if hasattr(app.state, name):
            raise ValueError(f"a worker named {name!r} would hide app.state.{name}")
        setattr(app.state, name, worker)

    problems.install(app)
    app.state.nav = bootstrap.NAV
    app.state.obligations = bootstrap.OBLIGATIONS
    for router in (
        *bootstrap.API_ROUTERS,
        live_stream.router,
        web_views.router,
        *bootstrap.PAGE_ROUTERS,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
