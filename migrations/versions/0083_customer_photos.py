"""The customer's photos before the visit (meter cupboard, main fuse, …)

A row per photo sent from the customer's page: the checklist item it answers,
where its (re-encoded, metadata-free) file and its thumbnail lie, and its review: received,
approved, or asked again with the planner's reason and whether the customer
was told. One photo per order and item is current; a replaced one is kept,
marked superseded.

Revision ID: 0083_customer_photos
Revises: 0082_visit_confirmations
Create Date: 2026-11-29 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0083_customer_photos"
down_revision = "0082_visit_confirmations"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customer_photos",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("thumbnail_path", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reviewed_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ask_reason", sa.Text(), nullable=True),
        sa.Column("ask_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ask_message_id", sa.Uuid(), nullable=True),
        sa.Column("ask_problem", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('received', 'approved', 'asked_again')",
            name=op.f("ck_customer_photos_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_customer_photos_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_user_id"],
            ["users.id"],
            name=op.f("fk_customer_photos_reviewed_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ask_message_id"],
            ["communication_message.id"],
            name=op.f("fk_customer_photos_ask_message_id_communication_message"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_photos")),
    )
    op.create_index(op.f("ix_customer_photos_order_id"), "customer_photos", ["order_id"])
    op.create_index(
        "uq_customer_photos_current",
        "customer_photos",
        ["order_id", "kind"],
        unique=True,
        postgresql_where=sa.text("superseded_at IS NULL"),
        sqlite_where=sa.text("superseded_at IS NULL"),
    )


def downgrade():
    op.drop_index("uq_customer_photos_current", table_name="customer_photos")
    op.drop_index(op.f("ix_customer_photos_order_id"), table_name="customer_photos")
    op.drop_table("customer_photos")
