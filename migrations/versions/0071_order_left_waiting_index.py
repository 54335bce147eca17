"""Status moves out of review or approval, by when: the order SLA on /analytics

The order SLA (``app.analytics.order_sla``) needs, for every order of a range,
when it first left ``new``/``quote_sent``. Probing each order's history cost half
a second for a year's 80,000 orders; with this partial index (one entry per such
move) the range's moves are one index range, joined to the orders by hash.

Revision ID: 0071_order_left_waiting_index
Revises: 0070_order_flagged_for_review
Create Date: 2026-11-28 19:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0071_order_left_waiting_index"
down_revision = "0070_order_flagged_for_review"
branch_labels = None
depends_on = None

# As app.platform.models.orders.LEFT_WAITING.
LEFT_WAITING = "from_status IN ('new', 'quote_sent') AND to_status NOT IN ('new', 'quote_sent')"


def upgrade():
    op.create_index(
        "ix_order_status_transitions_left_waiting",
        "order_status_transitions",
        ["created_at"],
        postgresql_include=["order_id"],
        postgresql_where=sa.text(LEFT_WAITING),
        sqlite_where=sa.text(LEFT_WAITING),
    )


def downgrade():
    op.drop_index("ix_order_status_transitions_left_waiting", table_name="order_status_transitions")
