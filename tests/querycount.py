"""Counting SQL statements, as Zulip's ``assert_database_query_count`` does: a list page or API
list must cost the same number of statements whatever the number of items it shows.

``count_statements(engine)`` counts every statement the engine sends while the block runs (a
``before_cursor_execute`` listener, so ``BEGIN``, ``SAVEPOINT`` and each ``INSERT`` count too;
the pool's connection set-up does not). The app's engine is ``app.state.engine``. Nothing else
may use that engine meanwhile: the tests run without the background workers.

``assert_constant(engine, request, grow)`` is the usual test: it measures, grows the data,
measures again and requires the same count. ``signed_in`` gives a demo member's browser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session
from tests.helpers.pages import HTML, session_cookie

from fusioncell.clock import ManualClock
from fusioncell.config import Settings


@dataclass
class Statements:
    """The statements sent while counting, in order."""

    sent: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.sent)

    def __str__(self) -> str:
        return f"{self.count} statements:\n" + "\n".join(
            f"  {number}. {' '.join(text.split())[:200]}"
            for number, text in enumerate(self.sent, 1)
        )


@contextmanager
def count_statements(engine: Engine) -> Iterator[Statements]:
    statements = Statements()

    def noticed(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.sent.append(statement)

    event.listen(engine, "before_cursor_execute", noticed)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", noticed)


def measure(engine: Engine, request: Callable[[], object]) -> Statements:
    """The statements one call sends (a request through a TestClient, a query...)."""
    with count_statements(engine) as statements:
        request()
    return statements


def assert_constant(
    engine: Engine, request: Callable[[], object], grow: Callable[[], object]
) -> Statements:
    """``request`` costs as many statements after ``grow`` as before; returns the second
    count. ``request`` runs once first, unmeasured, so that one-time work (a first delivery,
    a session's first look-up) is not compared with the steady state."""
    request()
    before = measure(engine, request)
    grow()
    request()
    after = measure(engine, request)
    assert after.count == before.count, f"before: {before}\nafter: {after}"
    return after


def signed_in(
    app: FastAPI, db: Session, clock: ManualClock, settings: Settings, username: str
) -> TestClient:
    """A browser with a demo member's session (no lifespan: no background work); use it in a
    ``with`` block."""
    client = TestClient(app, base_url="http://testserver", headers=HTML)
    session_cookie(client, db, clock, settings, username)
    return client
