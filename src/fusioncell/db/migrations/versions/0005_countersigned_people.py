"""countersigned people and scoped client ids

Members and role grants need their organisation's countersign; hotline messages and
acknowledgements keep the client's chosen id apart from their own.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fusioncell.db.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("created_by", sa.Uuid(), nullable=True))
        batch.add_column(
            sa.Column(
                "countersigned_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("role_grants") as batch:
        batch.add_column(sa.Column("granted_by", sa.Uuid(), nullable=True))
        batch.add_column(
            sa.Column(
                "countersigned_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("hotline_messages") as batch:
        batch.add_column(sa.Column("client_id", sa.Uuid(), nullable=True))
        batch.create_unique_constraint("uq_hotline_messages_client", ["sender_id", "client_id"])
    with op.batch_alter_table("hotline_acks") as batch:
        batch.add_column(sa.Column("client_id", sa.Uuid(), nullable=True))
        batch.create_unique_constraint("uq_hotline_acks_client", ["member_id", "client_id"])
    op.execute("UPDATE hotline_messages SET client_id = id WHERE sender_id IS NOT NULL")
    op.execute("UPDATE hotline_acks SET client_id = id")
    # Everyone who existed before the rule was created at the console: in force already.
    op.execute("UPDATE members SET countersigned_at = created_at")
    op.execute("UPDATE role_grants SET countersigned_at = granted_at")


def downgrade() -> None:
    with op.batch_alter_table("hotline_acks") as batch:
        batch.drop_constraint("uq_hotline_acks_client", type_="unique")
        batch.drop_column("client_id")
    with op.batch_alter_table("hotline_messages") as batch:
        batch.drop_constraint("uq_hotline_messages_client", type_="unique")
        batch.drop_column("client_id")
    with op.batch_alter_table("role_grants") as batch:
        batch.drop_column("countersigned_at")
        batch.drop_column("granted_by")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("countersigned_at")
        batch.drop_column("created_by")
