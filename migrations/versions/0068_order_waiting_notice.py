"""Notifications: one notice per desk member and new order waiting for a person

A new order to review or to approve tells the desk once (issue 58.3). The
partial unique index holds that even when two workers take the same intake, or
a Fillout intake's own notice meets the desk's.

Revision ID: 0068_order_waiting_notice
Revises: 0067_order_desk_indexes
Create Date: 2026-11-28 17:55:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0068_order_waiting_notice"
down_revision = "0067_order_desk_indexes"
branch_labels = None
depends_on = None

ORDER_WAITING_NOTICE = (
    "source_table = 'orders' "
    "AND notification_type IN ('order_waiting', 'order_intake_received')"
)


def upgrade():
    # Rows from before (a Fillout notice made twice) would break the index: keep the first.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DELETE FROM notifications a USING notifications b "
            "WHERE a.source_table = 'orders' AND b.source_table = 'orders' "
            "AND a.notification_type IN ('order_waiting', 'order_intake_received') "
            "AND b.notification_type IN ('order_waiting', 'order_intake_received') "
            "AND a.user_id = b.user_id AND a.source_record_id = b.source_record_id "
            "AND (a.created_at, a.id::text) > (b.created_at, b.id::text)"
        )
    op.create_index(
        "uq_notifications_order_waiting",
        "notifications",
        ["user_id", "source_record_id"],
        unique=True,
        sqlite_where=sa.text(ORDER_WAITING_NOTICE),
        postgresql_where=sa.text(ORDER_WAITING_NOTICE),
    )


def downgrade():
    op.drop_index("uq_notifications_order_waiting", table_name="notifications")
