"""Where each technician's day starts and ends, and how far they go

Travel to the first visit and home from the last is measured from these places
(PDOK's label and coordinates for a postcode and house number); no end means back
to the start, no radius means anywhere.

Revision ID: 0075_technician_bases
Revises: 0074_travel_legs
Create Date: 2026-11-28 22:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0075_technician_bases"
down_revision = "0074_travel_legs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "technician_bases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("start_label", sa.String(length=200), nullable=False),
        sa.Column("start_postal_code", sa.String(length=7), nullable=False),
        sa.Column("start_house_number", sa.String(length=16), nullable=False),
        sa.Column("start_latitude", sa.Numeric(9, 6), nullable=False),
        sa.Column("start_longitude", sa.Numeric(9, 6), nullable=False),
        sa.Column("end_label", sa.String(length=200), nullable=True),
        sa.Column("end_postal_code", sa.String(length=7), nullable=True),
        sa.Column("end_house_number", sa.String(length=16), nullable=True),
        sa.Column("end_latitude", sa.Numeric(9, 6), nullable=True),
        sa.Column("end_longitude", sa.Numeric(9, 6), nullable=True),
        sa.Column("area_radius_km", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "area_radius_km IS NULL OR area_radius_km BETWEEN 1 AND 400",
            name=op.f("ck_technician_bases_technician_area_radius_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_technician_bases_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technician_bases")),
        sa.UniqueConstraint("user_id", name=op.f("uq_technician_bases_user_id")),
    )


def downgrade():
    op.drop_table("technician_bases")
