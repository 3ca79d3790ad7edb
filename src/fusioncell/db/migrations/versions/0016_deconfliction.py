"""deconfliction

Notifications (DESIGN R8-R10): a party's planned activity, the humanitarian organisation's
movement or static site, either's emergency; the parties each owes an acknowledgement of
receipt, the acknowledgements, amendments, the conflicts the latest check found, and the
escalations of overdue acknowledgements and FLASH justifications; the registry of protected
sites and communities with each signatory's signature, each party's no-strike lists as sent
and acknowledged, incidents, and early-warning alerts with their recipients and
acknowledgements. Every row comes from one signed deconfliction.* entry.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fusioncell.db.base

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deconfliction_notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("sender_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("flash", sa.Boolean(), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("buffer_m", sa.Integer(), nullable=False),
        sa.Column("starts_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("version_log_index", sa.BigInteger(), nullable=False),
        sa.Column("version_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("near_line", sa.Boolean(), nullable=False),
        sa.Column("required_lead_s", sa.BigInteger(), nullable=False),
        sa.Column("lead_time", sa.String(length=8), nullable=False),
        sa.Column("precedence", sa.String(length=16), nullable=False),
        sa.Column("ack_deadline", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ack_ladder", sa.JSON(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=True),
        sa.Column(
            "justification_due", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("justified_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("justification_log_index", sa.BigInteger(), nullable=True),
        sa.Column("conflict_status", sa.String(length=16), nullable=False),
        sa.Column("checked_log_index", sa.BigInteger(), nullable=False),
        sa.Column("closed", sa.String(length=16), nullable=True),
        sa.Column("closed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_log_index", sa.BigInteger(), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("submitted_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deconfliction_notifications_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["members.id"],
            name=op.f("fk_deconfliction_notifications_sender_id_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deconfliction_notifications")),
        sa.UniqueConstraint(
            "closed_log_index", name=op.f("uq_deconfliction_notifications_closed_log_index")
        ),
        sa.UniqueConstraint(
            "justification_log_index",
            name=op.f("uq_deconfliction_notifications_justification_log_index"),
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_deconfliction_notifications_log_index")),
        sa.UniqueConstraint("sender_id", "client_id", name="uq_deconfliction_notifications_client"),
        sa.UniqueConstraint(
            "version_log_index", name=op.f("uq_deconfliction_notifications_version_log_index")
        ),
    )
    with op.batch_alter_table("deconfliction_notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deconfliction_notifications_ack_deadline"),
            ["ack_deadline"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_deconfliction_notifications_ends_at"), ["ends_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deconfliction_notifications_organisation_id"),
            ["organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_deconfliction_notifications_starts_at"), ["starts_at"], unique=False
        )

    op.create_table(
        "deconfliction_acks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("acked_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_deconfliction_acks_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["deconfliction_notifications.id"],
            name=op.f("fk_deconfliction_acks_notification_id_deconfliction_notifications"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deconfliction_acks_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deconfliction_acks")),
        sa.UniqueConstraint("log_index", name=op.f("uq_deconfliction_acks_log_index")),
        sa.UniqueConstraint("member_id", "client_id", name="uq_deconfliction_acks_client"),
    )
    with op.batch_alter_table("deconfliction_acks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deconfliction_acks_notification_id"), ["notification_id"], unique=False
        )

    op.create_table(
        "deconfliction_amendments",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("amended_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_deconfliction_amendments_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["deconfliction_notifications.id"],
            name=op.f("fk_deconfliction_amendments_notification_id_deconfliction_notifications"),
        ),
        sa.PrimaryKeyConstraint(
            "notification_id", "version", name=op.f("pk_deconfliction_amendments")
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_deconfliction_amendments_log_index")),
    )
    op.create_table(
        "deconfliction_conflicts",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("other_kind", sa.String(length=16), nullable=False),
        sa.Column("other_id", sa.String(length=100), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("required_m", sa.Float(), nullable=False),
        sa.Column("overlap_from", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("overlap_until", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("noted_log_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["deconfliction_notifications.id"],
            name=op.f("fk_deconfliction_conflicts_notification_id_deconfliction_notifications"),
        ),
        sa.PrimaryKeyConstraint(
            "notification_id", "other_kind", "other_id", name=op.f("pk_deconfliction_conflicts")
        ),
    )
    op.create_table(
        "deconfliction_escalations",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("duty", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("due_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notify", sa.JSON(), nullable=False),
        sa.Column("written_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["deconfliction_notifications.id"],
            name=op.f("fk_deconfliction_escalations_notification_id_deconfliction_notifications"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deconfliction_escalations_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "notification_id",
            "duty",
            "version",
            "organisation_id",
            "step",
            name=op.f("pk_deconfliction_escalations"),
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_deconfliction_escalations_log_index")),
    )
    op.create_table(
        "deconfliction_recipients",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["deconfliction_notifications.id"],
            name=op.f("fk_deconfliction_recipients_notification_id_deconfliction_notifications"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deconfliction_recipients_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "notification_id", "organisation_id", name=op.f("pk_deconfliction_recipients")
        ),
    )
    with op.batch_alter_table("deconfliction_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deconfliction_recipients_organisation_id"),
            ["organisation_id"],
            unique=False,
        )
    _upgrade_protection()


def downgrade() -> None:
    _downgrade_protection()
    with op.batch_alter_table("deconfliction_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deconfliction_recipients_organisation_id"))

    op.drop_table("deconfliction_recipients")
    op.drop_table("deconfliction_escalations")
    op.drop_table("deconfliction_conflicts")
    op.drop_table("deconfliction_amendments")
    with op.batch_alter_table("deconfliction_acks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deconfliction_acks_notification_id"))

    op.drop_table("deconfliction_acks")
    with op.batch_alter_table("deconfliction_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deconfliction_notifications_starts_at"))
        batch_op.drop_index(batch_op.f("ix_deconfliction_notifications_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_deconfliction_notifications_ends_at"))
        batch_op.drop_index(batch_op.f("ix_deconfliction_notifications_ack_deadline"))

    op.drop_table("deconfliction_notifications")


def _upgrade_protection() -> None:
    """The registry of protected places, the no-strike lists, incidents and early-warning
    alerts with their recipients and acknowledgements."""
    op.create_table(
        "deconfliction_incidents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("reported_by", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("affects", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=100), nullable=False),
        sa.Column("target_name", sa.String(length=200), nullable=False),
        sa.Column("denied", sa.String(length=16), nullable=True),
        sa.Column("attributed_to", sa.Uuid(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("occurred_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("reported_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attributed_to"],
            ["organisations.id"],
            name=op.f("fk_deconfliction_incidents_attributed_to_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deconfliction_incidents_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"],
            ["members.id"],
            name=op.f("fk_deconfliction_incidents_reported_by_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deconfliction_incidents")),
        sa.UniqueConstraint("log_index", name=op.f("uq_deconfliction_incidents_log_index")),
        sa.UniqueConstraint("reported_by", "client_id", name="uq_deconfliction_incidents_client"),
    )
    with op.batch_alter_table("deconfliction_incidents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deconfliction_incidents_attributed_to"), ["attributed_to"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deconfliction_incidents_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deconfliction_incidents_reported_at"), ["reported_at"], unique=False
        )

    op.create_table(
        "deconfliction_no_strike_lists",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ack_due_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.Uuid(), nullable=True),
        sa.Column("ack_log_index", sa.BigInteger(), nullable=True),
        sa.Column("acknowledged_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"],
            ["members.id"],
            name=op.f("fk_deconfliction_no_strike_lists_acknowledged_by_members"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["organisations.id"],
            name=op.f("fk_deconfliction_no_strike_lists_party_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deconfliction_no_strike_lists")),
        sa.UniqueConstraint(
            "ack_log_index", name=op.f("uq_deconfliction_no_strike_lists_ack_log_index")
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_deconfliction_no_strike_lists_log_index")),
        sa.UniqueConstraint("party_id", "period", name="uq_deconfliction_no_strike_lists_period"),
    )
    with op.batch_alter_table("deconfliction_no_strike_lists", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deconfliction_no_strike_lists_party_id"), ["party_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deconfliction_no_strike_lists_sent_at"), ["sent_at"], unique=False
        )

    op.create_table(
        "deconfliction_protected_places",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("proposed_by", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("population", sa.String(length=200), nullable=True),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("buffer_m", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("proposed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("agreed_log_index", sa.BigInteger(), nullable=True),
        sa.Column("agreed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deconfliction_protected_places_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"],
            ["members.id"],
            name=op.f("fk_deconfliction_protected_places_proposed_by_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deconfliction_protected_places")),
        sa.UniqueConstraint(
            "agreed_log_index", name=op.f("uq_deconfliction_protected_places_agreed_log_index")
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_deconfliction_protected_places_log_index")),
        sa.UniqueConstraint("proposed_by", "client_id", name="uq_deconfliction_places_client"),
    )
    with op.batch_alter_table("deconfliction_protected_places", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deconfliction_protected_places_agreed_at"), ["agreed_at"], unique=False
        )

    op.create_table(
        "deconfliction_alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("occurred_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("precedence", sa.String(length=16), nullable=False),
        sa.Column("ack_deadline", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("raised_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["deconfliction_protected_places.id"],
            name=op.f("fk_deconfliction_alerts_community_id_deconfliction_protected_places"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deconfliction_alerts")),
        sa.UniqueConstraint("log_index", name=op.f("uq_deconfliction_alerts_log_index")),
    )
    with op.batch_alter_table("deconfliction_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deconfliction_alerts_community_id"), ["community_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deconfliction_alerts_raised_at"), ["raised_at"], unique=False
        )

    op.create_table(
        "deconfliction_place_signatures",
        sa.Column("place_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("signed_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_deconfliction_place_signatures_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deconfliction_place_signatures_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["deconfliction_protected_places.id"],
            name=op.f("fk_deconfliction_place_signatures_place_id_deconfliction_protected_places"),
        ),
        sa.PrimaryKeyConstraint(
            "place_id", "organisation_id", name=op.f("pk_deconfliction_place_signatures")
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_deconfliction_place_signatures_log_index")),
    )
    op.create_table(
        "deconfliction_alert_acks",
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("acked_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["deconfliction_alerts.id"],
            name=op.f("fk_deconfliction_alert_acks_alert_id_deconfliction_alerts"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_deconfliction_alert_acks_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deconfliction_alert_acks_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "alert_id", "organisation_id", name=op.f("pk_deconfliction_alert_acks")
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_deconfliction_alert_acks_log_index")),
    )
    op.create_table(
        "deconfliction_alert_recipients",
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("party", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["deconfliction_alerts.id"],
            name=op.f("fk_deconfliction_alert_recipients_alert_id_deconfliction_alerts"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deconfliction_alert_recipients_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "alert_id", "organisation_id", name=op.f("pk_deconfliction_alert_recipients")
        ),
    )
    with op.batch_alter_table("deconfliction_alert_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deconfliction_alert_recipients_organisation_id"),
            ["organisation_id"],
            unique=False,
        )


def _downgrade_protection() -> None:
    with op.batch_alter_table("deconfliction_alert_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deconfliction_alert_recipients_organisation_id"))

    op.drop_table("deconfliction_alert_recipients")
    op.drop_table("deconfliction_alert_acks")
    op.drop_table("deconfliction_place_signatures")
    with op.batch_alter_table("deconfliction_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deconfliction_alerts_raised_at"))
        batch_op.drop_index(batch_op.f("ix_deconfliction_alerts_community_id"))

    op.drop_table("deconfliction_alerts")
    with op.batch_alter_table("deconfliction_protected_places", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deconfliction_protected_places_agreed_at"))

    op.drop_table("deconfliction_protected_places")
    with op.batch_alter_table("deconfliction_no_strike_lists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deconfliction_no_strike_lists_sent_at"))
        batch_op.drop_index(batch_op.f("ix_deconfliction_no_strike_lists_party_id"))

    op.drop_table("deconfliction_no_strike_lists")
    with op.batch_alter_table("deconfliction_incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deconfliction_incidents_reported_at"))
        batch_op.drop_index(batch_op.f("ix_deconfliction_incidents_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_deconfliction_incidents_attributed_to"))

    op.drop_table("deconfliction_incidents")
    # ### end Alembic commands ###
