"""organisation names per language

Each organisation may carry its name in other languages ({"ar": ..., "he": ...}), recorded in
its signed cell.organisation.created entry; pages show the one for their language and the
organisation's name for any other. Organisations from before have none: every page shows their
one name, as the log recorded it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: SQLite adds and drops a column in place (3.35 and later),
# where a batch would copy organisations and drop the table every member points at.


def upgrade() -> None:
    op.add_column(
        "organisations", sa.Column("names", sa.JSON(), server_default="{}", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("organisations", "names")
