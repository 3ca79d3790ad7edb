"""login throttle per client address

Failed logins count per (username, client address) and per client address, so that a guesser
slows only their own attempts. Rows from before count as attempts that named no address.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fusioncell.db.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("client_address", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.drop_constraint("pk_login_throttles", type_="primary")
        batch_op.create_primary_key("pk_login_throttles", ["username", "client_address"])
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.alter_column("client_address", server_default=None)
    op.create_table(
        "login_address_throttles",
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("client_address", name=op.f("pk_login_address_throttles")),
    )


def downgrade() -> None:
    op.drop_table("login_address_throttles")
    # One row per username again: the counts of its addresses add up, the latest lock holds.
    throttles = sa.table(
        "login_throttles",
        sa.column("username", sa.String()),
        sa.column("client_address", sa.String()),
        sa.column("failures", sa.Integer()),
        sa.column("unreported_failures", sa.Integer()),
        sa.column("locked_until", fusioncell.db.base.UTCDateTime(timezone=True)),
        sa.column("last_failure_at", fusioncell.db.base.UTCDateTime(timezone=True)),
    )
    merged = (
        op.get_bind()
        .execute(
            sa.select(
                throttles.c.username,
                sa.func.sum(throttles.c.failures),
                sa.func.sum(throttles.c.unreported_failures),
                sa.func.max(throttles.c.locked_until),
                sa.func.max(throttles.c.last_failure_at),
            ).group_by(throttles.c.username)
        )
        .all()
    )
    op.execute(throttles.delete())
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.drop_constraint("pk_login_throttles", type_="primary")
        batch_op.drop_column("client_address")
        batch_op.create_primary_key("pk_login_throttles", ["username"])
    if merged:
        op.bulk_insert(
            sa.table(
                "login_throttles",
                sa.column("username", sa.String()),
                sa.column("failures", sa.Integer()),
                sa.column("unreported_failures", sa.Integer()),
                sa.column("locked_until", fusioncell.db.base.UTCDateTime(timezone=True)),
                sa.column("last_failure_at", fusioncell.db.base.UTCDateTime(timezone=True)),
            ),
            [
                {
                    "username": username,
                    "failures": failures,
                    "unreported_failures": unreported,
                    "locked_until": locked_until,
                    "last_failure_at": last_failure_at,
                }
                for username, failures, unreported, locked_until, last_failure_at in merged
            ],
        )
