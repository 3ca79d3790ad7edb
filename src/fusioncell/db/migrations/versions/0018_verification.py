"""verification

The verification (disputes) track, issue 13: cases (a complaint and where its workflow
stands), their signed steps by client id, the verifier's access requests and the incidents
of access denied (R12), the parties' sealed comments, the deadlines' escalations (R11), and
evidence files stored by SHA-256 with the organisations that stored them and the cases they
are attached to. Every row comes from signed verification.* entries.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 14:26:19.485123
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fusioncell.db.base

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification_evidence",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("exif", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_verification_evidence")),
    )
    op.create_table(
        "verification_cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("filed_by", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("against_id", sa.Uuid(), nullable=True),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("allegation", sa.Text(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("occurred_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("candidate", sa.JSON(), nullable=True),
        sa.Column("released_to", sa.JSON(), nullable=False),
        sa.Column("ladder", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("filed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("triage_due_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("triage", sa.String(length=16), nullable=True),
        sa.Column("triage_reasons", sa.Text(), nullable=True),
        sa.Column("duplicate_of", sa.Uuid(), nullable=True),
        sa.Column("triaged_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tasked_member_id", sa.Uuid(), nullable=True),
        sa.Column("tasked_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("on_site_due_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("visited_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("drafted_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("draft_outcome", sa.String(length=32), nullable=True),
        sa.Column("draft_party_id", sa.Uuid(), nullable=True),
        sa.Column("draft_text", sa.Text(), nullable=True),
        sa.Column(
            "comments_close_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("outcome_party_id", sa.Uuid(), nullable=True),
        sa.Column("finding_text", sa.Text(), nullable=True),
        sa.Column("issued_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("remedy", sa.Text(), nullable=True),
        sa.Column("remedy_party_id", sa.Uuid(), nullable=True),
        sa.Column("remedy_due_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "remedy_requested_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "remedy_verified_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("closed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["against_id"],
            ["organisations.id"],
            name=op.f("fk_verification_cases_against_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["draft_party_id"],
            ["organisations.id"],
            name=op.f("fk_verification_cases_draft_party_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["filed_by"], ["members.id"], name=op.f("fk_verification_cases_filed_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_verification_cases_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["outcome_party_id"],
            ["organisations.id"],
            name=op.f("fk_verification_cases_outcome_party_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["remedy_party_id"],
            ["organisations.id"],
            name=op.f("fk_verification_cases_remedy_party_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["tasked_member_id"],
            ["members.id"],
            name=op.f("fk_verification_cases_tasked_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_cases")),
        sa.UniqueConstraint("filed_by", "client_id", name="uq_verification_cases_client"),
        sa.UniqueConstraint("log_index", name=op.f("uq_verification_cases_log_index")),
        sa.UniqueConstraint("number", name=op.f("uq_verification_cases_number")),
    )
    with op.batch_alter_table("verification_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_cases_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_verification_cases_state"), ["state"], unique=False)

    op.create_table(
        "verification_evidence_holders",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("stored_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_verification_evidence_holders_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_verification_evidence_holders_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["verification_evidence.sha256"],
            name=op.f("fk_verification_evidence_holders_sha256_verification_evidence"),
        ),
        sa.PrimaryKeyConstraint(
            "sha256", "organisation_id", name=op.f("pk_verification_evidence_holders")
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_verification_evidence_holders_log_index")),
    )
    op.create_table(
        "verification_access_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("requested_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=True),
        sa.Column("answer_note", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.Uuid(), nullable=True),
        sa.Column("answer_index", sa.BigInteger(), nullable=True),
        sa.Column("answered_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by"],
            ["members.id"],
            name=op.f("fk_verification_access_requests_answered_by_members"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["verification_cases.id"],
            name=op.f("fk_verification_access_requests_case_id_verification_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["organisations.id"],
            name=op.f("fk_verification_access_requests_party_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["members.id"],
            name=op.f("fk_verification_access_requests_requested_by_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_access_requests")),
        sa.UniqueConstraint(
            "answer_index", name=op.f("uq_verification_access_requests_answer_index")
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_verification_access_requests_log_index")),
    )
    with op.batch_alter_table("verification_access_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_access_requests_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "verification_case_evidence",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["verification_cases.id"],
            name=op.f("fk_verification_case_evidence_case_id_verification_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["verification_evidence.sha256"],
            name=op.f("fk_verification_case_evidence_sha256_verification_evidence"),
        ),
        sa.PrimaryKeyConstraint("case_id", "sha256", name=op.f("pk_verification_case_evidence")),
    )
    with op.batch_alter_table("verification_case_evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_case_evidence_sha256"), ["sha256"], unique=False
        )

    op.create_table(
        "verification_comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
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
            ["case_id"],
            ["verification_cases.id"],
            name=op.f("fk_verification_comments_case_id_verification_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_verification_comments_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_verification_comments_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_comments")),
        sa.UniqueConstraint("case_id", "organisation_id", name="uq_verification_comments_party"),
        sa.UniqueConstraint("log_index", name=op.f("uq_verification_comments_log_index")),
        sa.UniqueConstraint("revealed_index", name=op.f("uq_verification_comments_revealed_index")),
    )
    with op.batch_alter_table("verification_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_comments_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "verification_escalations",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("duty", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.Uuid(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("due_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notify", sa.JSON(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("written_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["verification_cases.id"],
            name=op.f("fk_verification_escalations_case_id_verification_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_verification_escalations_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "case_id", "duty", "subject", "step", name=op.f("pk_verification_escalations")
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_verification_escalations_log_index")),
    )
    op.create_table(
        "verification_steps",
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["verification_cases.id"],
            name=op.f("fk_verification_steps_case_id_verification_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_verification_steps_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_verification_steps_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_verification_steps")),
        sa.UniqueConstraint("member_id", "client_id", name="uq_verification_steps_client"),
    )
    with op.batch_alter_table("verification_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_steps_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "verification_incidents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["verification_cases.id"],
            name=op.f("fk_verification_incidents_case_id_verification_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["organisations.id"],
            name=op.f("fk_verification_incidents_party_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["verification_access_requests.id"],
            name=op.f("fk_verification_incidents_request_id_verification_access_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_incidents")),
        sa.UniqueConstraint("log_index", name=op.f("uq_verification_incidents_log_index")),
        sa.UniqueConstraint("request_id", name=op.f("uq_verification_incidents_request_id")),
    )
    with op.batch_alter_table("verification_incidents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_incidents_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_verification_incidents_party_id"), ["party_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("verification_incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_incidents_party_id"))
        batch_op.drop_index(batch_op.f("ix_verification_incidents_case_id"))

    op.drop_table("verification_incidents")
    with op.batch_alter_table("verification_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_steps_case_id"))

    op.drop_table("verification_steps")
    op.drop_table("verification_escalations")
    with op.batch_alter_table("verification_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_comments_case_id"))

    op.drop_table("verification_comments")
    with op.batch_alter_table("verification_case_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_case_evidence_sha256"))

    op.drop_table("verification_case_evidence")
    with op.batch_alter_table("verification_access_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_access_requests_case_id"))

    op.drop_table("verification_access_requests")
    op.drop_table("verification_evidence_holders")
    with op.batch_alter_table("verification_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_cases_state"))
        batch_op.drop_index(batch_op.f("ix_verification_cases_organisation_id"))

    op.drop_table("verification_cases")
    op.drop_table("verification_evidence")
