"""credential epoch

One row per transaction that changes a member, a role grant, a session or a token; open
streams check their credential again when the newest id moves.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 05:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credential_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_changes")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("credential_changes")
