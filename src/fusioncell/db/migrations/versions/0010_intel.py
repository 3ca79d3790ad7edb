"""intelligence sharing

STIX 2.1 reports, the organisations each is released to, and their object versions; the
full-text index: on PostgreSQL a GIN index over ``intel_reports.search_vector``, on SQLite an
FTS5 table ``intel_search`` over ``intel_reports.search_text``, kept by triggers (the models
do not declare it: a virtual table and its shadow tables are SQLite's own).

Revision ID: 0010
Revises: 0011
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import fusioncell.db.base

revision = "0010"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intel_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("author_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("derived_from", sa.Uuid(), nullable=True),
        sa.Column("responds_to", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("reliability", sa.String(length=1), nullable=True),
        sa.Column("credibility", sa.Integer(), nullable=True),
        sa.Column("source_ref", sa.String(length=100), nullable=True),
        sa.Column("opinion", sa.String(length=20), nullable=True),
        sa.Column("bundle", sa.JSON(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column(
            "search_vector",
            sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"),
            nullable=True,
        ),
        sa.Column("observed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("west", sa.Float(), nullable=True),
        sa.Column("south", sa.Float(), nullable=True),
        sa.Column("east", sa.Float(), nullable=True),
        sa.Column("north", sa.Float(), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("submitted_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["members.id"], name=op.f("fk_intel_reports_author_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["author_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_intel_reports_author_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["derived_from"],
            ["intel_reports.id"],
            name=op.f("fk_intel_reports_derived_from_intel_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["responds_to"],
            ["intel_reports.id"],
            name=op.f("fk_intel_reports_responds_to_intel_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_reports")),
        sa.UniqueConstraint("author_id", "client_id", name="uq_intel_reports_client"),
        sa.UniqueConstraint("log_index", name=op.f("uq_intel_reports_log_index")),
    )
    with op.batch_alter_table("intel_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_reports_author_organisation_id"),
            ["author_organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_intel_reports_observed_at"), ["observed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intel_reports_responds_to"), ["responds_to"], unique=False
        )
        batch_op.create_index(
            "ix_intel_reports_search", ["search_vector"], unique=False, postgresql_using="gin"
        )
        batch_op.create_index(
            batch_op.f("ix_intel_reports_submitted_at"), ["submitted_at"], unique=False
        )

    op.create_table(
        "intel_objects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("author_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("stix_id", sa.String(length=120), nullable=False),
        sa.Column("stix_type", sa.String(length=64), nullable=False),
        sa.Column("spec_version", sa.String(length=8), nullable=False),
        sa.Column("modified", sa.String(length=40), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("date_added", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_intel_objects_author_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["intel_reports.id"],
            name=op.f("fk_intel_objects_report_id_intel_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_objects")),
        sa.UniqueConstraint("report_id", "stix_id", "modified", name="uq_intel_objects_version"),
    )
    with op.batch_alter_table("intel_objects", schema=None) as batch_op:
        batch_op.create_index("ix_intel_objects_added", ["date_added", "id"], unique=False)
        batch_op.create_index(
            "ix_intel_objects_author_version",
            ["author_organisation_id", "stix_id", "modified"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_intel_objects_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intel_objects_stix_id"), ["stix_id"], unique=False)

    op.create_table(
        "intel_releases",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_intel_releases_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["intel_reports.id"],
            name=op.f("fk_intel_releases_report_id_intel_reports"),
        ),
        sa.PrimaryKeyConstraint("report_id", "organisation_id", name=op.f("pk_intel_releases")),
    )
    with op.batch_alter_table("intel_releases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_releases_organisation_id"), ["organisation_id"], unique=False
        )
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)


SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE intel_search USING fts5(search_text, content='intel_reports', "
    "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER intel_search_insert AFTER INSERT ON intel_reports BEGIN "
    "INSERT INTO intel_search(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER intel_search_delete AFTER DELETE ON intel_reports BEGIN "
    "INSERT INTO intel_search(intel_search, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); END",
    "CREATE TRIGGER intel_search_update AFTER UPDATE OF search_text ON intel_reports BEGIN "
    "INSERT INTO intel_search(intel_search, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO intel_search(rowid, search_text) VALUES (new.rowid, new.search_text); END",
)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("intel_search_insert", "intel_search_delete", "intel_search_update"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE intel_search")
    with op.batch_alter_table("intel_releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_releases_organisation_id"))

    op.drop_table("intel_releases")
    with op.batch_alter_table("intel_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_objects_stix_id"))
        batch_op.drop_index(batch_op.f("ix_intel_objects_report_id"))
        batch_op.drop_index("ix_intel_objects_author_version")
        batch_op.drop_index("ix_intel_objects_added")

    op.drop_table("intel_objects")
    with op.batch_alter_table("intel_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_reports_submitted_at"))
        batch_op.drop_index("ix_intel_reports_search", postgresql_using="gin")
        batch_op.drop_index(batch_op.f("ix_intel_reports_responds_to"))
        batch_op.drop_index(batch_op.f("ix_intel_reports_observed_at"))
        batch_op.drop_index(batch_op.f("ix_intel_reports_author_organisation_id"))

    op.drop_table("intel_reports")
