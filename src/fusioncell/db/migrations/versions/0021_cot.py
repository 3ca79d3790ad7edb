"""cot

The Cursor-on-Target gateway, issue 15: the TAK client certificates the cell's CA issued,
the party each CoT uid belongs to, and every event received with its raw XML. Every row
comes from signed cot.* entries.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 17:23:43.441560
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fusioncell.db.base

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cot_certificates",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("issued_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("not_after", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_log_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_cot_certificates_member_id_members")
        ),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_cot_certificates")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_cot_certificates_fingerprint")),
        sa.UniqueConstraint("log_index", name=op.f("uq_cot_certificates_log_index")),
    )
    with op.batch_alter_table("cot_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cot_certificates_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "cot_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("uid", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("became", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("event_time", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_cot_events_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_cot_events_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cot_events")),
        sa.UniqueConstraint("log_index", name=op.f("uq_cot_events_log_index")),
    )
    with op.batch_alter_table("cot_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cot_events_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cot_events_uid"), ["uid"], unique=False)

    op.create_table(
        "cot_uids",
        sa.Column("uid", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_cot_uids_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_cot_uids_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_cot_uids")),
    )


def downgrade() -> None:
    op.drop_table("cot_uids")
    with op.batch_alter_table("cot_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cot_events_uid"))
        batch_op.drop_index(batch_op.f("ix_cot_events_member_id"))
    op.drop_table("cot_events")
    with op.batch_alter_table("cot_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cot_certificates_member_id"))
    op.drop_table("cot_certificates")
