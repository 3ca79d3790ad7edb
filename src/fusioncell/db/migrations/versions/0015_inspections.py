"""inspections

R7 and R12: the parties' requests for an inspection of a zone and side (each due within the
rules' hours), the verifier's inspection reports (completed, with the batch of observations
it counted, or access denied) and the incidents of access denied, attributed to a party.
Every row comes from one signed deescalation.* entry.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fusioncell.db.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deescalation_inspection_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("requested_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["organisations.id"],
            name=op.f("fk_deescalation_inspection_requests_party_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["members.id"],
            name=op.f("fk_deescalation_inspection_requests_requested_by_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deescalation_inspection_requests")),
        sa.UniqueConstraint(
            "log_index", name=op.f("uq_deescalation_inspection_requests_log_index")
        ),
        sa.UniqueConstraint(
            "requested_by", "client_id", name="uq_deescalation_inspection_requests_client"
        ),
    )
    op.create_table(
        "deescalation_inspection_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=32), nullable=False),
        sa.Column("inspected_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reported_by", sa.Uuid(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("reported_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["deescalation_observation_batches.id"],
            name=op.f(
                "fk_deescalation_inspection_reports_batch_id_deescalation_observation_batches"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"],
            ["members.id"],
            name=op.f("fk_deescalation_inspection_reports_reported_by_members"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["deescalation_inspection_requests.id"],
            name=op.f(
                "fk_deescalation_inspection_reports_request_id_deescalation_inspection_requests"
            ),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deescalation_inspection_reports")),
        sa.UniqueConstraint("batch_id", name=op.f("uq_deescalation_inspection_reports_batch_id")),
        sa.UniqueConstraint("log_index", name=op.f("uq_deescalation_inspection_reports_log_index")),
        sa.UniqueConstraint(
            "request_id", name=op.f("uq_deescalation_inspection_reports_request_id")
        ),
        sa.UniqueConstraint(
            "reported_by", "client_id", name="uq_deescalation_inspection_reports_client"
        ),
    )
    with op.batch_alter_table("deescalation_inspection_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deescalation_inspection_reports_inspected_at"),
            ["inspected_at"],
            unique=False,
        )

    op.create_table(
        "deescalation_incidents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["organisations.id"],
            name=op.f("fk_deescalation_incidents_party_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["members.id"],
            name=op.f("fk_deescalation_incidents_recorded_by_members"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["deescalation_inspection_reports.id"],
            name=op.f("fk_deescalation_incidents_report_id_deescalation_inspection_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deescalation_incidents")),
        sa.UniqueConstraint("log_index", name=op.f("uq_deescalation_incidents_log_index")),
        sa.UniqueConstraint("report_id", name=op.f("uq_deescalation_incidents_report_id")),
    )
    with op.batch_alter_table("deescalation_incidents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deescalation_incidents_party_id"), ["party_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("deescalation_incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deescalation_incidents_party_id"))

    op.drop_table("deescalation_incidents")
    with op.batch_alter_table("deescalation_inspection_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deescalation_inspection_reports_inspected_at"))

    op.drop_table("deescalation_inspection_reports")
    op.drop_table("deescalation_inspection_requests")
