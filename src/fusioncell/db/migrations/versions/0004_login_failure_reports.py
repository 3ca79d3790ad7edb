"""login failure reports: failed logins reach the log in aggregate, one summary per window

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fusioncell.db.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failure_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reported_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("usernames", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure_reports")),
    )
    with op.batch_alter_table("login_failure_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_failure_reports_reported_at"), ["reported_at"], unique=False
        )
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unreported_failures", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.drop_column("unreported_failures")
    with op.batch_alter_table("login_failure_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failure_reports_reported_at"))
    op.drop_table("login_failure_reports")
