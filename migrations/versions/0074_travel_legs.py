"""Travel legs: driving times and distances between places, per day and provider

Planning asks a routing service (OSRM) for the minutes and metres between every
pair of a day's places; the answers are kept here so the same day's board, route
order and solver do not ask again. One row per provider, day, origin and
destination, unique, so two planners writing the same legs at once both succeed.
The table starts empty.

Revision ID: 0074_travel_legs
Revises: 0073_order_search_name_words
Create Date: 2026-11-30 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0074_travel_legs"
down_revision = "0073_order_search_name_words"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "travel_legs",
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("origin_key", sa.String(length=24), nullable=False),
        sa.Column("destination_key", sa.String(length=24), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("metres", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_travel_legs")),
        sa.UniqueConstraint(
            "provider",
            "day",
            "origin_key",
            "destination_key",
            name=op.f("uq_travel_legs_provider_day_origin_key_destination_key"),
        ),
    )


def downgrade():
    op.drop_table("travel_legs")
