"""TAXII 2.1

The TAXII server's own tables: what `fusioncell taxii import` brings over from medallion
(discovery, API roots, collections, their object versions with their date_added as written,
who may read and write each), the status resource of every envelope, the paging cursors
every app process continues, the object versions their authors deleted, and the reports
added to an imported collection.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-10 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fusioncell.db.base

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "taxii_api_roots",
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("max_content_length", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_taxii_api_roots")),
    )
    op.create_table(
        "taxii_discovery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("default_root", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_discovery")),
    )
    op.create_table(
        "taxii_collections",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("api_root", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("alias", sa.String(length=200), nullable=True),
        sa.Column("media_types", sa.JSON(), nullable=False),
        sa.Column("can_read", sa.Boolean(), nullable=False),
        sa.Column("can_write", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_root"],
            ["taxii_api_roots.path"],
            name=op.f("fk_taxii_collections_api_root_taxii_api_roots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_collections")),
    )
    with op.batch_alter_table("taxii_collections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_taxii_collections_api_root"), ["api_root"], unique=False
        )

    op.create_table(
        "taxii_cursors",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("collection", sa.String(length=320), nullable=False),
        sa.Column("filters", sa.String(length=64), nullable=False),
        sa.Column(
            "after_date_added", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("after_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_taxii_cursors_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_cursors")),
    )
    with op.batch_alter_table("taxii_cursors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_taxii_cursors_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "taxii_grants",
        sa.Column("collection_id", sa.String(length=100), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("can_read", sa.Boolean(), nullable=False),
        sa.Column("can_write", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["taxii_collections.id"],
            name=op.f("fk_taxii_grants_collection_id_taxii_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_taxii_grants_member_id_members")
        ),
        sa.PrimaryKeyConstraint("collection_id", "member_id", name=op.f("pk_taxii_grants")),
    )
    with op.batch_alter_table("taxii_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taxii_grants_member_id"), ["member_id"], unique=False)

    op.create_table(
        "taxii_objects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("collection_id", sa.String(length=100), nullable=False),
        sa.Column("stix_id", sa.String(length=120), nullable=False),
        sa.Column("stix_type", sa.String(length=64), nullable=False),
        sa.Column("spec_version", sa.String(length=8), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("media_type", sa.String(length=80), nullable=False),
        sa.Column("date_added", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("date_added_text", sa.String(length=40), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["taxii_collections.id"],
            name=op.f("fk_taxii_objects_collection_id_taxii_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_objects")),
        sa.UniqueConstraint("collection_id", "stix_id", "version", name="uq_taxii_objects_version"),
    )
    with op.batch_alter_table("taxii_objects", schema=None) as batch_op:
        batch_op.create_index(
            "ix_taxii_objects_added", ["collection_id", "date_added", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_taxii_objects_stix_id"), ["stix_id"], unique=False)

    op.create_table(
        "taxii_withdrawals",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("stix_id", sa.String(length=120), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("withdrawn_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_taxii_withdrawals_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_taxii_withdrawals_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id", "stix_id", "version", name=op.f("pk_taxii_withdrawals")
        ),
    )
    op.create_table(
        "taxii_collection_reports",
        sa.Column("collection_id", sa.String(length=100), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["taxii_collections.id"],
            name=op.f("fk_taxii_collection_reports_collection_id_taxii_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["intel_reports.id"],
            name=op.f("fk_taxii_collection_reports_report_id_intel_reports"),
        ),
        sa.PrimaryKeyConstraint(
            "collection_id", "report_id", name=op.f("pk_taxii_collection_reports")
        ),
    )
    with op.batch_alter_table("taxii_collection_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_taxii_collection_reports_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "taxii_status",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("api_root", sa.String(length=200), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("request_timestamp", sa.String(length=40), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("successes", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("pendings", sa.JSON(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_taxii_status_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["intel_reports.id"],
            name=op.f("fk_taxii_status_report_id_intel_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_status")),
    )
    with op.batch_alter_table("taxii_status", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taxii_status_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("taxii_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxii_status_member_id"))

    op.drop_table("taxii_status")
    with op.batch_alter_table("taxii_collection_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxii_collection_reports_report_id"))

    op.drop_table("taxii_collection_reports")
    op.drop_table("taxii_withdrawals")
    with op.batch_alter_table("taxii_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxii_objects_stix_id"))
        batch_op.drop_index("ix_taxii_objects_added")

    op.drop_table("taxii_objects")
    with op.batch_alter_table("taxii_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxii_grants_member_id"))

    op.drop_table("taxii_grants")
    with op.batch_alter_table("taxii_cursors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxii_cursors_expires_at"))

    op.drop_table("taxii_cursors")
    with op.batch_alter_table("taxii_collections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxii_collections_api_root"))

    op.drop_table("taxii_collections")
    op.drop_table("taxii_discovery")
    op.drop_table("taxii_api_roots")
