from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from fusioncell.db import migrate
from fusioncell.db.registry import metadata


def test_the_migrations_build_exactly_the_tables_the_models_declare(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_a_migrated_database_is_at_the_head_revision(engine: Engine) -> None:
    assert migrate.is_current(engine)
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
