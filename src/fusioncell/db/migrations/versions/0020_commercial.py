"""commercial

The commercial track, issue 14 item 4: projects (with the organisations each is released to),
their milestones and the evidence files put before each, crossing shipments with their
lead-time verdicts, the signed steps by client id, and evidence files stored by SHA-256 with
the organisations that stored them. Every row comes from signed commercial.* entries.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 17:11:51.080543
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fusioncell.db.base

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commercial_evidence",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_commercial_evidence")),
    )
    op.create_table(
        "commercial_evidence_holders",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("stored_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_commercial_evidence_holders_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_commercial_evidence_holders_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["commercial_evidence.sha256"],
            name=op.f("fk_commercial_evidence_holders_sha256_commercial_evidence"),
        ),
        sa.PrimaryKeyConstraint(
            "sha256", "organisation_id", name=op.f("pk_commercial_evidence_holders")
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_commercial_evidence_holders_log_index")),
    )
    op.create_table(
        "commercial_projects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("proposed_by", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("sponsors", sa.JSON(), nullable=False),
        sa.Column("financing", sa.JSON(), nullable=False),
        sa.Column("locations", sa.JSON(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("released_to", sa.JSON(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("proposed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status_changed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_commercial_projects_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["organisations.id"],
            name=op.f("fk_commercial_projects_party_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"], ["members.id"], name=op.f("fk_commercial_projects_proposed_by_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commercial_projects")),
        sa.UniqueConstraint("log_index", name=op.f("uq_commercial_projects_log_index")),
        sa.UniqueConstraint("proposed_by", "client_id", name="uq_commercial_projects_client"),
    )
    with op.batch_alter_table("commercial_projects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commercial_projects_party_id"), ["party_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_commercial_projects_status"), ["status"], unique=False)

    op.create_table(
        "commercial_milestones",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("added_by", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("added_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("achieved_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decision_index", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by"], ["members.id"], name=op.f("fk_commercial_milestones_added_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["members.id"], name=op.f("fk_commercial_milestones_decided_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["commercial_projects.id"],
            name=op.f("fk_commercial_milestones_project_id_commercial_projects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commercial_milestones")),
        sa.UniqueConstraint("added_by", "client_id", name="uq_commercial_milestones_client"),
        sa.UniqueConstraint("decision_index", name=op.f("uq_commercial_milestones_decision_index")),
        sa.UniqueConstraint("log_index", name=op.f("uq_commercial_milestones_log_index")),
    )
    with op.batch_alter_table("commercial_milestones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commercial_milestones_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "commercial_project_releases",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_commercial_project_releases_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["commercial_projects.id"],
            name=op.f("fk_commercial_project_releases_project_id_commercial_projects"),
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "organisation_id", name=op.f("pk_commercial_project_releases")
        ),
    )
    with op.batch_alter_table("commercial_project_releases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commercial_project_releases_organisation_id"),
            ["organisation_id"],
            unique=False,
        )

    op.create_table(
        "commercial_shipments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("declared_by", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("cargo", sa.Text(), nullable=False),
        sa.Column("crossing_id", sa.Uuid(), nullable=False),
        sa.Column("crossing_name", sa.String(length=200), nullable=False),
        sa.Column("planned_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("required_lead_s", sa.Integer(), nullable=False),
        sa.Column("lead_time", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("declared_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("inspected_by", sa.Uuid(), nullable=True),
        sa.Column("inspection_note", sa.Text(), nullable=True),
        sa.Column("inspected_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["members.id"], name=op.f("fk_commercial_shipments_decided_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["declared_by"],
            ["members.id"],
            name=op.f("fk_commercial_shipments_declared_by_members"),
        ),
        sa.ForeignKeyConstraint(
            ["inspected_by"],
            ["members.id"],
            name=op.f("fk_commercial_shipments_inspected_by_members"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["organisations.id"],
            name=op.f("fk_commercial_shipments_party_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["commercial_projects.id"],
            name=op.f("fk_commercial_shipments_project_id_commercial_projects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commercial_shipments")),
        sa.UniqueConstraint("declared_by", "client_id", name="uq_commercial_shipments_client"),
        sa.UniqueConstraint("log_index", name=op.f("uq_commercial_shipments_log_index")),
    )
    with op.batch_alter_table("commercial_shipments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commercial_shipments_party_id"), ["party_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commercial_shipments_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_commercial_shipments_state"), ["state"], unique=False)

    op.create_table(
        "commercial_steps",
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_commercial_steps_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_commercial_steps_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["commercial_projects.id"],
            name=op.f("fk_commercial_steps_project_id_commercial_projects"),
        ),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_commercial_steps")),
        sa.UniqueConstraint("member_id", "client_id", name="uq_commercial_steps_client"),
    )
    with op.batch_alter_table("commercial_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commercial_steps_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "commercial_milestone_evidence",
        sa.Column("milestone_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["commercial_milestones.id"],
            name=op.f("fk_commercial_milestone_evidence_milestone_id_commercial_milestones"),
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["commercial_evidence.sha256"],
            name=op.f("fk_commercial_milestone_evidence_sha256_commercial_evidence"),
        ),
        sa.PrimaryKeyConstraint(
            "milestone_id", "sha256", name=op.f("pk_commercial_milestone_evidence")
        ),
    )
    with op.batch_alter_table("commercial_milestone_evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commercial_milestone_evidence_sha256"), ["sha256"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("commercial_milestone_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commercial_milestone_evidence_sha256"))

    op.drop_table("commercial_milestone_evidence")
    with op.batch_alter_table("commercial_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commercial_steps_project_id"))

    op.drop_table("commercial_steps")
    with op.batch_alter_table("commercial_shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commercial_shipments_state"))
        batch_op.drop_index(batch_op.f("ix_commercial_shipments_project_id"))
        batch_op.drop_index(batch_op.f("ix_commercial_shipments_party_id"))

    op.drop_table("commercial_shipments")
    with op.batch_alter_table("commercial_project_releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commercial_project_releases_organisation_id"))

    op.drop_table("commercial_project_releases")
    with op.batch_alter_table("commercial_milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commercial_milestones_project_id"))

    op.drop_table("commercial_milestones")
    with op.batch_alter_table("commercial_projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commercial_projects_status"))
        batch_op.drop_index(batch_op.f("ix_commercial_projects_party_id"))

    op.drop_table("commercial_projects")
    op.drop_table("commercial_evidence_holders")
    op.drop_table("commercial_evidence")
