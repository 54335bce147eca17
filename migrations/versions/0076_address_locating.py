"""Addresses without coordinates are looked up again now and then

``location_checked_at`` says when PDOK was last asked; the partial index holds only
the addresses without coordinates (a few among a million), oldest question first.

Revision ID: 0076_address_locating
Revises: 0075_technician_bases
Create Date: 2026-11-28 22:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0076_address_locating"
down_revision = "0075_technician_bases"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "addresses", sa.Column("location_checked_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_addresses_unlocated",
        "addresses",
        ["location_checked_at"],
        postgresql_where=sa.text("latitude IS NULL"),
        sqlite_where=sa.text("latitude IS NULL"),
    )


def downgrade():
    op.drop_index("ix_addresses_unlocated", table_name="addresses")
    op.drop_column("addresses", "location_checked_at")
