"""one live-event bus

Every track's live events in one table with one id sequence (``events``), each pointing at
the log entry it announces. The hotline's events move there with their ids, so a client
resuming with ``Last-Event-ID`` misses nothing across the upgrade.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 05:00:00.000000
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

import fusioncell.db.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _column(name: str, type_: Any) -> sa.ColumnClause[Any]:
    return sa.column(name, type_)


_OLD = sa.table(
    "hotline_events",
    _column("id", sa.BigInteger()),
    _column("channel_id", sa.Uuid()),
    _column("kind", sa.String()),
    _column("message_id", sa.Uuid()),
    _column("payload", sa.JSON()),
    _column("created_at", fusioncell.db.base.UTCDateTime(timezone=True)),
)


def _index_of_entries(connection: sa.Connection) -> dict[str, Any]:
    """Where each hotline row was logged, to find the entry each old event announced."""
    messages = sa.table(
        "hotline_messages", _column("id", sa.Uuid()), _column("log_index", sa.BigInteger())
    )
    deliveries = sa.table(
        "hotline_deliveries",
        _column("message_id", sa.Uuid()),
        _column("organisation_id", sa.Uuid()),
        _column("log_index", sa.BigInteger()),
    )
    acks = sa.table(
        "hotline_acks",
        _column("message_id", sa.Uuid()),
        _column("organisation_id", sa.Uuid()),
        _column("log_index", sa.BigInteger()),
    )
    escalations = sa.table(
        "hotline_escalations",
        _column("message_id", sa.Uuid()),
        _column("organisation_id", sa.Uuid()),
        _column("step", sa.Integer()),
        _column("log_index", sa.BigInteger()),
    )
    acked: dict[tuple[uuid.UUID, uuid.UUID | None], list[int]] = defaultdict(list)
    for message_id, organisation_id, index in connection.execute(
        sa.select(acks.c.message_id, acks.c.organisation_id, acks.c.log_index).order_by(
            acks.c.log_index
        )
    ):
        acked[(message_id, organisation_id)].append(index)
    return {
        "message": dict(connection.execute(sa.select(messages.c.id, messages.c.log_index)).all()),
        "delivered": {
            (m, o): i
            for m, o, i in connection.execute(
                sa.select(
                    deliveries.c.message_id, deliveries.c.organisation_id, deliveries.c.log_index
                )
            )
        },
        "acknowledged": acked,
        "escalation": {
            (m, o, s): i
            for m, o, s, i in connection.execute(
                sa.select(
                    escalations.c.message_id,
                    escalations.c.organisation_id,
                    escalations.c.step,
                    escalations.c.log_index,
                )
            )
        },
    }


def _moved(connection: sa.Connection) -> list[dict[str, Any]]:
    logged = _index_of_entries(connection)
    acks_seen: dict[tuple[uuid.UUID, uuid.UUID | None], int] = defaultdict(int)
    rows = []
    for old in connection.execute(sa.select(_OLD).order_by(_OLD.c.id)).mappings():
        payload = old["payload"]
        if isinstance(payload, str):
            payload = json.loads(payload)
        message, kind = old["message_id"], old["kind"]
        organisation = uuid.UUID(payload["organisation"]) if "organisation" in payload else None
        if kind == "message":
            index = logged["message"].get(message)
        elif kind == "delivered":
            index = logged["delivered"].get((message, organisation))
        elif kind == "acknowledged":
            key = (message, organisation)
            found = logged["acknowledged"].get(key, [])
            index = found[acks_seen[key]] if acks_seen[key] < len(found) else None
            acks_seen[key] += 1
        else:
            index = logged["escalation"].get((message, organisation, payload.get("step")))
        if index is None:
            raise RuntimeError(f"hotline event {old['id']} ({kind}) has no log entry to point at")
        rows.append(
            {
                "id": old["id"],
                "track": "hotline",
                "kind": kind,
                "scope": str(old["channel_id"]),
                "subject": str(message),
                "log_index": index,
                "payload": payload,
                "created_at": old["created_at"],
            }
        )
    return rows


def upgrade() -> None:
    connection = op.get_bind()
    events = op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("track", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    rows = _moved(connection)
    if rows:
        op.bulk_insert(events, rows)
        if connection.dialect.name == "postgresql":
            following = max(row["id"] for row in rows) + 1
            op.execute(f"ALTER TABLE events ALTER COLUMN id RESTART WITH {following}")
    with op.batch_alter_table("hotline_events") as batch:
        batch.drop_index("ix_hotline_events_channel_id")
    op.drop_table("hotline_events")


def downgrade() -> None:
    op.create_table(
        "hotline_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", fusioncell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["hotline_channels.id"],
            name=op.f("fk_hotline_events_channel_id_hotline_channels"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["hotline_messages.id"],
            name=op.f("fk_hotline_events_message_id_hotline_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_events")),
    )
    with op.batch_alter_table("hotline_events") as batch:
        batch.create_index("ix_hotline_events_channel_id", ["channel_id"], unique=False)
    op.execute(
        "INSERT INTO hotline_events (id, channel_id, kind, message_id, payload, created_at) "
        "SELECT id, CAST(scope AS UUID), kind, CAST(subject AS UUID), payload, created_at "
        "FROM events WHERE track = 'hotline'"
        if op.get_bind().dialect.name == "postgresql"
        else "INSERT INTO hotline_events (id, channel_id, kind, message_id, payload, created_at) "
        "SELECT id, REPLACE(scope, '-', ''), kind, REPLACE(subject, '-', ''), payload, "
        "created_at FROM events WHERE track = 'hotline'"
    )
    op.drop_table("events")
