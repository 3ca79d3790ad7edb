from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, text

from fusioncell.db import migrate
from fusioncell.db.registry import metadata


def _virtual_tables(connection: Connection) -> tuple[str, ...]:
    """SQLite's virtual tables (full-text indexes) and their shadow tables' prefix: SQLite's
    own, which no model declares."""
    if connection.dialect.name != "sqlite":
        return ()
    return tuple(
        connection.scalars(
            text("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")
        )
    )


def test_the_migrations_build_exactly_the_tables_the_models_declare(engine: Engine) -> None:
    with engine.connect() as connection:
        virtual = _virtual_tables(connection)

        def declared(name: str | None, type_: str, parent: Any) -> bool:
            return not (
                type_ == "table"
                and name is not None
                and any(name == v or name.startswith(v + "_") for v in virtual)
            )

        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": declared}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_a_migrated_database_is_at_the_head_revision(engine: Engine) -> None:
    assert migrate.is_current(engine)
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
