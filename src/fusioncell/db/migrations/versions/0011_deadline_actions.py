"""deadline actions

What the supervisor's duty officer did about a party's open deadline on a message: a call
made, the message relayed by another means, or a follow-up (due at a time, if given). Each row
comes from one signed hotline.deadline.action entry.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-09 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fusioncell.db.base

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotline_deadline_actions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("follow_up_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("written_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_hotline_deadline_actions_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["hotline_messages.id"],
            name=op.f("fk_hotline_deadline_actions_message_id_hotline_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_hotline_deadline_actions_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_deadline_actions")),
        sa.UniqueConstraint("log_index", name=op.f("uq_hotline_deadline_actions_log_index")),
        sa.UniqueConstraint("member_id", "client_id", name="uq_hotline_deadline_actions_client"),
    )
    with op.batch_alter_table("hotline_deadline_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hotline_deadline_actions_message_id"), ["message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("hotline_deadline_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotline_deadline_actions_message_id"))

    op.drop_table("hotline_deadline_actions")
