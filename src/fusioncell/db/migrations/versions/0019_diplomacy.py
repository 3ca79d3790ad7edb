"""diplomacy

The diplomatic track, issue 14: agreements and their versions (the first text and each
amendment, with the content hash every signatory signs), the signatures, the commitments
and milestones of the version in force with where each milestone's assessment stands, the
steps of assessments by client id, the parties' sealed comments, and meetings with their
participants, minutes, comments and signatures. Every row comes from signed diplomacy.*
entries.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 17:08:46.655466
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fusioncell.db.base

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "diplomacy_agreements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("proposed_by", sa.Uuid(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("proposed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("in_force_number", sa.Integer(), nullable=True),
        sa.Column("in_force_from", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposed_by"],
            ["members.id"],
            name=op.f("fk_diplomacy_agreements_proposed_by_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diplomacy_agreements")),
        sa.UniqueConstraint("log_index", name=op.f("uq_diplomacy_agreements_log_index")),
        sa.UniqueConstraint("number", name=op.f("uq_diplomacy_agreements_number")),
    )
    op.create_table(
        "diplomacy_steps",
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_diplomacy_steps_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_diplomacy_steps_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_diplomacy_steps")),
        sa.UniqueConstraint("member_id", "client_id", name="uq_diplomacy_steps_client"),
    )
    with op.batch_alter_table("diplomacy_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_diplomacy_steps_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "diplomacy_agreement_parties",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["diplomacy_agreements.id"],
            name=op.f("fk_diplomacy_agreement_parties_agreement_id_diplomacy_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_diplomacy_agreement_parties_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "agreement_id", "organisation_id", name=op.f("pk_diplomacy_agreement_parties")
        ),
    )
    with op.batch_alter_table("diplomacy_agreement_parties", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_diplomacy_agreement_parties_organisation_id"),
            ["organisation_id"],
            unique=False,
        )

    op.create_table(
        "diplomacy_commitments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("debtor_id", sa.Uuid(), nullable=False),
        sa.Column("beneficiaries", sa.JSON(), nullable=False),
        sa.Column("obligation", sa.Text(), nullable=False),
        sa.Column("ends_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["diplomacy_agreements.id"],
            name=op.f("fk_diplomacy_commitments_agreement_id_diplomacy_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["organisations.id"],
            name=op.f("fk_diplomacy_commitments_debtor_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diplomacy_commitments")),
        sa.UniqueConstraint("agreement_id", "key", name="uq_diplomacy_commitments"),
    )
    with op.batch_alter_table("diplomacy_commitments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_diplomacy_commitments_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_diplomacy_commitments_debtor_id"), ["debtor_id"], unique=False
        )

    op.create_table(
        "diplomacy_meetings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("agenda", sa.JSON(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("starts_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("requested_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("minutes_number", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.JSON(), nullable=True),
        sa.Column("minutes_hash", sa.String(length=64), nullable=True),
        sa.Column("drafted_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("agreed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("agreed_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["diplomacy_agreements.id"],
            name=op.f("fk_diplomacy_meetings_agreement_id_diplomacy_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_diplomacy_meetings_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["members.id"],
            name=op.f("fk_diplomacy_meetings_requested_by_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diplomacy_meetings")),
        sa.UniqueConstraint("agreed_index", name=op.f("uq_diplomacy_meetings_agreed_index")),
        sa.UniqueConstraint("log_index", name=op.f("uq_diplomacy_meetings_log_index")),
        sa.UniqueConstraint("number", name=op.f("uq_diplomacy_meetings_number")),
        sa.UniqueConstraint("requested_by", "client_id", name="uq_diplomacy_meetings_client"),
    )
    op.create_table(
        "diplomacy_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("proposed_by", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("signatories", sa.JSON(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("proposed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("in_force_index", sa.BigInteger(), nullable=True),
        sa.Column("in_force_from", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["diplomacy_agreements.id"],
            name=op.f("fk_diplomacy_versions_agreement_id_diplomacy_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"], ["members.id"], name=op.f("fk_diplomacy_versions_proposed_by_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diplomacy_versions")),
        sa.UniqueConstraint("agreement_id", "number", name="uq_diplomacy_versions_number"),
        sa.UniqueConstraint("in_force_index", name=op.f("uq_diplomacy_versions_in_force_index")),
        sa.UniqueConstraint("log_index", name=op.f("uq_diplomacy_versions_log_index")),
        sa.UniqueConstraint("proposed_by", "client_id", name="uq_diplomacy_versions_client"),
    )
    with op.batch_alter_table("diplomacy_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_diplomacy_versions_agreement_id"), ["agreement_id"], unique=False
        )

    op.create_table(
        "diplomacy_meeting_participants",
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["diplomacy_meetings.id"],
            name=op.f("fk_diplomacy_meeting_participants_meeting_id_diplomacy_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_diplomacy_meeting_participants_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "meeting_id", "organisation_id", name=op.f("pk_diplomacy_meeting_participants")
        ),
    )
    with op.batch_alter_table("diplomacy_meeting_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_diplomacy_meeting_participants_organisation_id"),
            ["organisation_id"],
            unique=False,
        )

    op.create_table(
        "diplomacy_milestones",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("commitment_id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("due_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=True),
        sa.Column("verification", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "comments_close_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("engine_result", sa.JSON(), nullable=True),
        sa.Column("assessed_by", sa.Uuid(), nullable=True),
        sa.Column("assessed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("assessed_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["diplomacy_agreements.id"],
            name=op.f("fk_diplomacy_milestones_agreement_id_diplomacy_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["assessed_by"],
            ["members.id"],
            name=op.f("fk_diplomacy_milestones_assessed_by_members"),
        ),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["diplomacy_commitments.id"],
            name=op.f("fk_diplomacy_milestones_commitment_id_diplomacy_commitments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diplomacy_milestones")),
        sa.UniqueConstraint("assessed_index", name=op.f("uq_diplomacy_milestones_assessed_index")),
        sa.UniqueConstraint("commitment_id", "key", name="uq_diplomacy_milestones"),
    )
    with op.batch_alter_table("diplomacy_milestones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_diplomacy_milestones_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_diplomacy_milestones_commitment_id"), ["commitment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_diplomacy_milestones_due_at"), ["due_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_diplomacy_milestones_state"), ["state"], unique=False)

    op.create_table(
        "diplomacy_minutes_comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("minutes_hash", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["diplomacy_meetings.id"],
            name=op.f("fk_diplomacy_minutes_comments_meeting_id_diplomacy_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_diplomacy_minutes_comments_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_diplomacy_minutes_comments_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diplomacy_minutes_comments")),
        sa.UniqueConstraint("log_index", name=op.f("uq_diplomacy_minutes_comments_log_index")),
    )
    with op.batch_alter_table("diplomacy_minutes_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_diplomacy_minutes_comments_meeting_id"), ["meeting_id"], unique=False
        )

    op.create_table(
        "diplomacy_minutes_signatures",
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("minutes_hash", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("signed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["diplomacy_meetings.id"],
            name=op.f("fk_diplomacy_minutes_signatures_meeting_id_diplomacy_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_diplomacy_minutes_signatures_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_diplomacy_minutes_signatures_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "meeting_id",
            "minutes_hash",
            "organisation_id",
            name=op.f("pk_diplomacy_minutes_signatures"),
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_diplomacy_minutes_signatures_log_index")),
    )
    op.create_table(
        "diplomacy_signatures",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("signed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_diplomacy_signatures_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_diplomacy_signatures_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["diplomacy_versions.id"],
            name=op.f("fk_diplomacy_signatures_version_id_diplomacy_versions"),
        ),
        sa.PrimaryKeyConstraint(
            "version_id", "organisation_id", name=op.f("pk_diplomacy_signatures")
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_diplomacy_signatures_log_index")),
    )
    op.create_table(
        "diplomacy_comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("milestone_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("sealed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revealed_index", sa.BigInteger(), nullable=True),
        sa.Column("revealed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_diplomacy_comments_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["diplomacy_milestones.id"],
            name=op.f("fk_diplomacy_comments_milestone_id_diplomacy_milestones"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_diplomacy_comments_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diplomacy_comments")),
        sa.UniqueConstraint("log_index", name=op.f("uq_diplomacy_comments_log_index")),
        sa.UniqueConstraint("milestone_id", "organisation_id", name="uq_diplomacy_comments_party"),
        sa.UniqueConstraint("revealed_index", name=op.f("uq_diplomacy_comments_revealed_index")),
    )
    with op.batch_alter_table("diplomacy_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_diplomacy_comments_milestone_id"), ["milestone_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("diplomacy_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diplomacy_comments_milestone_id"))

    op.drop_table("diplomacy_comments")
    op.drop_table("diplomacy_signatures")
    op.drop_table("diplomacy_minutes_signatures")
    with op.batch_alter_table("diplomacy_minutes_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diplomacy_minutes_comments_meeting_id"))

    op.drop_table("diplomacy_minutes_comments")
    with op.batch_alter_table("diplomacy_milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diplomacy_milestones_state"))
        batch_op.drop_index(batch_op.f("ix_diplomacy_milestones_due_at"))
        batch_op.drop_index(batch_op.f("ix_diplomacy_milestones_commitment_id"))
        batch_op.drop_index(batch_op.f("ix_diplomacy_milestones_agreement_id"))

    op.drop_table("diplomacy_milestones")
    with op.batch_alter_table("diplomacy_meeting_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diplomacy_meeting_participants_organisation_id"))

    op.drop_table("diplomacy_meeting_participants")
    with op.batch_alter_table("diplomacy_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diplomacy_versions_agreement_id"))

    op.drop_table("diplomacy_versions")
    op.drop_table("diplomacy_meetings")
    with op.batch_alter_table("diplomacy_commitments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diplomacy_commitments_debtor_id"))
        batch_op.drop_index(batch_op.f("ix_diplomacy_commitments_agreement_id"))

    op.drop_table("diplomacy_commitments")
    with op.batch_alter_table("diplomacy_agreement_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diplomacy_agreement_parties_organisation_id"))

    op.drop_table("diplomacy_agreement_parties")
    with op.batch_alter_table("diplomacy_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diplomacy_steps_subject_id"))

    op.drop_table("diplomacy_steps")
    op.drop_table("diplomacy_agreements")
