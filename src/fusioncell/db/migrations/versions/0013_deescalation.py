"""de-escalation

Observations of holdings (in signed batches, each released to named organisations), the
freeze's baselines (declared by a party, accepted by the supervisor) and mutual-consent
exceptions with each signatory's signature. Every row comes from one signed
deescalation.* entry.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 08:16:48.533510
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fusioncell.db.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deescalation_baselines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("holdings", sa.JSON(), nullable=False),
        sa.Column("declared_by", sa.Uuid(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("declared_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_by", sa.Uuid(), nullable=True),
        sa.Column("accepted_log_index", sa.BigInteger(), nullable=True),
        sa.Column("accepted_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["accepted_by"],
            ["members.id"],
            name=op.f("fk_deescalation_baselines_accepted_by_members"),
        ),
        sa.ForeignKeyConstraint(
            ["declared_by"],
            ["members.id"],
            name=op.f("fk_deescalation_baselines_declared_by_members"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["organisations.id"],
            name=op.f("fk_deescalation_baselines_party_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deescalation_baselines")),
        sa.UniqueConstraint(
            "accepted_log_index", name=op.f("uq_deescalation_baselines_accepted_log_index")
        ),
        sa.UniqueConstraint("declared_by", "client_id", name="uq_deescalation_baselines_client"),
        sa.UniqueConstraint("log_index", name=op.f("uq_deescalation_baselines_log_index")),
    )
    with op.batch_alter_table("deescalation_baselines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deescalation_baselines_party_id"), ["party_id"], unique=False
        )

    op.create_table(
        "deescalation_exceptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("max_count", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.Uuid(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("proposed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["organisations.id"],
            name=op.f("fk_deescalation_exceptions_party_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"],
            ["members.id"],
            name=op.f("fk_deescalation_exceptions_proposed_by_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deescalation_exceptions")),
        sa.UniqueConstraint("log_index", name=op.f("uq_deescalation_exceptions_log_index")),
        sa.UniqueConstraint("proposed_by", "client_id", name="uq_deescalation_exceptions_client"),
    )
    op.create_table(
        "deescalation_observation_batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reliability", sa.String(length=1), nullable=True),
        sa.Column("credibility", sa.Integer(), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["members.id"],
            name=op.f("fk_deescalation_observation_batches_author_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deescalation_observation_batches_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deescalation_observation_batches")),
        sa.UniqueConstraint(
            "log_index", name=op.f("uq_deescalation_observation_batches_log_index")
        ),
    )
    op.create_table(
        "deescalation_exception_signatures",
        sa.Column("exception_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("signed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["exception_id"],
            ["deescalation_exceptions.id"],
            name=op.f("fk_deescalation_exception_signatures_exception_id_deescalation_exceptions"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_deescalation_exception_signatures_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deescalation_exception_signatures_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "exception_id", "organisation_id", name=op.f("pk_deescalation_exception_signatures")
        ),
        sa.UniqueConstraint(
            "log_index", name=op.f("uq_deescalation_exception_signatures_log_index")
        ),
    )
    op.create_table(
        "deescalation_observation_releases",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["deescalation_observation_batches.id"],
            name=op.f(
                "fk_deescalation_observation_releases_batch_id_deescalation_observation_batches"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deescalation_observation_releases_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "batch_id", "organisation_id", name=op.f("pk_deescalation_observation_releases")
        ),
    )
    with op.batch_alter_table("deescalation_observation_releases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deescalation_observation_releases_organisation_id"),
            ["organisation_id"],
            unique=False,
        )

    op.create_table(
        "deescalation_observations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("feature_id", sa.String(length=100), nullable=False),
        sa.Column("reporter_id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("unit", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("calibre_mm", sa.Float(), nullable=True),
        sa.Column("range_km", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("observed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["members.id"],
            name=op.f("fk_deescalation_observations_author_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["deescalation_observation_batches.id"],
            name=op.f("fk_deescalation_observations_batch_id_deescalation_observation_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["organisations.id"],
            name=op.f("fk_deescalation_observations_party_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["organisations.id"],
            name=op.f("fk_deescalation_observations_reporter_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deescalation_observations")),
        sa.UniqueConstraint("author_id", "feature_id", name="uq_deescalation_observations_feature"),
    )
    with op.batch_alter_table("deescalation_observations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deescalation_observations_batch_id"), ["batch_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deescalation_observations_observed_at"), ["observed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("deescalation_observations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deescalation_observations_observed_at"))
        batch_op.drop_index(batch_op.f("ix_deescalation_observations_batch_id"))

    op.drop_table("deescalation_observations")
    with op.batch_alter_table("deescalation_observation_releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deescalation_observation_releases_organisation_id"))

    op.drop_table("deescalation_observation_releases")
    op.drop_table("deescalation_exception_signatures")
    op.drop_table("deescalation_observation_batches")
    op.drop_table("deescalation_exceptions")
    with op.batch_alter_table("deescalation_baselines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deescalation_baselines_party_id"))

    op.drop_table("deescalation_baselines")
