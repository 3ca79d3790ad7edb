"""geometry versions

Versions of the agreed geometry (a FeatureCollection with its derived limitation areas, its
content hash, provenance and signatories) and each signatory's signature over the hash; a
version is in force from the signature that completed it. geo_features stays, for the
features that logs from before versions defined one by one.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fusioncell.db.base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "geo_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("collection", sa.JSON(), nullable=False),
        sa.Column("authoritative", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("signatories", sa.JSON(), nullable=False),
        sa.Column("proposed_by", sa.Uuid(), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("proposed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("in_force_log_index", sa.BigInteger(), nullable=True),
        sa.Column("in_force_from", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposed_by"], ["members.id"], name=op.f("fk_geo_versions_proposed_by_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_geo_versions")),
        sa.UniqueConstraint("in_force_log_index", name=op.f("uq_geo_versions_in_force_log_index")),
        sa.UniqueConstraint("log_index", name=op.f("uq_geo_versions_log_index")),
        sa.UniqueConstraint("number", name=op.f("uq_geo_versions_number")),
        sa.UniqueConstraint("proposed_by", "client_id", name="uq_geo_versions_client"),
    )
    with op.batch_alter_table("geo_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_geo_versions_content_hash"), ["content_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_geo_versions_in_force_from"), ["in_force_from"], unique=False
        )

    op.create_table(
        "geo_version_signatures",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("signed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_geo_version_signatures_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_geo_version_signatures_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["geo_versions.id"],
            name=op.f("fk_geo_version_signatures_version_id_geo_versions"),
        ),
        sa.PrimaryKeyConstraint(
            "version_id", "organisation_id", name=op.f("pk_geo_version_signatures")
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_geo_version_signatures_log_index")),
    )


def downgrade() -> None:
    op.drop_table("geo_version_signatures")
    with op.batch_alter_table("geo_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_geo_versions_in_force_from"))
        batch_op.drop_index(batch_op.f("ix_geo_versions_content_hash"))
    op.drop_table("geo_versions")
