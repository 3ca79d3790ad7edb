"""intel speed

TAXII pages of a party's submission collection read its object versions in the order they
were added: an index on (author organisation, date added, id) lets a page start where the
last ended and stop after the page's rows, instead of sorting all of the party's versions.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_intel_objects_author_added",
        "intel_objects",
        ["author_organisation_id", "date_added", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_intel_objects_author_added", table_name="intel_objects")
